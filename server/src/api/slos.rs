//! `/api/v1/slos` and `/api/v1/workflows/{name}/slos/{environment}`.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiQuery;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::slo::view::{SloStatus, SloSummary};
use serde::Deserialize;

/// Filters of the SLO list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this workflow's SLOs.
    workflow: Option<String>,
}

/// Every SLO: each workflow × environment whose active version declares
/// one there, with its SLI, budget left and burn-rate decision per
/// objective. Only environments the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/slos",
    operation_id = "list_slos",
    tag = "slos",
    params(ListQuery),
    responses(
        (status = 200, description = "Every SLO, by workflow, then environment in promotion order.", body = Vec<SloSummary>),
        (status = 400, description = "A malformed or unknown query parameter.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view workflows.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<SloSummary>>> {
    let workflow = q.workflow.filter(|w| !w.is_empty());
    Ok(Json(plane.list_slos(&ctx, workflow.as_deref()).await?))
}

/// One SLO: per objective the error budget, the burn rate in every window
/// with the alert pairs that hold, the hourly burn rate of the last 7 days,
/// and the runs that spent budget, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{name}/slos/{environment}",
    operation_id = "get_slo",
    tag = "slos",
    params(
        ("name" = String, Path, description = "The workflow's name."),
        ("environment" = gantry_core::Environment, Path, description = "The environment whose SLO to read."),
    ),
    responses(
        (status = 200, description = "The SLO's status.", body = SloStatus),
        (status = 400, description = "An unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal holds no role in this environment.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow, or its active version there declares no SLO for this environment.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((name, environment)): Path<(String, String)>,
) -> ApiResult<Json<SloStatus>> {
    Ok(Json(plane.slo_status(&ctx, &name, &environment).await?))
}
