//! `/api/v1/users…`: accounts for access reviews, and disabling or enabling
//! one (offboarding, incident response).

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiQuery;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
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
