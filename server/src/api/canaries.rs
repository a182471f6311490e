//! `/api/v1/canaries…`: canary promotions (started by promotions into an
//! environment whose policy has a canary plan), their evaluations, and the
//! manual controls. Thin: every handler calls one `CanaryPort` method.

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::{ApiBody, ApiQuery, optional_json};
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::canary::{Canary, CanaryAct, CanaryControl, CanaryDetail};
use gantry_core::port::{CanaryFilter, RequestContext, SharedControlPlane};
use serde::Deserialize;

/// Filters of the canary list; all optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CanaryListQuery {
    /// Only canaries of this workflow.
    workflow: Option<String>,
    /// Only canaries in this environment.
    #[param(value_type = Option<crate::api::openapi::EnvironmentFilter>)]
    environment: Option<String>,
    /// Only running or paused ones.
    live: Option<bool>,
}

/// Canaries, newest first, in the environments the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/canaries",
    operation_id = "list_canaries",
    tag = "promotions",
    params(CanaryListQuery),
    responses(
        (status = 200, description = "Newest first.", body = Vec<Canary>),
        (status = 400, description = "A malformed query or an unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The caller may not see that environment.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<CanaryListQuery>,
) -> ApiResult<Json<Vec<Canary>>> {
    let filter = CanaryFilter {
        workflow: q.workflow.filter(|w| !w.is_empty()),
        environment: q.environment.filter(|e| !e.is_empty()),
        live: q.live.unwrap_or(false),
    };
    Ok(Json(plane.canaries(&ctx, filter).await?))
}

/// One canary with every change of its judgement, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/canaries/{id}",
    operation_id = "get_canary",
    tag = "promotions",
    params(("id" = String, Path, description = "The canary's id.")),
    responses(
        (status = 200, description = "The canary and its evaluations.", body = CanaryDetail),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The caller may not see its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such canary.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<CanaryDetail>> {
    Ok(Json(plane.canary(&ctx, &id).await?))
}

/// Pauses (stops advancing; a failure still rolls back), resumes, promotes
/// at once (approver), aborts (the policy's rollback role; weight 0, the
/// stable version stays) or clears the hold an automatic rollback left
/// (approver). Promote and abort need a `reason`.
#[utoipa::path(
    post,
    path = "/api/v1/canaries/{id}/{control}",
    operation_id = "control_canary",
    tag = "promotions",
    params(
        ("id" = String, Path, description = "The canary's id."),
        ("control" = String, Path, description = "pause, resume, promote, abort or clear-hold.", pattern = "^(pause|resume|promote|abort|clear-hold)$"),
    ),
    request_body(content = Option<CanaryAct>, content_type = "application/json"),
    responses(
        (status = 200, description = "Done; the canary as it is now.", body = Canary),
        (status = 400, description = "A malformed body, an unknown control, or a missing or over-long reason.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old for this environment.", body = ErrorEnvelope),
        (status = 403, description = "The caller's role may not do this here.", body = ErrorEnvelope),
        (status = 404, description = "No such canary.", body = ErrorEnvelope),
        (status = 409, description = "The canary is not in a state this applies to, or changed meanwhile.", body = ErrorEnvelope),
    )
)]
pub async fn control(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, control)): Path<(String, String)>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<Canary>> {
    let control = CanaryControl::parse(&control).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{control:?} is not a canary control; use pause, resume, promote, abort or clear-hold"
        ))
    })?;
    let act: CanaryAct = optional_json(&body, r#"{"reason": "…"}"#)?;
    Ok(Json(plane.control_canary(&ctx, &id, control, act).await?))
}
