//! Authentication at the edge: turns the session cookie into the
//! `RequestContext` every port call carries, and keeps anonymous visitors
//! out of pages. Deciding what a principal may do is not done here but in
//! the port (`plane/`).

pub mod break_glass;
pub mod client_cert;
pub mod client_ip;
pub mod lockout;
pub mod login_cookie;
pub mod oidc;
pub mod oidc_routes;
pub mod routes;
pub mod tokens;

use crate::http::error::{ApiError, ErrorCode, scim_error};
use crate::plane::principal_for;
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use gantry_core::port::SharedControlPlane;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use gantry_core::port::RequestContext;
use gantry_core::{Principal, PrincipalKind, UserId};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tower_sessions::Session;

/// What a signed-in session stores: who, and since when (for the absolute
/// lifetime); beside it only when its idle expiry last moved
/// (`SESSION_SEEN_KEY`). Never a secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: String,
    /// Unix seconds.
    pub signed_in_at: i64,
    /// Signed in through single sign-on (sign-out then also visits the
    /// provider's end-session endpoint).
    #[serde(default)]
    pub via_sso: bool,
    /// The account's session generation at sign-in; once disabling the
    /// account moves it on, this session no longer counts.
    #[serde(default)]
    pub epoch: i64,
    /// A break-glass session (a passkey sign-in): when it ends, unix
    /// seconds. Never renewed; activity doesn't move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_until: Option<i64>,
}

/// How a session began, for [`routes::start_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// The dev form.
    Dev,
    /// Single sign-on (sign-out then also visits the provider).
    Sso,
    /// A break-glass passkey: the session ends at this time.
    BreakGlass {
        until: chrono::DateTime<chrono::Utc>,
    },
}

/// What authentication needs from the application's state (`AppState`
/// hands it out through `FromRef`), so `auth/` never names `AppState`.
#[derive(Clone)]
pub struct AuthState {
    pub store: SharedStore,
    pub plane: SharedControlPlane,
    pub settings: Arc<AuthSettings>,
    /// Single sign-on, when configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// Session ages and token expiry are judged by this clock.
    pub clock: Arc<dyn Clock>,
}

pub struct AuthSettings {
    pub dev_mode: bool,
    /// Sessions end this long after sign-in, however active.
    pub max_lifetime: Duration,
    /// Sources that keep failing to authenticate wait.
    pub lockout: lockout::Lockout,
    /// Proxies whose X-Forwarded-For names the client (`--trusted-proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Client certificates' names → roles (`--client-cert-mapping`).
    pub client_cert_mapping: gantry_core::role_mapping::RoleMapping,
}

pub const SESSION_AUTH_KEY: &str = "auth";
/// When the session's idle expiry last moved (unix seconds).
const SESSION_SEEN_KEY: &str = "seen";
/// How often activity moves the idle expiry forward.
const SLIDE_EVERY_SECS: i64 = 60;
pub const SESSION_COOKIE: &str = "gantry_session";

/// The session cookie's name: `__Host-` prefixed when the public URL is
/// https (the browser then keeps it only if `Secure`, `Path=/` and bound
/// to this host, out of reach of sibling subdomains).
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gantry_session"
    } else {
        SESSION_COOKIE
    }
}

/// The SCIM 2.0 service provider's paths.
pub fn is_scim(path: &str) -> bool {
    path == "/scim/v2" || path.starts_with("/scim/v2/")
}

/// Paths anyone may request. Server functions (`/ui/…`) are public here
/// because the port answers them with 401 itself. Of the REST API only its
/// OpenAPI document is public, by exact path. (Static assets and probes
/// are routed outside this middleware altogether.)
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in" | "/break-glass" | "/favicon.ico" | "/api/v1/openapi.json"
    ) || path.starts_with("/auth/")
        || path.starts_with("/ui/")
}

pub async fn resolve_context(
    State(state): State<AuthState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let ip = source_ip(&req, &state.settings.trusted_proxies);
    let principal = match bearer_token(req.headers()) {
        Some(token) => {
            match bearer_principal(&state, request_context(&req, None, ip), ip, &path, token).await
            {
                Err(refused) => return refused,
                // A SCIM token only provisions; anywhere else it is no
                // credential at all.
                Ok(p) if p.kind == PrincipalKind::ScimClient && !is_scim(&path) => {
                    return api_unauthenticated(
                        "this is a SCIM provisioning token: it is accepted on /scim/v2 only",
                    );
                }
                // Likewise a worker token only runs steps, and the
                // execution API has its own door (`api/exec.rs`).
                Ok(p) if p.kind == PrincipalKind::Worker => {
                    return api_unauthenticated(
                        "this is a worker token: it is accepted on the execution API (/exec/v1) only",
                    );
                }
                // And a metrics token only reads `GET /metrics`, which has
                // a door of its own (`resolve_metrics_scraper`).
                Ok(p) if p.kind == PrincipalKind::MetricsScraper => {
                    return api_unauthenticated(
                        "this is a metrics token: it is accepted on GET /metrics only",
                    );
                }
                Ok(p) => Some(p),
            }
        }
        None => match current_principal(&state, &session).await {
            Ok(Some(p)) => Some(p),
            // No session: the connection's client certificate, if any.
            Ok(None) => match req
                .extensions()
                .get::<crate::http::tls::ClientCertificate>()
                .cloned()
            {
                None => None,
                Some(certificate) => {
                    let caller = request_context(&req, None, ip);
                    match certificate_principal(&state, &certificate, caller, &path).await {
                        Ok(p) => p,
                        Err(refused) => return refused,
                    }
                }
            },
            Err(resp) => return resp,
        },
    };
    if principal.is_none() && is_scim(&path) {
        return unauthenticated(
            &path,
            "send Authorization: Bearer with a SCIM token (Admin → Service tokens)",
        );
    }
    // A CORS preflight never carries credentials (browsers send none); it
    // changes nothing, and the REST API's CORS layer (http/cors.rs), if
    // configured, answers it.
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key("access-control-request-method");
    if principal.is_none() && is_api && !is_public(&path) && !preflight {
        return api_unauthenticated(
            "send Authorization: Bearer TOKEN (a service token, or the bootstrap token printed at start-up)",
        );
    }
    if principal.is_none() && !is_public(&path) && !preflight {
        return if req.method() == Method::GET || req.method() == Method::HEAD {
            let target = req
                .uri()
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .to_owned();
            let next_param: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
            Redirect::to(&format!("/sign-in?next={next_param}")).into_response()
        } else {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "sign in to continue (/sign-in), then send this again",
            )
            .into_response()
        };
    }
    let ctx = request_context(&req, principal, ip);
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// The execution API's door (`/exec/v1`): a bearer token and nothing else
/// (no session cookie, so no session round trip per worker call). What the
/// principal may do there is the port's to decide (`Action::ExecuteSteps`).
pub async fn resolve_bearer_only(
    State(state): State<AuthState>,
    req: Request,
    next: Next,
) -> Response {
    bearer_door(
        &state,
        req,
        next,
        "send Authorization: Bearer with a worker token (gantry token create --worker)",
    )
    .await
}

/// `GET /metrics` on the main port: a bearer token and nothing else (a
/// session cookie is no credential here, so a browser can't read it
/// anonymously or by accident); the port lets only metrics tokens in
/// (`Action::ScrapeMetrics`).
pub async fn resolve_metrics_scraper(
    State(state): State<AuthState>,
    req: Request,
    next: Next,
) -> Response {
    bearer_door(
        &state,
        req,
        next,
        "send Authorization: Bearer with a metrics token (gantry token create --metrics)",
    )
    .await
}

/// Inbound webhooks' door (`/hooks`): it reads no credential at all (no
/// session, no bearer token); the port checks the delivery's signature.
/// The context only says where the request came from, for the record.
pub async fn resolve_anonymous(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = source_ip(&req, &state.settings.trusted_proxies);
    let ctx = request_context(&req, None, ip);
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// A door that reads a bearer token only; `missing` says which to send.
async fn bearer_door(state: &AuthState, mut req: Request, next: Next, missing: &str) -> Response {
    let ip = source_ip(&req, &state.settings.trusted_proxies);
    let Some(token) = bearer_token(req.headers()) else {
        return api_unauthenticated(missing);
    };
    let caller = request_context(&req, None, ip);
    let principal = match bearer_principal(state, caller, ip, req.uri().path(), token).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let ctx = request_context(&req, Some(principal), ip);
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// The live principal behind a bearer token, or the answer refusing it:
/// 401 for an unknown, revoked or expired token (on the audit record, and
/// counted toward the lockout); 503 when the database can't say. From an
/// address locked out by such failures a bad token still gets 401, saying
/// so, but no audit record each. A valid token is accepted whatever its
/// address did, so nobody behind the same NAT, proxy or CI runner can lock
/// good credentials out; and as the token is checked either way, a 429
/// would tell a guesser nothing a 401 doesn't while hiding the real
/// problem (a revoked token) from a legitimate client. (Tokens are 256
/// random bits, 33 characters at least for a chosen bootstrap token:
/// throttling guesses at them buys no safety. Sign-ins stay throttled with
/// 429.) (`caller` is the request's context without a principal, for the
/// record.)
async fn bearer_principal(
    state: &AuthState,
    caller: RequestContext,
    ip: Option<IpAddr>,
    path: &str,
    token: &str,
) -> Result<Principal, Response> {
    match tokens::principal_for_token(&state.store, token, state.clock.now()).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => {
            let reason = "the bearer token is unknown, revoked or expired";
            // Locked out: refused without a record each (a flood of bad
            // tokens must not flood the audit log).
            if let Some(wait) =
                ip.and_then(|ip| state.settings.lockout.retry_after(ip, Instant::now()))
            {
                crate::runtime::metrics::auth_failure("token");
                let secs = lockout::retry_after_secs(wait);
                return Err(unauthenticated(
                    path,
                    &format!(
                        "{reason} (this address failed too often: its failures are not audited \
                         one by one for the next {secs} s)"
                    ),
                ));
            }
            state
                .plane
                .record_rejected_credential(&caller, reason)
                .await;
            crate::runtime::metrics::auth_failure("token");
            if let Some(ip) = ip {
                state.settings.lockout.record_failure(ip, Instant::now());
            }
            Err(unauthenticated(path, reason))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not check a bearer token");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "database unavailable; try again shortly",
            )
            .into_response())
        }
    }
}

/// The principal of the connection's verified client certificate
/// (`client_cert.rs`); `None` on SCIM (provisioning knows SCIM tokens
/// only). A certificate no rule maps is refused with 401 on the REST API
/// (on the record, like a bad token); elsewhere it is simply no
/// credential, so its holder can still sign in. (`caller` is the request's
/// context without a principal, for the record.)
async fn certificate_principal(
    state: &AuthState,
    certificate: &crate::http::tls::ClientCertificate,
    caller: RequestContext,
    path: &str,
) -> Result<Option<Principal>, Response> {
    if is_scim(path) {
        return Ok(None);
    }
    if let Some(p) =
        client_cert::principal_for_certificate(&state.settings.client_cert_mapping, certificate)
    {
        return Ok(Some(p));
    }
    if !path.starts_with("/api/") || is_public(path) {
        return Ok(None);
    }
    let reason = format!(
        "the client certificate ({}) is not mapped to any role: add a [[client_cert_mapping]] \
         rule (--client-cert-mapping) for one of its names, or send Authorization: Bearer TOKEN",
        client_cert::describe(certificate)
    );
    state
        .plane
        .record_rejected_credential(&caller, &reason)
        .await;
    crate::runtime::metrics::auth_failure("client_cert");
    Err(api_unauthenticated(&reason))
}

/// The client's address: the peer's, or behind a trusted proxy the one it
/// forwarded for (`client_ip.rs`).
pub fn source_ip(req: &Request, trusted_proxies: &[ipnet::IpNet]) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| client_ip::client_ip(ci.0.ip(), req.headers(), trusted_proxies))
}

/// Who is calling (if known) and where from, for the port.
fn request_context(
    req: &Request,
    principal: Option<Principal>,
    ip: Option<IpAddr>,
) -> RequestContext {
    if let Some(p) = &principal {
        // Every log line of the request names who made it.
        tracing::Span::current().record("user", p.username.as_str());
    }
    // The trace this request is part of: the request span's when tracing
    // is on (the caller's trace if it sent one), else the caller's header.
    let trace_id = crate::runtime::telemetry::context::current_span_context()
        .map(|cx| cx.trace_id().to_string())
        .or_else(|| header_str(req.headers(), "traceparent").and_then(|v| trace_id_of(&v)));
    RequestContext {
        principal,
        request_id: header_str(req.headers(), "x-request-id").unwrap_or_default(),
        trace_id,
        source_ip: ip.map(|ip| ip.to_string()),
        user_agent: header_str(req.headers(), header::USER_AGENT.as_str()),
    }
}

/// The signed-in principal, `None` for anonymous or expired sessions.
async fn current_principal(
    state: &AuthState,
    session: &Session,
) -> Result<Option<Principal>, Response> {
    let auth: Option<SessionAuth> = session.get(SESSION_AUTH_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "session store unavailable; try again shortly",
        )
        .into_response()
    })?;
    let Some(auth) = auth else {
        return Ok(None);
    };
    let now = state.clock.now();
    let age = now.timestamp() - auth.signed_in_at;
    let break_glass_until = auth
        .break_glass_until
        .and_then(|until| chrono::DateTime::from_timestamp(until, 0));
    let past_break_glass =
        break_glass_until.is_some_and(|until| gantry_core::break_glass::expired(until, now));
    if age > i64::try_from(state.settings.max_lifetime.as_secs()).unwrap_or(i64::MAX)
        || past_break_glass
    {
        // Past the absolute lifetime (or a break-glass session's end): end
        // the session however active it is.
        let _ = session.flush().await;
        return Ok(None);
    }
    match principal_for(&state.store, &UserId(auth.user_id), Some(auth.epoch)).await {
        Ok(Some(p)) => {
            slide(session, state.clock.now().timestamp()).await;
            Ok(Some(Principal {
                // What step-up checks: when this session's sign-in happened.
                signed_in_at: chrono::DateTime::from_timestamp(auth.signed_in_at, 0),
                break_glass_until,
                ..p
            }))
        }
        Ok(None) => {
            let _ = session.flush().await;
            Ok(None)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load the signed-in user");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "database unavailable; try again shortly",
            )
            .into_response())
        }
    }
}

/// Moves a signed-in session's idle expiry forward, at most once a minute:
/// changing the session is what makes the session layer save it (with a
/// fresh expiry) and re-issue the cookie, and saving on every request was
/// a database write per page view. The idle timeout holds to the minute.
async fn slide(session: &Session, now: i64) {
    let seen: Option<i64> = session.get(SESSION_SEEN_KEY).await.ok().flatten();
    if slide_due(seen, now) {
        let _ = session.insert(SESSION_SEEN_KEY, now).await;
    }
}

/// A minute since the expiry last slid, either way: a clock stepped back
/// (a corrected host clock) must not stop the sliding until it catches up.
fn slide_due(seen: Option<i64>, now: i64) -> bool {
    seen.is_none_or(|seen| now.saturating_sub(seen).saturating_abs() >= SLIDE_EVERY_SECS)
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// 401 in the shape the path's clients read: a SCIM error on `/scim/v2`,
/// the API's JSON error elsewhere.
fn unauthenticated(path: &str, message: &str) -> Response {
    if is_scim(path) {
        scim_error(&gantry_core::scim::ScimError::unauthorized(message))
    } else {
        api_unauthenticated(message)
    }
}

fn api_unauthenticated(message: &str) -> Response {
    let mut resp = ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        message,
    )
    .into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    resp
}

/// The trace id of a W3C `traceparent` header (`00-TRACEID-SPANID-FLAGS`).
fn trace_id_of(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    let valid = trace.len() == 32
        && trace.bytes().all(|b| b.is_ascii_hexdigit())
        && trace.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_ascii_lowercase())
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_slides_once_a_minute_and_after_the_clock_steps_back() {
        assert!(slide_due(None, 1_000));
        assert!(!slide_due(Some(1_000), 1_000));
        assert!(!slide_due(Some(1_000), 1_059));
        assert!(slide_due(Some(1_000), 1_060));
        // Stepped back an hour: sliding goes on rather than stopping until
        // the clock is back past the time last seen.
        assert!(slide_due(Some(1_000 + 3_600), 1_000));
        assert!(!slide_due(Some(1_030), 1_000));
        assert!(slide_due(Some(i64::MAX), i64::MIN));
    }

    #[test]
    fn trace_ids_come_from_well_formed_traceparent_headers_only() {
        assert_eq!(
            trace_id_of("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_id_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id_of("garbage"), None);
        assert_eq!(trace_id_of("00-xyz-1-01"), None);
    }

    #[test]
    fn pages_are_private_unless_listed() {
        for public in ["/sign-in", "/break-glass", "/auth/break-glass", "/ui/shell"] {
            assert!(is_public(public), "{public}");
        }
        for private in ["/", "/runs", "/admin", "/sign-in-x", "/pkgs"] {
            assert!(!is_public(private), "{private}");
        }
    }

    #[test]
    fn only_the_openapi_document_is_public_in_the_api() {
        assert!(is_public("/api/v1/openapi.json"));
        for private in [
            "/api/v1/workflows",
            "/api/v1/runs",
            "/api/v1/openapi.json/",
            "/api/v1/openapi.jsonx",
            "/api/v1/openapi.yaml",
            "/api/v1//openapi.json",
            "/api/v2/openapi.json",
            "/api/v1/OPENAPI.JSON",
            "/api/",
            "/api/v1/",
        ] {
            assert!(!is_public(private), "{private}");
        }
    }
}
