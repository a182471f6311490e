//! Plain HTML form endpoints that start and end sessions. They work without
//! JavaScript; single sign-on adds its own routes beside them.

use super::{SESSION_AUTH_KEY, SessionAuth};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use gantry_core::PortError;
use gantry_core::port::RequestContext;
use gantry_core::redirect::safe_next_path;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Debug, Deserialize)]
pub struct DevSignInForm {
    pub username: String,
    pub next: Option<String>,
}

pub async fn dev_sign_in(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
    Form(form): Form<DevSignInForm>,
) -> Response {
    let principal = match state.plane.dev_sign_in(&ctx, &form.username).await {
        Ok(p) => p,
        Err(PortError::NotFound { .. }) if !state.auth.dev_mode => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => return back_to_sign_in(&e.to_string(), form.next.as_deref()),
    };
    // A fresh session id at sign-in defeats session fixation.
    let started = async {
        session.cycle_id().await?;
        session
            .insert(
                SESSION_AUTH_KEY,
                SessionAuth {
                    user_id: principal.id.0.clone(),
                    signed_in_at: chrono::Utc::now().timestamp(),
                },
            )
            .await
    };
    if let Err(e) = started.await {
        tracing::error!(error = %e, "could not start a session");
        return back_to_sign_in("could not start a session; try again", form.next.as_deref());
    }
    Redirect::to(safe_next_path(form.next.as_deref())).into_response()
}

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
) -> Response {
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
    Redirect::to("/sign-in").into_response()
}

fn back_to_sign_in(problem: &str, next: Option<&str>) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", problem)
        .append_pair("next", safe_next_path(next))
        .finish();
    Redirect::to(&format!("/sign-in?{query}")).into_response()
}
