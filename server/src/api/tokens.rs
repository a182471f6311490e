//! `/api/v1/me` and `/api/v1/tokens…`: who is calling, and service tokens.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use gantry_core::Me;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::token::{CreatedToken, NewToken, ServiceToken};

/// The caller: who they are and every role they hold per environment, with
/// what granted it (a group, a token, a seed).
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "get_me",
    tag = "identity",
    responses(
        (status = 200, description = "The signed-in person or the token's service account.", body = Me),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
    )
)]
pub async fn me(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Me>> {
    Ok(Json(plane.me(&ctx).await?))
}

/// Every service token, newest first; never a secret.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "list_tokens",
    tag = "identity",
    responses(
        (status = 200, description = "The tokens, revoked and expired ones included.", body = Vec<ServiceToken>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins manage tokens.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<ServiceToken>>> {
    Ok(Json(plane.list_tokens(&ctx).await?))
}

/// Creates a service token. The answer's `secret` is the only copy: it is
/// stored as a hash and never shown again.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "create_token",
    tag = "identity",
    request_body(content = NewToken, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; copy `secret` now. Sent with `Cache-Control: no-store`.", body = CreatedToken),
        (status = 400, description = "A bad name, role, environment or lifetime (the field is named).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or a role beyond the caller's own admin reach.", body = ErrorEnvelope),
        (status = 409, description = "A token of that name exists.", body = ErrorEnvelope),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorEnvelope),
        (status = 422, description = "The body does not fit `NewToken`.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn create(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(request): ApiJson<NewToken>,
) -> ApiResult<(
    StatusCode,
    [(header::HeaderName, HeaderValue); 1],
    Json<CreatedToken>,
)> {
    Ok((
        StatusCode::CREATED,
        // The answer holds the secret: no cache (browser, proxy) may keep it.
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(plane.create_token(&ctx, request).await?),
    ))
}

/// Revokes a token (by id or name); its next request is refused.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{token}",
    operation_id = "revoke_token",
    tag = "identity",
    params(("token" = String, Path, description = "The token's id or name.")),
    responses(
        (status = 200, description = "The revoked token (revoking twice is harmless).", body = ServiceToken),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins manage tokens.", body = ErrorEnvelope),
        (status = 404, description = "No such token.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(token): Path<String>,
) -> ApiResult<Json<ServiceToken>> {
    Ok(Json(plane.revoke_token(&ctx, &token).await?))
}
