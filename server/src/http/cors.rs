//! Cross-origin reads of the REST API. Without `--cors-allowed-origins`
//! nothing is allowed: no `Access-Control-Allow-*` header is ever sent, so
//! browsers keep other sites' scripts out. With it, the listed origins (or
//! `*`) may call `/api/v1` with a bearer token; never with credentials
//! (cookies), whatever the list says, so a listed site can't act with a
//! signed-in person's session.

use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// One `--cors-allowed-origins` entry: `*`, or `scheme://host[:port]`
/// without a path, lowercased. `Err` says what to write instead.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(text.to_owned());
    }
    let bad = |why: &str| {
        Err(format!(
            "{text:?} {why}; write an origin like https://tools.example.com (scheme, host, \
             optional port, no path), or *"
        ))
    };
    let Some((scheme, authority)) = text.split_once("://") else {
        return bad("has no scheme");
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return bad("is not http or https");
    }
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return bad("is not just a host and port");
    }
    Ok(text.to_ascii_lowercase())
}

/// The layer for `/api/v1`, when any origin is allowed.
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .allow_credentials(false)
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_a_scheme_and_an_authority_or_a_star() {
        assert_eq!(
            parse_origin(" https://Tools.Example.com ").unwrap(),
            "https://tools.example.com"
        );
        assert_eq!(
            parse_origin("http://localhost:5173").unwrap(),
            "http://localhost:5173"
        );
        assert_eq!(parse_origin("*").unwrap(), "*");
        for (bad, why) in [
            ("tools.example.com", "no scheme"),
            ("ftp://x", "not http"),
            ("https://x/path", "host and port"),
            ("https://", "host and port"),
            ("https://u@x", "host and port"),
        ] {
            let e = parse_origin(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(layer(&[]).is_none());
        assert!(layer(&["*".into()]).is_some());
    }
}
