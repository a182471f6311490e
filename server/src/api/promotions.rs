//! `/api/v1/…` for promotion: requests into the next environment and
//! deciding them, checklist items, rollback, the deployment ledger, spec
//! diffs and environment policies. Thin: every handler calls one
//! `PromotionPort` method.

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::{ApiBody, ApiJson, ApiQuery, optional_json};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::diff::SpecDiff;
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::PromotionRequest;
use gantry_core::promotion::verification::Verification;
use gantry_core::promotion::view::{
    ChecklistMark, DeploymentFilter, PolicyView, PromotionAsk, PromotionDecision, PromotionDetail,
    PromotionFilter, PromotionOutcome, RollbackAsk, RollbackOutcome, VerificationFilter,
};
use serde::Deserialize;

/// Asks to promote a version into the next environment. Answers 200 with
/// the deployment when the target's policy requires nothing, 201 with the
/// pending request otherwise.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{name}/promotions",
    operation_id = "request_promotion",
    tag = "promotions",
    params(("name" = String, Path, description = "The workflow.")),
    request_body = PromotionAsk,
    responses(
        (status = 200, description = "Promoted at once (`outcome: promoted`).", body = PromotionOutcome),
        (status = 201, description = "Waiting for its checklist and approvals (`outcome: pending`).", body = PromotionOutcome),
        (status = 400, description = "A malformed body, an unknown environment or a missing reason.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old for this environment.", body = ErrorEnvelope),
        (status = 403, description = "The caller may not request promotions into this environment.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow or version.", body = ErrorEnvelope),
        (status = 409, description = "Skipping an environment (the message names the next one), nothing to promote, already active, a rolled-back version without `confirm_rolled_back`, or the same version already pending.", body = ErrorEnvelope),
    )
)]
pub async fn request(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(ask): ApiJson<PromotionAsk>,
) -> ApiResult<(StatusCode, Json<PromotionOutcome>)> {
    let outcome = plane.request_promotion(&ctx, &name, ask).await?;
    let status = match outcome {
        PromotionOutcome::Promoted { .. } => StatusCode::OK,
        PromotionOutcome::Pending { .. } => StatusCode::CREATED,
    };
    Ok((status, Json(outcome)))
}

/// Promotion requests, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/promotions",
    operation_id = "list_promotions",
    tag = "promotions",
    params(PromotionFilter),
    responses(
        (status = 200, description = "Requests into environments the caller may see, newest first (at most 500).", body = Vec<PromotionRequest>),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<PromotionFilter>,
) -> ApiResult<Json<Vec<PromotionRequest>>> {
    Ok(Json(plane.list_promotions(&ctx, filter).await?))
}

/// One request: its diff, live checklist, approvals and gate.
#[utoipa::path(
    get,
    path = "/api/v1/promotions/{id}",
    operation_id = "get_promotion",
    tag = "promotions",
    params(("id" = String, Path, description = "The request's id.")),
    responses(
        (status = 200, description = "The request, evaluated now.", body = PromotionDetail),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in the request's target environment.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<PromotionDetail>> {
    Ok(Json(plane.promotion(&ctx, &id).await?))
}

/// A decision's optional comment.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// Shown with the decision and kept in the audit log.
    comment: Option<String>,
}

async fn decide(
    plane: SharedControlPlane,
    ctx: RequestContext,
    id: String,
    decision: PromotionDecision,
    body: Bytes,
) -> ApiResult<Json<PromotionDetail>> {
    let body: CommentBody = optional_json(&body, r#"{"comment": "…"}"#)?;
    Ok(Json(
        plane
            .decide_promotion(&ctx, &id, decision, body.comment)
            .await?,
    ))
}

/// Approves a pending request, bound to the content and diff shown now;
/// the approval that completes the gate promotes at once.
#[utoipa::path(
    post,
    path = "/api/v1/promotions/{id}/approve",
    operation_id = "approve_promotion",
    tag = "promotions",
    params(("id" = String, Path, description = "The request's id.")),
    request_body(content = Option<CommentBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Approved (and promoted if the gate is now green).", body = PromotionDetail),
        (status = 400, description = "A malformed body or an over-long comment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old for this environment.", body = ErrorEnvelope),
        (status = 403, description = "The requester, an author of the version, or no approver/admin role in the target (the message says which).", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "Already decided, expired, or already approved by this person.", body = ErrorEnvelope),
    )
)]
pub async fn approve(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<PromotionDetail>> {
    decide(plane, ctx, id, PromotionDecision::Approve, body).await
}

/// Rejects a pending request.
#[utoipa::path(
    post,
    path = "/api/v1/promotions/{id}/reject",
    operation_id = "reject_promotion",
    tag = "promotions",
    params(("id" = String, Path, description = "The request's id.")),
    request_body(content = Option<CommentBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Rejected.", body = PromotionDetail),
        (status = 400, description = "A malformed body or an over-long comment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No approver/admin role in the target, or a party to the request.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "Already decided or expired.", body = ErrorEnvelope),
    )
)]
pub async fn reject(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<PromotionDetail>> {
    decide(plane, ctx, id, PromotionDecision::Reject, body).await
}

/// Withdraws a pending request (its requester, or an admin of the target).
#[utoipa::path(
    post,
    path = "/api/v1/promotions/{id}/cancel",
    operation_id = "cancel_promotion",
    tag = "promotions",
    params(("id" = String, Path, description = "The request's id.")),
    request_body(content = Option<CommentBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Cancelled.", body = PromotionDetail),
        (status = 400, description = "A malformed body or an over-long comment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Neither the requester nor an admin of the target.", body = ErrorEnvelope),
        (status = 404, description = "No such request.", body = ErrorEnvelope),
        (status = 409, description = "Already decided or expired.", body = ErrorEnvelope),
    )
)]
pub async fn cancel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResult<Json<PromotionDetail>> {
    decide(plane, ctx, id, PromotionDecision::Cancel, body).await
}

/// Ticks or unticks a manual checklist item, or acknowledges what the
/// diff adds (new HTTP hosts, new secret references).
#[utoipa::path(
    post,
    path = "/api/v1/promotions/{id}/checklist/{item}",
    operation_id = "mark_promotion_item",
    tag = "promotions",
    params(
        ("id" = String, Path, description = "The request's id."),
        ("item" = String, Path, description = "The checklist item's id."),
    ),
    request_body = ChecklistMark,
    responses(
        (status = 200, description = "Marked (and promoted if the gate is now green).", body = PromotionDetail),
        (status = 400, description = "A malformed body, or evidence missing where the item requires it.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The caller's role may not tick this item.", body = ErrorEnvelope),
        (status = 404, description = "No such request or item.", body = ErrorEnvelope),
        (status = 409, description = "An automatic item, or the request is decided.", body = ErrorEnvelope),
    )
)]
pub async fn mark(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, item)): Path<(String, String)>,
    ApiJson(mark): ApiJson<ChecklistMark>,
) -> ApiResult<Json<PromotionDetail>> {
    Ok(Json(
        plane.mark_checklist_item(&ctx, &id, &item, mark).await?,
    ))
}

/// Moves an environment back to the version active before (or a named
/// one that was active there), without a new approval.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{name}/rollback",
    operation_id = "roll_back",
    tag = "promotions",
    params(("name" = String, Path, description = "The workflow.")),
    request_body = RollbackAsk,
    responses(
        (status = 200, description = "Rolled back; the ledger row, and the runs cancelled on request.", body = RollbackOutcome),
        (status = 400, description = "A malformed body, an unknown environment or a missing reason.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old for this environment.", body = ErrorEnvelope),
        (status = 403, description = "The caller's role may not roll back here.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow.", body = ErrorEnvelope),
        (status = 409, description = "Nothing to roll back to, a version never active there, or the environment moved meanwhile.", body = ErrorEnvelope),
    )
)]
pub async fn roll_back(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(ask): ApiJson<RollbackAsk>,
) -> ApiResult<Json<RollbackOutcome>> {
    Ok(Json(plane.roll_back(&ctx, &name, ask).await?))
}

/// The deployment ledger: every move of every environment's pointer.
#[utoipa::path(
    get,
    path = "/api/v1/deployments",
    operation_id = "list_deployments",
    tag = "promotions",
    params(DeploymentFilter),
    responses(
        (status = 200, description = "Newest first; with `at`, the row in force at that moment per workflow and environment.", body = Vec<Deployment>),
        (status = 400, description = "A malformed query (`at` is RFC 3339).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
    )
)]
pub async fn deployments(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<DeploymentFilter>,
) -> ApiResult<Json<Vec<Deployment>>> {
    Ok(Json(plane.list_deployments(&ctx, filter).await?))
}

/// Verifications after promotions and rollbacks (docs/promotions.md#verification).
#[utoipa::path(
    get,
    path = "/api/v1/verifications",
    operation_id = "list_verifications",
    tag = "promotions",
    params(VerificationFilter),
    responses(
        (status = 200, description = "Newest first, up to 500, in the environments the caller may see.", body = Vec<Verification>),
        (status = 400, description = "A malformed query, or an environment that isn't configured.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The caller may not see that environment.", body = ErrorEnvelope),
    )
)]
pub async fn verifications(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<VerificationFilter>,
) -> ApiResult<Json<Vec<Verification>>> {
    Ok(Json(plane.list_verifications(&ctx, filter).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The version compared from.
    from: u32,
    /// The version compared to.
    to: u32,
}

/// What changes from one version of a workflow to another.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{name}/diff",
    operation_id = "workflow_diff",
    tag = "promotions",
    params(("name" = String, Path, description = "The workflow."), DiffQuery),
    responses(
        (status = 200, description = "The semantic diff.", body = SpecDiff),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 404, description = "No such workflow or version.", body = ErrorEnvelope),
    )
)]
pub async fn diff(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<SpecDiff>> {
    Ok(Json(plane.workflow_diff(&ctx, &name, q.from, q.to).await?))
}

/// Every environment's promotion policy, in promotion order.
#[utoipa::path(
    get,
    path = "/api/v1/environments/policies",
    operation_id = "list_policies",
    tag = "promotions",
    responses(
        (status = 200, description = "The policies as they apply.", body = Vec<PolicyView>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
    )
)]
pub async fn policies(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<PolicyView>>> {
    Ok(Json(plane.environment_policies(&ctx).await?))
}

/// One environment's promotion policy.
#[utoipa::path(
    get,
    path = "/api/v1/environments/{env}/policy",
    operation_id = "get_policy",
    tag = "promotions",
    params(("env" = gantry_core::Environment, Path, description = "The environment.")),
    responses(
        (status = 200, description = "The policy as it applies.", body = PolicyView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 404, description = "No such environment.", body = ErrorEnvelope),
    )
)]
pub async fn policy(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(env): Path<String>,
) -> ApiResult<Json<PolicyView>> {
    plane
        .environment_policies(&ctx)
        .await?
        .into_iter()
        .find(|p| p.environment == env)
        .map(Json)
        .ok_or_else(|| {
            ApiError::from(gantry_core::PortError::not_found(format!(
                "environment {env}"
            )))
        })
}

/// Replaces an environment's promotion policy (admins of it).
#[utoipa::path(
    put,
    path = "/api/v1/environments/{env}/policy",
    operation_id = "set_policy",
    tag = "promotions",
    params(("env" = gantry_core::Environment, Path, description = "The environment.")),
    request_body = EnvironmentPolicy,
    responses(
        (status = 200, description = "Saved.", body = PolicyView),
        (status = 400, description = "A malformed body or an unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old for this environment.", body = ErrorEnvelope),
        (status = 403, description = "Not an admin of this environment.", body = ErrorEnvelope),
        (status = 422, description = "The policy breaks a rule; `details.problems` names each field.", body = ErrorEnvelope),
    )
)]
pub async fn set_policy(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(env): Path<String>,
    ApiJson(policy): ApiJson<EnvironmentPolicy>,
) -> ApiResult<Json<PolicyView>> {
    Ok(Json(
        plane.set_environment_policy(&ctx, &env, policy).await?,
    ))
}
