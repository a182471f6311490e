//! `/api/v1/retention`: how long runs, step logs and notification history
//! are kept, the database's size, what is due, and a purge now
//! (docs/privacy.md, "Retention"). Thin: each handler calls one
//! `RetentionPort` method.

use super::error::{ApiResult, ErrorEnvelope};
use axum::Json;
use axum::extract::{Extension, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::retention::{Purged, RetentionStatus};

/// The retention settings, the database's size on disk and what the next
/// purge would remove.
#[utoipa::path(
    get,
    path = "/api/v1/retention",
    operation_id = "get_retention",
    tag = "retention",
    responses(
        (status = 200, description = "Settings, size and what is due.", body = RetentionStatus),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Admins and auditors only.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<RetentionStatus>> {
    Ok(Json(plane.retention(&ctx).await?))
}

/// Purges what is due now, in batches, each audited (`retention.purge`)
/// with its counts; the audit log itself is never purged.
#[utoipa::path(
    post,
    path = "/api/v1/retention/purge",
    operation_id = "purge_retention",
    tag = "retention",
    responses(
        (status = 200, description = "What was removed.", body = Purged),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Needs admin in every environment.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn purge(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Purged>> {
    Ok(Json(plane.purge_now(&ctx).await?))
}
