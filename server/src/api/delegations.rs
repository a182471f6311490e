//! `/api/v1/delegations…`: approvers lending their approvals in an
//! environment to a named person for a while, listing and revoking those
//! loans. Thin: every handler calls one `DelegationPort` method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::promotion::delegation_view::{DelegationFilter, DelegationView, NewDelegation};

/// Lends the caller's approvals in an environment to another person until
/// a moment (at most 90 days). People only, signed in recently, holding
/// `approver` or `admin` there.
#[utoipa::path(
    post,
    path = "/api/v1/delegations",
    operation_id = "delegate_approvals",
    tag = "approvals",
    request_body = NewDelegation,
    responses(
        (status = 201, description = "Delegated.", body = DelegationView),
        (status = 400, description = "A malformed body, an unknown environment, yourself as the delegate, a period that is empty, past or longer than 90 days, or a delegate who is disabled or holds no role there (the message says which).", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials, or a sign-in too old (delegating always needs a recent one).", body = ErrorEnvelope),
        (status = 403, description = "A token, or no approver/admin role in the environment.", body = ErrorEnvelope),
        (status = 404, description = "No account has that username.", body = ErrorEnvelope),
        (status = 422, description = "A field missing or of the wrong type.", body = ErrorEnvelope),
    )
)]
pub async fn create(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(new): ApiJson<NewDelegation>,
) -> ApiResult<(StatusCode, Json<DelegationView>)> {
    let view = plane.delegate_approvals(&ctx, new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Delegations in the environments the caller may see, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/delegations",
    operation_id = "list_delegations",
    tag = "approvals",
    params(DelegationFilter),
    responses(
        (status = 200, description = "Scheduled, active, ended and revoked ones (`state`), newest first (at most 500).", body = Vec<DelegationView>),
        (status = 400, description = "A malformed query or an unknown environment.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<DelegationFilter>,
) -> ApiResult<Json<Vec<DelegationView>>> {
    Ok(Json(plane.list_delegations(&ctx, filter).await?))
}

/// Ends a delegation now (its delegator, or an admin of its environment).
#[utoipa::path(
    post,
    path = "/api/v1/delegations/{id}/revoke",
    operation_id = "revoke_delegation",
    tag = "approvals",
    params(("id" = String, Path, description = "The delegation's id.")),
    responses(
        (status = 200, description = "Revoked.", body = DelegationView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Neither the delegator nor an admin of its environment.", body = ErrorEnvelope),
        (status = 404, description = "No such delegation.", body = ErrorEnvelope),
        (status = 409, description = "Revoked already, or ended.", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<DelegationView>> {
    Ok(Json(plane.revoke_delegation(&ctx, &id).await?))
}
