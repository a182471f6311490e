//! `POST /admin/tokens`: the create-token form posted without JavaScript.
//!
//! A server function would answer a plain form post with a redirect, and
//! the new secret may travel neither in a URL nor in a cookie or the
//! session, so this route calls the port itself and answers `200` with the
//! tokens page rendered around the outcome: the secret shown once, or the
//! form again with the problem. The answer is never cached.

use super::plain_form::{read, render, status_of};
use crate::state::AppState;
use app::api::{PlainCreate, token_request_from_form};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::response::Response;

pub async fn create(State(state): State<AppState>, req: Request) -> Response {
    let (parts, pairs, ctx) = match read(req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let request = token_request_from_form(&pairs);
    let result = state
        .plane
        .create_token(&ctx, request.clone())
        .await
        .map_err(AppError::from);
    let status = status_of(&result);
    // The tokens page, with the secret shown once or the form again with
    // the problem; a page that failed to load for its own reason (403 for
    // non-admins) keeps that status.
    render(state, parts, PlainCreate { request, result }, status).await
}
