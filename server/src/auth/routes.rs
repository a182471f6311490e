//! Plain HTML form endpoints that start and end sessions. They work without
//! JavaScript; single sign-on adds its own routes beside them.

use super::AuthState;
use super::{SESSION_AUTH_KEY, SessionAuth};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use gantry_core::PortError;
use gantry_core::port::RequestContext;
use gantry_core::redirect::safe_next_path;
use serde::Deserialize;
use std::time::Instant;
use tower_sessions::Session;

#[derive(Debug, Deserialize)]
pub struct DevSignInForm {
    pub username: String,
    pub next: Option<String>,
}

pub async fn dev_sign_in(
    State(state): State<AuthState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
    Form(form): Form<DevSignInForm>,
) -> Response {
    let ip = client_ip(&ctx);
    if let Some(wait) = ip.and_then(|ip| state.settings.lockout.retry_after(ip, Instant::now())) {
        return locked_out(wait);
    }
    let principal = match state.plane.dev_sign_in(&ctx, &form.username).await {
        Ok(p) => p,
        Err(PortError::NotFound { .. }) if !state.settings.dev_mode => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => {
            crate::runtime::metrics::auth_failure("dev");
            if let Some(ip) = ip {
                state.settings.lockout.record_failure(ip, Instant::now());
            }
            return back_to_sign_in(&e.to_string(), form.next.as_deref());
        }
    };
    if let Err(resp) = start_session(
        &state,
        &session,
        &principal,
        super::SessionKind::Dev,
        form.next.as_deref(),
    )
    .await
    {
        return resp;
    }
    Redirect::to(safe_next_path(form.next.as_deref())).into_response()
}

pub async fn sign_out(
    State(state): State<AuthState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
) -> Response {
    let via_sso = matches!(
        session.get::<SessionAuth>(SESSION_AUTH_KEY).await,
        Ok(Some(SessionAuth { via_sso: true, .. }))
    );
    // On the record first: if it can't be written, the session stays.
    if let Err(e) = state.plane.sign_out(&ctx).await {
        tracing::error!(error = %e, "could not record a sign-out");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "could not sign out; try again",
        )
            .into_response();
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not end a session");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "could not sign out; try again",
        )
            .into_response();
    }
    // Then out at the provider too, when it offers RP-initiated logout.
    let provider_logout = if via_sso {
        super::oidc_routes::end_session_url(state.oidc.as_ref()).await
    } else {
        None
    };
    Redirect::to(provider_logout.as_deref().unwrap_or("/sign-in")).into_response()
}

/// Signs `principal` in on this session (dev form or single sign-on alike);
/// on failure, the answer sending the person back to the sign-in page.
pub(crate) async fn start_session(
    state: &AuthState,
    session: &Session,
    principal: &gantry_core::Principal,
    kind: super::SessionKind,
    next: Option<&str>,
) -> Result<(), Response> {
    let started = async {
        // The generation this session belongs to; read after the sign-in
        // was recorded, so a disable in between ends this session too.
        let epoch = state
            .store
            .user_by_id(&principal.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the account is gone")?
            .session_epoch;
        // A fresh session id at sign-in defeats session fixation.
        session.cycle_id().await.map_err(|e| e.to_string())?;
        session
            .insert(
                SESSION_AUTH_KEY,
                SessionAuth {
                    user_id: principal.id.0.clone(),
                    signed_in_at: state.clock.now().timestamp(),
                    via_sso: kind == super::SessionKind::Sso,
                    epoch,
                    break_glass_until: match kind {
                        super::SessionKind::BreakGlass { until } => Some(until.timestamp()),
                        _ => None,
                    },
                },
            )
            .await
            .map_err(|e| e.to_string())
    };
    started.await.map_err(|e| {
        tracing::error!(error = %e, "could not start a session");
        back_to_sign_in("could not start a session; try again", next)
    })
}

/// The caller's address, as the edge put it in the context.
pub(crate) fn client_ip(ctx: &RequestContext) -> Option<std::net::IpAddr> {
    ctx.source_ip.as_deref().and_then(|ip| ip.parse().ok())
}

/// 429 for a source that failed too often: a small page, since this answers
/// a plain form post.
pub fn locked_out(wait: std::time::Duration) -> Response {
    let secs = super::lockout::retry_after_secs(wait);
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts</title>\
             <link rel=\"stylesheet\" href=\"/pkg/gantry.css\"></head><body><main>\
             <h1>Too many failed sign-ins</h1><p>Too many failed attempts came from your address. \
             Try again in {secs} seconds.</p><p><a href=\"/sign-in\">Back to sign-in</a></p></main></body></html>"
        )),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

pub(crate) fn back_to_sign_in(problem: &str, next: Option<&str>) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", problem)
        .append_pair("next", safe_next_path(next))
        .finish();
    Redirect::to(&format!("/sign-in?{query}")).into_response()
}
