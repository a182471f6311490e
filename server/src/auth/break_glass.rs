//! `POST /auth/break-glass`: the second half of a break-glass sign-in
//! (docs/break-glass.md). The `/break-glass` page begins the ceremony (a
//! server function), the browser's authenticator answers, and the page
//! posts the answer here as a form; a sign-in that passes starts a session
//! that ends at a fixed time and is never renewed. Failures count toward
//! the address's lockout like any failed sign-in.

use super::routes::{client_ip, locked_out, start_session};
use super::{AuthState, SessionKind};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use gantry_core::PortError;
use gantry_core::port::RequestContext;
use serde::Deserialize;
use std::time::Instant;
use tower_sessions::Session;

/// Where the page sends a break-glass attempt back to.
pub const PAGE: &str = "/break-glass";

#[derive(Debug, Deserialize)]
pub struct BreakGlassForm {
    pub ceremony: String,
    /// The browser's answer, `PublicKeyCredential.toJSON()` as JSON text.
    pub credential: String,
}

pub async fn finish(
    State(state): State<AuthState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
    Form(form): Form<BreakGlassForm>,
) -> Response {
    let ip = client_ip(&ctx);
    if let Some(wait) = ip.and_then(|ip| state.settings.lockout.retry_after(ip, Instant::now())) {
        return locked_out(wait);
    }
    let credential = match serde_json::from_str(&form.credential) {
        Ok(c) => c,
        Err(e) => {
            return back(&format!(
                "the authenticator's answer is not JSON ({e}): try again"
            ));
        }
    };
    let signed_in = match state
        .plane
        .finish_break_glass(&ctx, &form.ceremony, credential)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            if matches!(
                e,
                PortError::Forbidden { .. }
                    | PortError::Invalid { .. }
                    | PortError::NotFound { .. }
            ) {
                crate::runtime::metrics::auth_failure("passkey");
                if let Some(ip) = ip {
                    state.settings.lockout.record_failure(ip, Instant::now());
                }
            }
            return back(&e.to_string());
        }
    };
    let kind = SessionKind::BreakGlass {
        until: signed_in.until,
    };
    if let Err(resp) = start_session(&state, &session, &signed_in.principal, kind, None).await {
        return resp;
    }
    Redirect::to("/").into_response()
}

/// Back to the page, saying what went wrong.
fn back(problem: &str) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", problem)
        .finish();
    Redirect::to(&format!("{PAGE}?{query}")).into_response()
}
