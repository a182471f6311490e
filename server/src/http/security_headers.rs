//! Response headers every answer carries.

use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

/// `(name, value)` pairs set on every response unless a handler set them.
const HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    // Answers that aren't pages (JSON, files, redirects) may load nothing;
    // pages set their own policy with the response's nonce (app/src/csp.rs).
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    // Same-origin requests keep the full referrer: forms posted without
    // JavaScript are redirected back to it.
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    HEADERS
        .iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        })
        .collect()
}

/// `Strict-Transport-Security` when the public URL is https: browsers then
/// never try plain http for this host for a year (no `includeSubDomains`:
/// other services on sibling hosts are not Gantry's to decide for).
pub fn hsts(public_url: Option<&str>) -> Option<SetResponseHeaderLayer<HeaderValue>> {
    public_url
        .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
        .then(|| {
            SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static("strict-transport-security"),
                HeaderValue::from_static("max-age=31536000"),
            )
        })
}

/// A response that sets a cookie hands out a credential (the session id,
/// or a sign-in's state): no cache may keep it, whatever else it carries.
/// (Responses carrying other secrets, such as a new token, set `no-store`
/// themselves.)
pub async fn no_store_with_cookies(mut resp: Response) -> Response {
    if resp.headers().contains_key(SET_COOKIE) {
        resp.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
