//! `/api/v1/rate-limits`: the quotas in force per request class and the
//! overrides admins set per token or group (docs/security.md, "Rate
//! limits"). Thin: every handler calls one `RateLimitPort` method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::ratelimit::{OverrideAsk, RateLimitOverride, RateLimits};

/// The default quota of each request class, what each does when the
/// bucket store is unreachable, where buckets live, and every override.
#[utoipa::path(
    get,
    path = "/api/v1/rate-limits",
    operation_id = "get_rate_limits",
    tag = "rate-limits",
    responses(
        (status = 200, description = "Defaults and overrides.", body = RateLimits),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<RateLimits>> {
    Ok(Json(plane.rate_limits(&ctx).await?))
}

/// Sets a token's or a group's quota in one class (`off`: unlimited),
/// replacing an earlier override for the same subject and class. A token
/// override comes first; among groups the most generous applies.
#[utoipa::path(
    post,
    path = "/api/v1/rate-limits/overrides",
    operation_id = "set_rate_limit_override",
    tag = "rate-limits",
    request_body = OverrideAsk,
    responses(
        (status = 200, description = "The override in force.", body = RateLimitOverride),
        (status = 400, description = "A field to fix (`quota`, `subject`, `note`).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "A token subject names no service token.", body = ErrorEnvelope),
        (status = 422, description = "The body doesn't fit the schema (an unknown class, say).", body = ErrorEnvelope),
    )
)]
pub async fn set_override(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(ask): ApiJson<OverrideAsk>,
) -> ApiResult<Json<RateLimitOverride>> {
    Ok(Json(plane.set_rate_limit_override(&ctx, ask).await?))
}

/// Deletes an override: the default applies again.
#[utoipa::path(
    delete,
    path = "/api/v1/rate-limits/overrides/{id}",
    operation_id = "delete_rate_limit_override",
    tag = "rate-limits",
    params(("id" = String, Path, description = "The override's id.")),
    responses(
        (status = 200, description = "The override deleted.", body = RateLimitOverride),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such override.", body = ErrorEnvelope),
    )
)]
pub async fn delete_override(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<RateLimitOverride>> {
    Ok(Json(plane.delete_rate_limit_override(&ctx, &id).await?))
}
