//! `GET /auth/login` sends the browser to the identity provider;
//! `GET /auth/callback` is where it comes back. A failed return never
//! answers 500: it goes back to the sign-in page with a readable message,
//! and is audited as a failed `session.sign_in`.

use super::AuthState;
use super::oidc::{Oidc, PendingLogin, SignInFailure};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gantry_core::port::RequestContext;
use gantry_core::redirect::safe_next_path;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;
use tower_sessions::Session;

/// How long a person may take at the provider.
const PENDING_LIFETIME_SECS: i64 = 600;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
    /// `1`: a step-up; the provider must authenticate the person afresh.
    pub step_up: Option<String>,
}

pub async fn login(
    State(state): State<AuthState>,
    Extension(ctx): Extension<RequestContext>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next_path(query.next.as_deref()).to_owned();
    let step_up = matches!(query.step_up.as_deref(), Some("1" | "true"));
    let Some(oidc) = state.oidc.clone() else {
        // Without single sign-on, a step-up is a fresh sign-in on the
        // sign-in page (dev mode's demo users).
        if step_up {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &next)
                .finish();
            return Redirect::to(&format!("/sign-in?{query}")).into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    };
    let (url, pending) = match oidc
        .begin(&next, state.clock.now().timestamp(), step_up)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            // The provider went away: keep checking in the background so
            // the sign-in page stops saying so once it's back.
            if !oidc.status().reachable() {
                oidc.keep_discovering();
            }
            return refused(&state, &ctx, &e, &next).await;
        }
    };
    // In a sealed cookie, not the session: an anonymous request must not
    // cost a database row.
    let cookie = match oidc.login_cookie().cookie(&pending) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "could not seal a sign-in attempt");
            return super::routes::back_to_sign_in(
                "could not start signing in; try again",
                Some(&next),
            );
        }
    };
    ([(SET_COOKIE, cookie)], Redirect::to(&url)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

pub async fn callback(
    State(state): State<AuthState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let clear = oidc.login_cookie().clear();
    let mut response = finish_callback(&state, &ctx, &oidc, &session, &headers, query).await;
    // One attempt, one answer: whatever happens, the attempt is used up,
    // so neither its state nor its code can be played again.
    response.headers_mut().append(SET_COOKIE, clear);
    response
}

async fn finish_callback(
    state: &AuthState,
    ctx: &RequestContext,
    oidc: &Oidc,
    session: &Session,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Response {
    let ip = super::routes::client_ip(ctx);
    if let Some(wait) = ip.and_then(|ip| state.settings.lockout.retry_after(ip, Instant::now())) {
        return super::routes::locked_out(wait);
    }
    let pending: Option<PendingLogin> = oidc.login_cookie().open(headers);
    let next = pending
        .as_ref()
        .map_or_else(|| "/".to_owned(), |p| p.next.clone());
    let identity = match verify_return(oidc, pending, query, state.clock.now()).await {
        Ok(identity) => identity,
        Err(e) => return refused(state, ctx, &e, &next).await,
    };
    let principal = match state.plane.oidc_sign_in(ctx, identity).await {
        Ok(p) => p,
        // The port has put this refusal on the record itself.
        Err(e) => {
            crate::runtime::metrics::auth_failure("oidc");
            if let Some(ip) = ip {
                state.settings.lockout.record_failure(ip, Instant::now());
            }
            return super::routes::back_to_sign_in(&e.to_string(), Some(&next));
        }
    };
    if let Err(resp) = super::routes::start_session(
        state,
        session,
        &principal,
        super::SessionKind::Sso,
        Some(&next),
    )
    .await
    {
        return resp;
    }
    Redirect::to(safe_next_path(Some(&next))).into_response()
}

async fn verify_return(
    oidc: &Oidc,
    pending: Option<PendingLogin>,
    query: CallbackQuery,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<gantry_core::VerifiedIdentity, SignInFailure> {
    if let Some(error) = query.error {
        let description = query
            .error_description
            .map(|d| format!(": {}", d.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        let error: String = error.chars().take(64).collect();
        return Err(SignInFailure(format!(
            "the identity provider did not sign you in ({error}{description})"
        )));
    }
    let Some(pending) = pending else {
        return Err(SignInFailure(
            "this sign-in attempt is unknown, was already used or expired; start again".into(),
        ));
    };
    if query.state.as_deref() != Some(pending.state.as_str()) {
        return Err(SignInFailure(
            "the answer from the identity provider does not match this browser's sign-in attempt (state); start again"
                .into(),
        ));
    }
    if now.timestamp() - pending.started_at > PENDING_LIFETIME_SECS {
        return Err(SignInFailure(
            "this sign-in attempt took too long; start again".into(),
        ));
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return Err(SignInFailure(
            "the identity provider sent no sign-in code; start again".into(),
        ));
    };
    oidc.finish(pending, code).await
}

/// Back to the sign-in page with the reason, on the record.
async fn refused(
    state: &AuthState,
    ctx: &RequestContext,
    e: &SignInFailure,
    next: &str,
) -> Response {
    tracing::info!(request_id = %ctx.request_id, reason = %e, "single sign-on refused");
    state.plane.record_failed_sign_in(ctx, &e.0).await;
    crate::runtime::metrics::auth_failure("oidc");
    if let Some(ip) = super::routes::client_ip(ctx) {
        state.settings.lockout.record_failure(ip, Instant::now());
    }
    super::routes::back_to_sign_in(&e.0, Some(next))
}

/// The provider's end-session URL for an SSO session, if it has one.
pub async fn end_session_url(oidc: Option<&Arc<Oidc>>) -> Option<String> {
    oidc?.end_session_url().await
}
