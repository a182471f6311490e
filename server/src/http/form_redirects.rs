//! A form posted to a server function without JavaScript is answered with a
//! redirect back to the page it came from, which Leptos takes from the
//! `Referer` header, whatever origin it names. This keeps such redirects on
//! this site: a `Location` naming this server's own origin becomes its path,
//! and anything else that isn't a same-site path (`safe_next_path`) becomes
//! `/`.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use gantry_core::redirect::safe_next_path;

/// Where server functions live (`#[server(prefix = "/ui")]`).
const SERVER_FN_PREFIX: &str = "/ui/";

pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SERVER_FN_PREFIX) {
        return next.run(request).await;
    }
    let host = request.headers().get(header::HOST).cloned();
    let mut response = next.run(request).await;
    fix_location(response.headers_mut(), host.as_ref());
    response
}

fn fix_location(headers: &mut HeaderMap, host: Option<&HeaderValue>) {
    let Some(location) = headers.get(header::LOCATION) else {
        return;
    };
    let location = location.to_str().unwrap_or_default();
    let host = host.and_then(|h| h.to_str().ok());
    let safe = same_site_path(location, host);
    if safe != location
        && let Ok(value) = HeaderValue::from_str(safe)
    {
        headers.insert(header::LOCATION, value);
    }
}

/// `location` as a path on this site: an absolute URL on `host` gives its
/// path, a same-site path stays, anything else is `/`.
fn same_site_path<'a>(location: &'a str, host: Option<&str>) -> &'a str {
    let absolute = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"));
    let Some(rest) = absolute else {
        return safe_next_path(Some(location));
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let ours = host.is_some_and(|h| !h.is_empty() && authority.eq_ignore_ascii_case(h));
    if !ours {
        return "/";
    }
    if path.is_empty() || !path.starts_with('/') {
        return "/";
    }
    safe_next_path(Some(path))
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    const HOST: Option<&str> = Some("gantry.example:3000");

    #[test]
    fn our_own_origin_becomes_its_path() {
        assert_eq!(
            same_site_path("http://gantry.example:3000/runs?__err=x", HOST),
            "/runs?__err=x"
        );
        assert_eq!(same_site_path("https://GANTRY.example:3000", HOST), "/");
        assert_eq!(same_site_path("/workflows/a", HOST), "/workflows/a");
    }

    #[test]
    fn other_origins_and_tricks_go_home() {
        for bad in [
            "https://evil.example/phish",
            "http://gantry.example:3000.evil.example/",
            "http://gantry.example:3000@evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "http://gantry.example:3000//evil.example",
        ] {
            assert_eq!(same_site_path(bad, HOST), "/", "{bad}");
        }
        assert_eq!(same_site_path("http://gantry.example:3000/x", None), "/");
    }
}
