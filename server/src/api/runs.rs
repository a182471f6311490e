//! `/api/v1/runs…`

use super::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunStatus, RunSummary, Trigger,
    TriggerRequest,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    workflow: Option<String>,
    environment: String,
    #[serde(default)]
    inputs: BTreeMap<String, Value>,
    /// "manual" when a person asked through a client (the CLI); default "api".
    trigger: Option<String>,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::new(e.status(), "invalid", e.body_text()))
}

async fn start(
    plane: SharedControlPlane,
    ctx: RequestContext,
    workflow: String,
    body: TriggerBody,
) -> ApiResult<(StatusCode, Json<RunSummary>)> {
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
    };
    let run = plane.trigger_run(&ctx, request, trigger).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// `POST /runs` with `{"workflow", "environment", "inputs"}`.
pub async fn trigger(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    body: Result<Json<TriggerBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RunSummary>)> {
    let mut body = json_body(body)?;
    let workflow = body
        .workflow
        .take()
        .ok_or_else(|| ApiError::bad_request("workflow: missing; name the workflow to run"))?;
    start(plane, ctx, workflow, body).await
}

/// `POST /workflows/{name}/runs` with `{"environment", "inputs"}`.
pub async fn trigger_named(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    body: Result<Json<TriggerBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RunSummary>)> {
    let body = json_body(body)?;
    if body.workflow.as_ref().is_some_and(|w| *w != name) {
        return Err(ApiError::bad_request(
            "workflow in the body differs from the one in the URL; drop it from the body",
        ));
    }
    start(plane, ctx, name, body).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    workflow: Option<String>,
    environment: Option<String>,
    status: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<RunPage>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            let all: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!("status: unknown status {s:?}; use one of {}", all.join(", ")))
        })?),
    };
    let filter = RunFilter {
        workflow: q.workflow.filter(|w| !w.is_empty()),
        environment: q.environment.filter(|e| !e.is_empty()),
        status,
        before: q.before.filter(|b| !b.is_empty()),
        limit: q.limit,
    };
    Ok(Json(plane.list_runs(&ctx, filter).await?))
}

pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(plane.run(&ctx, &id).await?))
}

pub async fn logs(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> ApiResult<Json<LogPage>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(plane.run_logs(&ctx, &id, q).await?))
}

pub async fn cancel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunSummary>> {
    Ok(Json(plane.cancel_run(&ctx, &id).await?))
}
