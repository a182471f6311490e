//! `/api/v1/users…`: accounts for access reviews, disabling or enabling one
//! (offboarding, incident response), and a person's data exported or erased
//! (docs/privacy.md).

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiQuery;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::privacy::{ErasureReport, PersonExport};
use gantry_core::user::{UserQuery, UserSource, UserSummary};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of a name, username or e-mail address, case aside.
    q: Option<String>,
    /// `dev`, `oidc` or `scim`.
    #[param(value_type = Option<UserSource>)]
    source: Option<UserSource>,
    /// `true`: only disabled accounts; `false`: only active ones.
    disabled: Option<bool>,
}

/// Every account with each role it holds and what granted it.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "identity",
    params(ListQuery),
    responses(
        (status = 200, description = "The accounts asked for (all by default), by display name.", body = Vec<UserSummary>),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins and auditors review access.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<UserSummary>>> {
    let query = UserQuery {
        q: q.q,
        source: q.source,
        disabled: q.disabled,
    };
    Ok(Json(plane.list_users(&ctx, query).await?))
}

/// One account, by id or username.
#[utoipa::path(
    get,
    path = "/api/v1/users/{user}",
    operation_id = "get_user",
    tag = "identity",
    params(("user" = String, Path, description = "The account's id or username.")),
    responses(
        (status = 200, description = "The account.", body = UserSummary),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins and auditors review access.", body = ErrorEnvelope),
        (status = 404, description = "No such account.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(user): Path<String>,
) -> ApiResult<Json<UserSummary>> {
    Ok(Json(plane.user(&ctx, &user).await?))
}

/// Disables an account: it can't sign in, and its sessions end now.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user}/disable",
    operation_id = "disable_user",
    tag = "identity",
    params(("user" = String, Path, description = "The account's id or username.")),
    responses(
        (status = 200, description = "The account, disabled (disabling twice is harmless).", body = UserSummary),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Needs admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such account.", body = ErrorEnvelope),
        (status = 409, description = "One's own account.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn disable(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(user): Path<String>,
) -> ApiResult<Json<UserSummary>> {
    Ok(Json(plane.set_user_disabled(&ctx, &user, true).await?))
}

/// Enables an account again; the person signs in afresh.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user}/enable",
    operation_id = "enable_user",
    tag = "identity",
    params(("user" = String, Path, description = "The account's id or username.")),
    responses(
        (status = 200, description = "The account, enabled.", body = UserSummary),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Needs admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such account.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn enable(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(user): Path<String>,
) -> ApiResult<Json<UserSummary>> {
    Ok(Json(plane.set_user_disabled(&ctx, &user, false).await?))
}

/// Everything Gantry holds about one person, as one JSON document: the
/// account and where its roles came from, the SCIM resource, sessions'
/// expiry, tokens, approvals and promotions asked for or decided, runs
/// triggered, and the audit records in which they acted.
#[utoipa::path(
    get,
    path = "/api/v1/users/{user}/export",
    operation_id = "export_user",
    tag = "identity",
    params(("user" = String, Path, description = "The account's id or username.")),
    responses(
        (status = 200, description = "The person's data (audited).", body = PersonExport),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Needs admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such account.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn export(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(user): Path<String>,
) -> ApiResult<Json<PersonExport>> {
    Ok(Json(plane.export_user(&ctx, &user).await?))
}

/// Erases a departed person: name, username and e-mail become a pseudonym
/// everywhere outside the audit log, and their personal fields in the audit
/// log are erased while the chain still verifies.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user}/erase",
    operation_id = "erase_user",
    tag = "identity",
    params(("user" = String, Path, description = "The account's id or username.")),
    responses(
        (status = 200, description = "What was erased (audited).", body = ErasureReport),
        (status = 401, description = "No or bad credentials, or a sign-in older than --step-up-max-age (`step_up_required`: sign in again).", body = ErrorEnvelope),
        (status = 403, description = "Needs admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such account.", body = ErrorEnvelope),
        (status = 409, description = "The account is still enabled (deprovision or disable it first), or it is your own.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn erase(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(user): Path<String>,
) -> ApiResult<Json<ErasureReport>> {
    Ok(Json(plane.erase_user(&ctx, &user).await?))
}
