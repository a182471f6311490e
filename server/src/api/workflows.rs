//! `/api/v1/workflows…`

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::{ApiBody, ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::spec::WorkflowSpec;
use gantry_core::workflow::{
    ActiveVersion, ApplyOutcome, VersionInfo, WorkflowDetail, WorkflowSummary,
};
use serde::{Deserialize, Serialize};

/// Every registered workflow with its active versions and last run.
#[utoipa::path(
    get,
    path = "/api/v1/workflows",
    operation_id = "list_workflows",
    tag = "workflows",
    responses(
        (status = 200, description = "Every workflow, by name.", body = Vec<WorkflowSummary>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view workflows.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<WorkflowSummary>>> {
    Ok(Json(plane.list_workflows(&ctx).await?))
}

/// What `POST /workflows` answers: the outcome and one line for people.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplyResponse {
    #[serde(flatten)]
    pub outcome: ApplyOutcome,
    /// E.g. "hello: created version 2 (active in dev)".
    pub message: String,
}

/// Registers a workflow spec as a new immutable version (active in the
/// first environment), or recognises it as identical to an existing one.
///
/// The body is the spec itself, as YAML or JSON (JSON is YAML; the
/// Content-Type is not needed to tell them apart), at most 1 MiB.
#[utoipa::path(
    post,
    path = "/api/v1/workflows",
    operation_id = "apply_workflow",
    tag = "workflows",
    request_body(
        description = "The workflow spec as text: YAML or JSON, UTF-8, at most 1 MiB.",
        content(
            (WorkflowSpec = "application/yaml", example = "name: hello\nsteps:\n  - id: greet\n    run: echo hello\n"),
            (WorkflowSpec = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "A new version was created.", body = ApplyResponse),
        (status = 200, description = "Identical to an existing version: nothing changed.", body = ApplyResponse),
        (status = 400, description = "The body is not UTF-8 text, or a field (`schedule`) is invalid.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not apply workflows.", body = ErrorEnvelope),
        (status = 413, description = "The spec is over the size limit.", body = ErrorEnvelope),
        (status = 422, description = "The spec is invalid; `error.details.problems` lists every problem with its path and line.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn apply(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiBody(body): ApiBody,
) -> ApiResult<Response> {
    let source = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the spec must be UTF-8 text (YAML or JSON)"))?;
    let outcome = plane.apply_workflow(&ctx, source).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = ApplyResponse {
        message: outcome.describe(),
        outcome,
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version to show; the latest when absent.
    version: Option<u32>,
}

/// One workflow: its versions, recent runs, and the spec of one version.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{name}",
    operation_id = "get_workflow",
    tag = "workflows",
    params(
        ("name" = String, Path, description = "The workflow's name."),
        VersionQuery,
    ),
    responses(
        (status = 200, description = "The workflow.", body = WorkflowDetail),
        (status = 400, description = "A malformed or unknown query parameter.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view workflows.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow, or no such version of it.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Response> {
    Ok(Json(plane.workflow(&ctx, &name, q.version).await?).into_response())
}

/// Every version of one workflow, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{name}/versions",
    operation_id = "list_workflow_versions",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name.")),
    responses(
        (status = 200, description = "The versions, newest first.", body = Vec<VersionInfo>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view workflows.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn versions(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<VersionInfo>>> {
    Ok(Json(plane.workflow(&ctx, &name, None).await?.versions))
}

/// Body of `PUT /workflows/{name}/schedule`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// The environment whose schedule to switch.
    #[schema(value_type = gantry_core::Environment)]
    environment: String,
    /// On or off. Turning it on starts at the next slot after now.
    enabled: bool,
}

/// Turns the workflow's cron schedule on or off in one environment.
#[utoipa::path(
    put,
    path = "/api/v1/workflows/{name}/schedule",
    operation_id = "set_schedule",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name.")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The environment's active version with its schedule state.", body = ActiveVersion),
        (status = 400, description = "A malformed body or an unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal is not an admin in that environment.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow.", body = ErrorEnvelope),
        (status = 409, description = "Not active in that environment, or the version has no schedule.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn set_schedule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> ApiResult<Json<ActiveVersion>> {
    Ok(Json(
        plane
            .set_schedule(&ctx, &name, &body.environment, body.enabled)
            .await?,
    ))
}
