//! Dead letters in the REST API: `POST /api/v1/runs/rerun` and
//! `POST /api/v1/runs/dismiss` act on failed runs in bulk (list them with
//! `GET /api/v1/runs?attention=true`). Thin: one `DeadLetterPort` call
//! each; the answer lists what happened to every run.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::run::attention::{BulkResult, DismissAsk, RerunAsk};

/// Re-runs failed runs: with the same version and inputs, with the version
/// active now, or from the failed step (the steps that succeeded keep
/// their results and outputs). Each re-run links to its original, which
/// leaves the Needs attention list; each run succeeds or fails on its own
/// (`ok`, `error`), so the answer is 200 whenever the request was good.
#[utoipa::path(
    post,
    path = "/api/v1/runs/rerun",
    operation_id = "rerun_runs",
    tag = "runs",
    request_body = RerunAsk,
    responses(
        (status = 200, description = "What happened to each run, in the order given.", body = [BulkResult]),
        (status = 400, description = "No runs, more than 100, or one listed twice (`runs`).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 422, description = "The body doesn't fit the schema (an unknown mode, say).", body = ErrorEnvelope),
    )
)]
pub async fn rerun(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(ask): ApiJson<RerunAsk>,
) -> ApiResult<Json<Vec<BulkResult>>> {
    Ok(Json(plane.rerun_runs(&ctx, ask).await?))
}

/// Takes failed runs off the Needs attention list, with a note saying why.
#[utoipa::path(
    post,
    path = "/api/v1/runs/dismiss",
    operation_id = "dismiss_runs",
    tag = "runs",
    request_body = DismissAsk,
    responses(
        (status = 200, description = "What happened to each run, in the order given.", body = [BulkResult]),
        (status = 400, description = "No runs, more than 100, one listed twice (`runs`), or no note (`note`).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 422, description = "The body doesn't fit the schema.", body = ErrorEnvelope),
    )
)]
pub async fn dismiss(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(ask): ApiJson<DismissAsk>,
) -> ApiResult<Json<Vec<BulkResult>>> {
    Ok(Json(plane.dismiss_runs(&ctx, ask).await?))
}
