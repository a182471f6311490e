//! `/api/v1/runs…`

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::approval::ApprovalRequest;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunStatus, RunSummary, Trigger,
    TriggerOutcome, TriggerRequest,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A request to start a run.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    /// The workflow to run. Required by `POST /runs`; under
    /// `POST /workflows/{name}/runs` leave it out (or repeat the name).
    /// Optional in Rust only so that one type reads both bodies.
    #[schema(example = "hello", value_type = String, required = true)]
    workflow: Option<String>,
    /// Where to run: the version active in this environment runs.
    #[schema(example = "dev", value_type = gantry_core::Environment)]
    environment: String,
    /// Values for the workflow's declared inputs; omitted ones take their defaults.
    #[serde(default)]
    #[schema(example = json!({"who": "world"}))]
    inputs: BTreeMap<String, Value>,
    /// "manual" when a person asked through a client (the CLI); default "api".
    #[schema(value_type = Option<RequestedTrigger>)]
    trigger: Option<String>,
    /// Why: shown to the approver where the environment requires approval.
    reason: Option<String>,
    /// Pin the version: the active one, or the canary's while a canary runs
    /// there (the run is then left out of the canary's analysis). Default:
    /// the version admission picks.
    #[schema(minimum = 1)]
    version: Option<u32>,
}

/// A request to start a run of the workflow the URL names: `TriggerBody`
/// without `workflow` (a body repeating the URL's name is still accepted,
/// any other is refused). Documentation only: the handler reads a
/// `TriggerBody`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct WorkflowTriggerBody {
    /// Where to run: the version active in this environment runs.
    #[schema(example = "dev", value_type = gantry_core::Environment)]
    environment: String,
    /// Values for the workflow's declared inputs; omitted ones take their defaults.
    #[serde(default)]
    #[schema(example = json!({"who": "world"}))]
    inputs: BTreeMap<String, Value>,
    /// "manual" when a person asked through a client (the CLI); default "api".
    #[schema(value_type = Option<RequestedTrigger>)]
    trigger: Option<String>,
    /// Why: shown to the approver where the environment requires approval.
    reason: Option<String>,
    /// Pin the version, as in `TriggerBody`.
    #[schema(minimum = 1)]
    version: Option<u32>,
}

/// The triggers a client may claim (`schedule` is the scheduler's own).
/// Documentation only: [`start`] parses the string itself so that a wrong
/// value gets a message saying which values work.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
#[schema(rename_all = "snake_case")]
enum RequestedTrigger {
    Api,
    Manual,
}

async fn start(
    plane: SharedControlPlane,
    ctx: RequestContext,
    workflow: String,
    body: TriggerBody,
) -> ApiResult<Response> {
    let trigger = match body.trigger.as_deref() {
        None | Some("api") => Trigger::Api,
        Some("manual") => Trigger::Manual,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "trigger {other:?} is not accepted here; use \"api\" or \"manual\""
            )));
        }
    };
    let request = TriggerRequest {
        workflow,
        environment: body.environment,
        inputs: body.inputs,
        reason: body.reason,
        version: body.version,
    };
    Ok(match plane.trigger_run(&ctx, request, trigger).await? {
        TriggerOutcome::Started { run } => (StatusCode::CREATED, Json(run)).into_response(),
        TriggerOutcome::AwaitingApproval { approval } => {
            (StatusCode::ACCEPTED, Json(approval)).into_response()
        }
    })
}

/// Starts a run of a workflow's active version in one environment.
///
/// `POST /runs` with `{"workflow", "environment", "inputs"}`.
#[utoipa::path(
    post,
    path = "/api/v1/runs",
    operation_id = "trigger_run",
    tag = "runs",
    request_body(content = TriggerBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The run was created (queued).", body = RunSummary),
        (status = 202, description = "The workflow requires approval in this environment: a request awaits another person's decision (see /approvals).", body = ApprovalRequest),
        (status = 400, description = "A malformed body, a missing `workflow`, an unknown environment or trigger.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not run workflows in this environment.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow.", body = ErrorEnvelope),
        (status = 409, description = "The workflow has no active version in this environment.", body = ErrorEnvelope),
        (status = 429, description = "Backpressure: the workflow or the environment has as many unfinished runs as allowed; nothing was started. Retry after `Retry-After` seconds.", body = ErrorEnvelope),
        (status = 503, description = "The server has as many unfinished runs as allowed (or the database is unavailable); retry after `Retry-After` seconds.", body = ErrorEnvelope),
        (status = 413, description = "The body is too large.", body = ErrorEnvelope),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorEnvelope),
        (status = 422, description = "The body does not fit `TriggerBody` (code `invalid`), or the inputs are invalid (code `unprocessable`; `error.details.problems` lists them).", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn trigger(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(mut body): ApiJson<TriggerBody>,
) -> ApiResult<Response> {
    let workflow = body
        .workflow
        .take()
        .ok_or_else(|| ApiError::bad_request("workflow: missing; name the workflow to run"))?;
    start(plane, ctx, workflow, body).await
}

/// Starts a run of this workflow's active version in one environment.
///
/// `POST /workflows/{name}/runs` with `{"environment", "inputs"}`.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{name}/runs",
    operation_id = "trigger_workflow_run",
    tag = "runs",
    params(("name" = String, Path, description = "The workflow's name.")),
    request_body(content = WorkflowTriggerBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The run was created (queued).", body = RunSummary),
        (status = 202, description = "The workflow requires approval in this environment: a request awaits another person's decision (see /approvals).", body = ApprovalRequest),
        (status = 400, description = "A malformed body, a `workflow` differing from the URL's, an unknown environment or trigger.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not run workflows in this environment.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow.", body = ErrorEnvelope),
        (status = 409, description = "The workflow has no active version in this environment.", body = ErrorEnvelope),
        (status = 429, description = "Backpressure: the workflow or the environment has as many unfinished runs as allowed; nothing was started. Retry after `Retry-After` seconds.", body = ErrorEnvelope),
        (status = 503, description = "The server has as many unfinished runs as allowed (or the database is unavailable); retry after `Retry-After` seconds.", body = ErrorEnvelope),
        (status = 413, description = "The body is too large.", body = ErrorEnvelope),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorEnvelope),
        (status = 422, description = "The body does not fit `TriggerBody` (code `invalid`), or the inputs are invalid (code `unprocessable`; `error.details.problems` lists them).", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn trigger_named(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<TriggerBody>,
) -> ApiResult<Response> {
    if body.workflow.as_ref().is_some_and(|w| *w != name) {
        return Err(ApiError::bad_request(
            "workflow in the body differs from the one in the URL; drop it from the body",
        ));
    }
    start(plane, ctx, name, body).await
}

/// Filters of the runs list; all optional, and an empty value means no filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
    /// Only runs in this environment.
    #[param(value_type = Option<crate::api::openapi::EnvironmentFilter>)]
    environment: Option<String>,
    /// Only runs in this status.
    #[param(value_type = Option<RunStatus>)]
    status: Option<String>,
    /// Only runs that need attention: failed or timed out, not yet re-run
    /// or dismissed (the dead letters).
    attention: Option<bool>,
    /// Only runs older than this run id: the previous page's `next_before`
    /// (empty: from the newest).
    #[param(
        pattern = "^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    before: Option<String>,
    /// Most runs to return: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Runs, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/runs",
    operation_id = "list_runs",
    tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of runs, newest first.", body = RunPage),
        (status = 400, description = "A malformed or unknown query parameter, an unknown status, or a `before` that is not a run id.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view runs.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<RunPage>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            let all: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!(
                "status: unknown status {s:?}; use one of {}",
                all.join(", ")
            ))
        })?),
    };
    let filter = RunFilter {
        workflow: q.workflow.filter(|w| !w.is_empty()),
        environment: q.environment.filter(|e| !e.is_empty()),
        status,
        attention: q.attention.unwrap_or(false),
        before: q.before.filter(|b| !b.is_empty()),
        limit: checked_limit(q.limit, RunFilter::MAX_LIMIT)?,
        visible_environments: None,
    };
    Ok(Json(plane.list_runs(&ctx, filter).await?))
}

/// One run with its inputs, steps and attempts.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}",
    operation_id = "get_run",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id (a UUID).")),
    responses(
        (status = 200, description = "The run.", body = RunDetail),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view runs.", body = ErrorEnvelope),
        (status = 404, description = "No such run.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(plane.run(&ctx, &id).await?))
}

/// A run's log lines, a page at a time; poll with `after` to tail.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}/logs",
    operation_id = "get_run_logs",
    tag = "runs",
    params(
        ("id" = String, Path, description = "The run's id (a UUID)."),
        LogQuery,
    ),
    responses(
        (status = 200, description = "A page of log lines.", body = LogPage),
        (status = 400, description = "A malformed or unknown query parameter.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view runs.", body = ErrorEnvelope),
        (status = 404, description = "No such run.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn logs(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    checked_limit(q.limit, LogQuery::MAX_LIMIT)?;
    Ok(Json(plane.run_logs(&ctx, &id, q).await?))
}

/// A list's `limit` as asked, or a 400 naming it when it is out of the
/// range the document declares (the port would otherwise clamp it
/// silently).
fn checked_limit(limit: Option<u32>, max: u32) -> Result<Option<u32>, ApiError> {
    match limit {
        Some(n) if !(1..=max).contains(&n) => Err(gantry_core::PortError::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        )
        .into()),
        _ => Ok(limit),
    }
}

/// Asks a queued or running run to stop; running steps are stopped.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/cancel",
    operation_id = "cancel_run",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id (a UUID).")),
    responses(
        (status = 200, description = "Cancellation requested; `cancel_requested` is true.", body = RunSummary),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not cancel runs in the run's environment.", body = ErrorEnvelope),
        (status = 404, description = "No such run.", body = ErrorEnvelope),
        (status = 409, description = "The run has already finished.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn cancel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunSummary>> {
    Ok(Json(plane.cancel_run(&ctx, &id).await?))
}
