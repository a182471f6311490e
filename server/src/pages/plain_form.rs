//! What the routes for forms posted without JavaScript share: reading the
//! form, and answering with the page it was posted to rendered around the
//! outcome (as for a GET, the outcome in context, never cached). A server
//! function would answer such a post with a redirect, which loses what was
//! typed and can't carry a secret shown once.

use crate::state::AppState;
use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use gantry_core::port::RequestContext;
use leptos::prelude::provide_context;

/// Far more than a rule, a channel, a silence or a token request needs.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The form's fields, the request's parts and the caller.
pub(super) async fn read(
    req: Request,
) -> Result<(Parts, Vec<(String, String)>, RequestContext), Response> {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response());
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let ctx = parts
        .extensions
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default();
    Ok((parts, pairs, ctx))
}

/// The status a refusal gives the page (200 when the port said yes).
pub(super) fn status_of(result: &Result<impl Sized, AppError>) -> StatusCode {
    match result {
        Err(AppError::Port(err)) => {
            StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
        }
        _ => StatusCode::OK,
    }
}
/// Renders the page the form was posted to, as for a GET, with `outcome`
/// in context; a page that failed to load for its own reason keeps its
/// status, otherwise the outcome's.
pub(super) async fn render<T: Clone + Send + Sync + 'static>(
    state: AppState,
    mut parts: Parts,
    outcome: T,
    status: StatusCode,
) -> Response {
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
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
