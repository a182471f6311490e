//! Response headers every answer carries.

use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// `(name, value)` pairs set on every response unless a handler set them.
const HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
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
