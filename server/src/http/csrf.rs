//! Cross-site request forgery, closed by the request's own provenance. A
//! state-changing request (any method but GET, HEAD, OPTIONS) that carries
//! the session cookie is refused with 403 unless the browser says it came
//! from this site: `Sec-Fetch-Site: same-origin` (or `none`, typed or
//! bookmarked by the person), or, from browsers that don't send fetch
//! metadata, an `Origin` that is this site's. `SameSite=Lax` alone doesn't
//! cover a sibling subdomain or a top-level POST navigation. Requests with
//! an `Authorization` header (service tokens, the CLI, CI) carry no ambient
//! credential and are left alone, as are requests without the cookie
//! (sign-in forms, signed webhooks), which act as nobody. A client
//! certificate (mutual TLS) is ambient like the cookie: a write over a
//! connection that presented one is refused when its headers say another
//! site sent it (a request with neither header comes from a tool, not a
//! browser, and is left alone).
//!
//! This site is the public URL's origin when one is configured, else the
//! origin the request's `Host` names.

use super::error::{ApiError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the check needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct CsrfSettings {
    /// `https://gantry.example.com` (scheme, host and port; no path).
    pub public_origin: Option<String>,
    /// The session cookie's name (`__Host-` prefixed on https).
    pub session_cookie: &'static str,
}

impl CsrfSettings {
    pub fn new(public_url: Option<&str>, session_cookie: &'static str) -> Arc<Self> {
        Arc::new(Self {
            public_origin: public_url.map(origin_of),
            session_cookie,
        })
    }
}

/// `https://h:8443/base` → `https://h:8443`.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

/// Why a request was refused, for the log and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    CrossSite(String),
}

/// The check, on the request's method and headers alone.
pub fn judge(settings: &CsrfSettings, method: &Method, headers: &HeaderMap) -> Verdict {
    judge_credentials(settings, method, headers, false)
}

/// [`judge`], for a request whose connection may also carry a client
/// certificate: browsers present one on their own, like a cookie, so a
/// write it authenticates must come from this site too.
pub fn judge_credentials(
    settings: &CsrfSettings,
    method: &Method,
    headers: &HeaderMap,
    client_certificate: bool,
) -> Verdict {
    let cookie = carries_cookie(headers, settings.session_cookie);
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(header::AUTHORIZATION)
        || !(client_certificate || cookie)
    {
        return Verdict::Allowed;
    }
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = text("sec-fetch-site");
    if matches!(fetch_site, Some("same-origin" | "none")) {
        return Verdict::Allowed;
    }
    let origin = text(header::ORIGIN.as_str());
    if let Some(origin) = origin
        && ours(settings, origin, text(header::HOST.as_str()))
    {
        return Verdict::Allowed;
    }
    // A certificate without a cookie, and neither header: not a browser
    // (every browser sends Origin on a cross-site write), but a tool that
    // presented its certificate on purpose.
    if !cookie && fetch_site.is_none() && origin.is_none() {
        return Verdict::Allowed;
    }
    Verdict::CrossSite(match (fetch_site, origin) {
        (Some(site), Some(origin)) => format!("Sec-Fetch-Site is {site} and Origin is {origin}"),
        (Some(site), None) => format!("Sec-Fetch-Site is {site} and there is no Origin"),
        (None, Some(origin)) => format!("Origin {origin} is not this site"),
        (None, None) => "neither Sec-Fetch-Site nor Origin says it came from this site".into(),
    })
}

fn carries_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim_start().split('=').next() == Some(name))
}

fn ours(settings: &CsrfSettings, origin: &str, host: Option<&str>) -> bool {
    let origin = origin.to_ascii_lowercase();
    match (&settings.public_origin, host) {
        (Some(public), _) => origin == *public,
        (None, Some(host)) => {
            let host = host.to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
        (None, None) => false,
    }
}

/// The middleware: see the module comment.
pub async fn same_site_writes(
    State(settings): State<Arc<CsrfSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let certificate = request
        .extensions()
        .get::<super::tls::ClientCertificate>()
        .is_some();
    match judge_credentials(&settings, request.method(), request.headers(), certificate) {
        Verdict::Allowed => next.run(request).await,
        Verdict::CrossSite(why) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), %why,
                "cross-site request with a session cookie refused");
            metrics::counter!("gantry_csrf_refusals_total").increment(1);
            ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                format!(
                    "refused: this request carries your session (or client certificate) but did \
                     not come from this site ({why}); send it from Gantry's own pages, or use a token"
                ),
            )
            .into_response()
        }
    }
}

#[cfg(test)]
#[path = "csrf_tests.rs"]
mod tests;
