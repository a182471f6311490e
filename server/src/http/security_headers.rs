//! Response headers every answer carries.

use axum::http::header::{CACHE_CONTROL, SET_COOKIE, STRICT_TRANSPORT_SECURITY};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use tower::util::MapResponseLayer;

/// `(name, value)` pairs set on every response unless a handler set them.
static HEADERS: [(HeaderName, &str); 6] = [
    (HeaderName::from_static("x-content-type-options"), "nosniff"),
    (HeaderName::from_static("x-frame-options"), "DENY"),
    // Answers that aren't pages (JSON, files, redirects) may load nothing;
    // pages set their own policy with the response's nonce (app/src/csp.rs).
    (
        HeaderName::from_static("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    // Same-origin requests keep the full referrer: forms posted without
    // JavaScript are redirected back to it.
    (HeaderName::from_static("referrer-policy"), "same-origin"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

/// Every answer's security headers in one layer: [`HEADERS`] unless the
/// handler set its own, `Strict-Transport-Security` when Gantry is served
/// over https (`hsts`), and `no-store` on answers that set a cookie. One
/// synchronous map over the headers: a layer per header cost a nested
/// future each, 3 µs a request together (`make bench`, edge section).
pub fn layer(
    hsts: bool,
) -> MapResponseLayer<impl Fn(Response) -> Response + Clone + Send + Sync + 'static> {
    MapResponseLayer::new(move |mut resp: Response| {
        apply(resp.headers_mut(), hsts);
        resp
    })
}

fn apply(headers: &mut HeaderMap, hsts: bool) {
    for (name, value) in &HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
    if hsts && !headers.contains_key(STRICT_TRANSPORT_SECURITY) {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    // A response that sets a cookie hands out a credential (the session
    // id, or a sign-in's state): no cache may keep it, whatever else it
    // carries. (Responses carrying other secrets, such as a new token, set
    // `no-store` themselves.)
    if headers.contains_key(SET_COOKIE) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// `Strict-Transport-Security` when the public URL is https: browsers then
/// never try plain http for this host for a year (no `includeSubDomains`:
/// other services on sibling hosts are not Gantry's to decide for).
const HSTS: &str = "max-age=31536000";

/// Whether answers go out over https, so HSTS belongs on them.
pub fn serves_https(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_added_unless_set_and_cookies_are_never_cached() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'self'"),
        );
        headers.insert(SET_COOKIE, HeaderValue::from_static("id=1"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
        apply(&mut headers, false);
        assert_eq!(headers["content-security-policy"], "default-src 'self'");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert!(!headers.contains_key(STRICT_TRANSPORT_SECURITY));
        let mut plain = HeaderMap::new();
        apply(&mut plain, true);
        assert_eq!(plain[STRICT_TRANSPORT_SECURITY], "max-age=31536000");
        assert_eq!(plain.len(), HEADERS.len() + 1, "{plain:?}");
        assert!(serves_https(Some("HTTPS://g.example")));
        assert!(!serves_https(Some("http://g.example")) && !serves_https(None));
    }
}
