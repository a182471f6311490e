//! `POST /admin/tokens`: the create-token form posted without JavaScript.
//!
//! A server function would answer a plain form post with a redirect, and
//! the new secret may travel neither in a URL nor in a cookie or the
//! session, so this route calls the port itself and answers `200` with the
//! tokens page rendered around the outcome: the secret shown once, or the
//! form again with the problem. The answer is never cached.

use crate::state::AppState;
use app::api::{PlainCreate, token_request_from_form};
use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use gantry_core::port::RequestContext;
use leptos::prelude::provide_context;

/// Far more than a name, a few dozen roles and a lifetime need.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub async fn create(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let request = token_request_from_form(&pairs);
    let ctx = parts
        .extensions
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default();
    let result = state
        .plane
        .create_token(&ctx, request.clone())
        .await
        .map_err(AppError::from);
    let refused = result.as_ref().err().and_then(|e| match e {
        AppError::Port(err) => StatusCode::from_u16(err.http_status()).ok(),
        AppError::Transport(_) => None,
    });
    let outcome = PlainCreate { request, result };

    // The page, rendered as for `GET /admin/tokens`, with the outcome in
    // context.
    parts.method = Method::GET;
    let page_request = Request::from_parts(parts, Body::empty());
    let options = state.leptos_options.clone();
    let plane = state.plane.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(plane.clone());
            provide_context(outcome.clone());
        },
        move || app::shell(options.clone()),
    );
    let mut response = render(page_request).await;
    // A page that failed to load for its own reason (403 for non-admins)
    // keeps that status; otherwise a refusal gives the page its status.
    if response.status() == StatusCode::OK
        && let Some(status) = refused
    {
        *response.status_mut() = status;
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
