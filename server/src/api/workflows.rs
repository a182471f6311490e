//! `/api/v1/workflows…`

use super::error::{ApiError, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::workflow::{VersionInfo, WorkflowSummary};
use serde::Deserialize;
use serde_json::json;

pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<WorkflowSummary>>> {
    Ok(Json(plane.list_workflows(&ctx).await?))
}

/// The body is the spec itself, YAML or JSON.
pub async fn apply(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| {
        ApiError::new(
            e.status(),
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid" },
            format!("could not read the request body: {}", e.body_text()),
        )
    })?;
    let source = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the spec must be UTF-8 text (YAML or JSON)"))?;
    let outcome = plane.apply_workflow(&ctx, source).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut body = serde_json::to_value(&outcome).unwrap_or_default();
    body["message"] = json!(outcome.describe());
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    version: Option<u32>,
}

pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    query: Result<Query<VersionQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(plane.workflow(&ctx, &name, q.version).await?).into_response())
}

pub async fn versions(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<VersionInfo>>> {
    Ok(Json(plane.workflow(&ctx, &name, None).await?.versions))
}
