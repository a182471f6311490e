//! `/api/v1/approvals…`: four-eyes requests, and deciding them.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::{ApiBody, ApiQuery, optional_json};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use gantry_core::approval::{ApprovalDecided, ApprovalDecision, ApprovalRequest};
use gantry_core::port::{RequestContext, SharedControlPlane};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: the inbox (pending, unexpired); `false`: the history; absent: all.
    pending: Option<bool>,
}

/// A decision's optional comment.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Shown with the decision and kept in the audit log.
    comment: Option<String>,
}

/// Approval requests, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/approvals",
    operation_id = "list_approvals",
    tag = "approvals",
    params(ListQuery),
    responses(
        (status = 200, description = "Requests, newest first (at most 200).", body = Vec<ApprovalRequest>),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal holds no dashboard role.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<ApprovalRequest>>> {
    Ok(Json(plane.list_approvals(&ctx, q.pending).await?))
}

/// One approval request.
#[utoipa::path(
    get,
    path = "/api/v1/approvals/{id}",
    operation_id = "get_approval",
    tag = "approvals",
    params(("id" = String, Path, description = "The request's id.")),
    responses(
        (status = 200, description = "The request.", body = ApprovalRequest),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal holds no dashboard role.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApprovalRequest>> {
    Ok(Json(plane.approval(&ctx, &id).await?))
}

async fn decide(
    plane: SharedControlPlane,
    ctx: RequestContext,
    id: String,
    approve: bool,
    body: Bytes,
) -> ApiResult<Json<ApprovalDecided>> {
    let body: DecisionBody = optional_json(&body, r#"{"comment": "…"}"#)?;
    let decision = ApprovalDecision {
        approve,
        comment: body.comment,
    };
    Ok(Json(plane.decide_approval(&ctx, &id, decision).await?))
}

/// Approves a pending request; its run starts at once, as the requester.
#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/approve",
    operation_id = "approve",
    tag = "approvals",
    params(("id" = String, Path, description = "The request's id.")),
    request_body(content = Option<DecisionBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Approved; `run` is the run it started.", body = ApprovalDecided),
        (status = 400, description = "A malformed body or an over-long comment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The requester themself, or no approver/admin role in the request's environment.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "Already decided, or expired.", body = ErrorEnvelope),
    )
)]
pub async fn approve(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<ApprovalDecided>> {
    decide(plane, ctx, id, true, body).await
}

/// Rejects a pending request; nothing runs.
#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/reject",
    operation_id = "reject",
    tag = "approvals",
    params(("id" = String, Path, description = "The request's id.")),
    request_body(content = Option<DecisionBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Rejected.", body = ApprovalDecided),
        (status = 400, description = "A malformed body or an over-long comment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The requester themself, or no approver/admin role in the request's environment.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "Already decided, or expired.", body = ErrorEnvelope),
    )
)]
pub async fn reject(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<ApprovalDecided>> {
    decide(plane, ctx, id, false, body).await
}
