//! `/api/v1/webhooks`: inbound webhooks (docs/webhooks.md), managed by the
//! admins of each hook's environment. Thin: every handler calls one
//! `WebhookPort` method. Deliveries arrive at `POST /hooks/{hook}`
//! (`hooks.rs`), outside `/api/v1`.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::webhook::{CreatedWebhook, WebhookAsk, WebhookDetail, WebhookView};

/// The hooks of the environments the caller administers.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "Hooks, by name (never their secrets).", body = [WebhookView]),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin anywhere.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<WebhookView>>> {
    Ok(Json(plane.webhooks(&ctx).await?))
}

/// Creates a hook that starts `workflow` in `environment` when a signed
/// delivery arrives at `POST /hooks/{name}`. The answer holds its signing
/// secret: shown this once. Admins of the environment.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = WebhookAsk,
    responses(
        (status = 201, description = "Created, with its signing secret (shown once).", body = CreatedWebhook),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of the environment.", body = ErrorEnvelope),
        (status = 409, description = "The name is taken.", body = ErrorEnvelope),
        (status = 422, description = "Fields to fix, by path (`name`, `environment`, `workflow`, `inputs.<input>`, `events[i]`).", body = ErrorEnvelope),
        (status = 503, description = "No --alert-credentials-key-file to seal the secret with.", body = ErrorEnvelope),
    )
)]
pub async fn create(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(ask): ApiJson<WebhookAsk>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let created = plane.create_webhook(&ctx, ask).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One hook with its most recent deliveries (up to 50, newest first), each
/// with its outcome and the run it started.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{hook}",
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("hook" = String, Path, description = "The hook's name.")),
    responses(
        (status = 200, description = "The hook and its deliveries.", body = WebhookDetail),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such hook.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(hook): Path<String>,
) -> ApiResult<Json<WebhookDetail>> {
    Ok(Json(plane.webhook(&ctx, &hook).await?))
}

/// Deletes a hook and its deliveries.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{hook}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("hook" = String, Path, description = "The hook's name.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such hook.", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(hook): Path<String>,
) -> ApiResult<StatusCode> {
    plane.delete_webhook(&ctx, &hook).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new signing secret (in the answer, shown once); the current one
/// becomes the previous one and keeps verifying until it is retired.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{hook}/rotate",
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(("hook" = String, Path, description = "The hook's name.")),
    responses(
        (status = 200, description = "Rotated, with the new secret (shown once).", body = CreatedWebhook),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such hook.", body = ErrorEnvelope),
        (status = 409, description = "A previous secret is still active: retire it first.", body = ErrorEnvelope),
    )
)]
pub async fn rotate(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(hook): Path<String>,
) -> ApiResult<Json<CreatedWebhook>> {
    Ok(Json(plane.rotate_webhook_secret(&ctx, &hook).await?))
}

/// Stops the previous secret verifying deliveries.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{hook}/retire-previous",
    operation_id = "retire_previous_webhook_secret",
    tag = "webhooks",
    params(("hook" = String, Path, description = "The hook's name.")),
    responses(
        (status = 200, description = "Retired.", body = WebhookView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such hook.", body = ErrorEnvelope),
        (status = 409, description = "No previous secret is active.", body = ErrorEnvelope),
    )
)]
pub async fn retire_previous(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(hook): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(
        plane.retire_previous_webhook_secret(&ctx, &hook).await?,
    ))
}
