//! `/api/v1/…freezes…`: freeze windows per environment, break-glass for one
//! promotion request, and the review of broken freezes
//! (docs/ops/freezes.md). Thin: every handler calls one `FreezePort` method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::freeze::{
    BreakAsk, EnvironmentFreezes, FreezeAsk, FreezeBreak, FreezeOverview, FreezeView, ReviewAsk,
};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::promotion::view::PromotionDetail;

/// Every visible environment's freeze windows, the freeze in force in each,
/// and the broken freezes awaiting review.
#[utoipa::path(
    get,
    path = "/api/v1/freezes",
    operation_id = "list_freezes",
    tag = "promotions",
    responses(
        (status = 200, description = "Per environment: its windows (each with `active_until` and `next_start`) and the freeze in force (`active`, with `until` the end of the chain of windows).", body = FreezeOverview),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    )
)]
pub async fn overview(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<FreezeOverview>> {
    Ok(Json(plane.freezes(&ctx).await?))
}

/// One environment's freeze windows and the freeze in force there.
#[utoipa::path(
    get,
    path = "/api/v1/environments/{env}/freezes",
    operation_id = "environment_freezes",
    tag = "promotions",
    params(("env" = gantry_core::Environment, Path, description = "The environment.")),
    responses(
        (status = 200, description = "Its windows and the freeze in force.", body = EnvironmentFreezes),
        (status = 400, description = "An unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in this environment.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(env): Path<String>,
) -> ApiResult<Json<EnvironmentFreezes>> {
    Ok(Json(plane.environment_freezes(&ctx, &env).await?))
}

/// Declares a freeze window: one-off (`kind: one_off`, `start`, `end`) or
/// recurring (`kind: recurring`, `cron`, `duration`, `timezone`), with a
/// reason. Admins of the environment.
#[utoipa::path(
    post,
    path = "/api/v1/environments/{env}/freezes",
    operation_id = "create_freeze",
    tag = "promotions",
    params(("env" = gantry_core::Environment, Path, description = "The environment.")),
    request_body = FreezeAsk,
    responses(
        (status = 201, description = "Declared.", body = FreezeView),
        (status = 400, description = "An unknown environment, or a field to fix (`details.field`: reason, end, cron, timezone or duration).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of this environment.", body = ErrorEnvelope),
        (status = 422, description = "A field missing or of the wrong type.", body = ErrorEnvelope),
    )
)]
pub async fn create(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(env): Path<String>,
    ApiJson(ask): ApiJson<FreezeAsk>,
) -> ApiResult<(StatusCode, Json<FreezeView>)> {
    let view = plane.create_freeze(&ctx, &env, ask).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Deletes a freeze window. Admins of the environment.
#[utoipa::path(
    delete,
    path = "/api/v1/environments/{env}/freezes/{id}",
    operation_id = "delete_freeze",
    tag = "promotions",
    params(
        ("env" = gantry_core::Environment, Path, description = "The environment."),
        ("id" = String, Path, description = "The window's id."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "An unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of this environment.", body = ErrorEnvelope),
        (status = 404, description = "No such window there.", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((env, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    plane.delete_freeze(&ctx, &env, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Break-glass: lets one pending promotion request through the freeze in
/// force in its target, with a reason. An admin of the target with a recent
/// sign-in; audited as `freeze.break`, shown on the ledger row, and left for
/// another admin to review. Promotes at once if nothing else is missing.
#[utoipa::path(
    post,
    path = "/api/v1/promotions/{id}/break-freeze",
    operation_id = "break_freeze",
    tag = "promotions",
    params(("id" = String, Path, description = "The promotion request's id.")),
    request_body = BreakAsk,
    responses(
        (status = 200, description = "Broken for this request; its detail now.", body = PromotionDetail),
        (status = 400, description = "No reason.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old (breaking a freeze always needs a recent one).", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of the target.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "The request isn't pending, no freeze holds, or it was broken for this request already.", body = ErrorEnvelope),
    )
)]
pub async fn break_freeze(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiJson(ask): ApiJson<BreakAsk>,
) -> ApiResult<Json<PromotionDetail>> {
    Ok(Json(plane.break_freeze(&ctx, &id, ask).await?))
}

/// Marks a broken freeze reviewed: an admin of its environment other than
/// the one who broke it.
#[utoipa::path(
    post,
    path = "/api/v1/freeze-breaks/{id}/review",
    operation_id = "review_freeze_break",
    tag = "promotions",
    params(("id" = String, Path, description = "The break's id.")),
    request_body = ReviewAsk,
    responses(
        (status = 200, description = "Reviewed.", body = FreezeBreak),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin there, or the admin who broke it.", body = ErrorEnvelope),
        (status = 404, description = "No such break.", body = ErrorEnvelope),
        (status = 409, description = "Reviewed already.", body = ErrorEnvelope),
    )
)]
pub async fn review(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiJson(ask): ApiJson<ReviewAsk>,
) -> ApiResult<Json<FreezeBreak>> {
    Ok(Json(plane.review_freeze_break(&ctx, &id, ask).await?))
}
