//! `/api/v1/runs/{id}/secret-accesses` and `/api/v1/secret-providers`:
//! which references a run's attempts fetched and how that went, and the
//! configured providers' health. References and outcomes only, never a
//! value. Thin: every handler calls one `SecretPort` method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::secret::{
    AttemptSecretAccess, SecretInvalidated, SecretInvalidation, SecretProviderStatus,
};

/// The secrets a run's attempts fetched, oldest first: name, reference
/// (placeholders filled), provider, outcome, version, lease and duration.
/// For whoever may view the run.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}/secret-accesses",
    operation_id = "get_run_secret_accesses",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id (a UUID).")),
    responses(
        (status = 200, description = "One entry per fetch (at most 5000), oldest first; empty for a run without secrets.", body = Vec<AttemptSecretAccess>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not view runs in the run's environment.", body = ErrorEnvelope),
        (status = 404, description = "No such run.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn run_accesses(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AttemptSecretAccess>>> {
    Ok(Json(plane.run_secret_accesses(&ctx, &id).await?))
}

/// Every configured secret provider, where it answers, its health checked
/// now (a few seconds at most) and its latest fetch among the recent ones.
/// Admins and auditors.
#[utoipa::path(
    get,
    path = "/api/v1/secret-providers",
    operation_id = "list_secret_providers",
    tag = "secrets",
    responses(
        (status = 200, description = "The providers: shared ones (no `environment`) first, then each environment's own.", body = Vec<SecretProviderStatus>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Neither admin nor auditor anywhere.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn providers(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<SecretProviderStatus>>> {
    Ok(Json(plane.secret_providers(&ctx).await?))
}

/// Drops values this server cached for a provider with
/// `--secrets-cache-ttl`: one reference (placeholders filled), or all a
/// provider cached. The next attempts fetch afresh. Admin in every
/// environment; audited as `secret.invalidate`.
#[utoipa::path(
    post,
    path = "/api/v1/secrets/invalidate",
    operation_id = "invalidate_secrets",
    tag = "secrets",
    request_body = SecretInvalidation,
    responses(
        (status = 200, description = "How many cached values went, and whether the provider caches at all.", body = SecretInvalidated),
        (status = 400, description = "Neither or both of reference and provider, or a bad reference.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No provider of that name is configured here.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn invalidate(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(request): ApiJson<SecretInvalidation>,
) -> ApiResult<Json<SecretInvalidated>> {
    Ok(Json(plane.invalidate_secrets(&ctx, request).await?))
}
