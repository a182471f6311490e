//! `/api/v1/passkeys`: break-glass passkeys (docs/break-glass.md). A
//! registration is two calls, as WebAuthn is: begin (the options for
//! `navigator.credentials.create`), then finish with the browser's answer.
//! Signing in with one is the `/break-glass` page's, not the API's: it
//! makes a browser session. Thin: every handler calls one `PasskeyPort`
//! method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::ApiJson;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::break_glass::{PasskeyCeremony, PasskeyView};
use gantry_core::port::{RequestContext, SharedControlPlane};
use serde::Deserialize;

/// A registration's second half.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRegistration {
    /// The id `POST /api/v1/passkeys/registrations` answered.
    pub ceremony: String,
    /// What to call the passkey ("YubiKey in the safe").
    pub name: String,
    /// The browser's answer: `PublicKeyCredential.toJSON()`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// Every break-glass passkey for admins and auditors, one's own for anyone
/// else (never a key).
#[utoipa::path(
    get,
    path = "/api/v1/passkeys",
    operation_id = "list_passkeys",
    tag = "passkeys",
    responses(
        (status = 200, description = "Passkeys, newest first.", body = Vec<PasskeyView>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<PasskeyView>>> {
    Ok(Json(plane.passkeys(&ctx).await?))
}

/// Begins registering a break-glass passkey for the caller: a person who
/// is admin in every environment, signed in recently, not in a
/// break-glass session, holding fewer passkeys than the cap. Valid for
/// 5 minutes, once.
#[utoipa::path(
    post,
    path = "/api/v1/passkeys/registrations",
    operation_id = "start_passkey_registration",
    tag = "passkeys",
    responses(
        (status = 201, description = "The options for navigator.credentials.create.", body = PasskeyCeremony),
        (status = 401, description = "No credentials, or the sign-in is too old (`step_up_required`).", body = ErrorEnvelope),
        (status = 403, description = "Not a person who is admin in every environment, or a break-glass session.", body = ErrorEnvelope),
        (status = 409, description = "At the cap: revoke a passkey first.", body = ErrorEnvelope),
        (status = 503, description = "Passkeys are unavailable here (the public URL is an address).", body = ErrorEnvelope),
    )
)]
pub async fn start_registration(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<(StatusCode, Json<PasskeyCeremony>)> {
    let ceremony = plane.start_passkey_registration(&ctx).await?;
    Ok((StatusCode::CREATED, Json(ceremony)))
}

/// Finishes a registration with the browser's answer (`passkey.register`,
/// an escalation for alert rules).
#[utoipa::path(
    post,
    path = "/api/v1/passkeys",
    operation_id = "finish_passkey_registration",
    tag = "passkeys",
    request_body = FinishRegistration,
    responses(
        (status = 201, description = "The passkey registered.", body = PasskeyView),
        (status = 400, description = "A field to fix: `name`, `ceremony` (expired or used), `credential` (did not verify).", body = ErrorEnvelope),
        (status = 401, description = "No credentials, or the sign-in is too old (`step_up_required`).", body = ErrorEnvelope),
        (status = 403, description = "Not a person who is admin in every environment, or someone else's ceremony.", body = ErrorEnvelope),
        (status = 409, description = "At the cap, or the passkey is registered already.", body = ErrorEnvelope),
        (status = 422, description = "The body doesn't fit the schema.", body = ErrorEnvelope),
        (status = 503, description = "Passkeys are unavailable here.", body = ErrorEnvelope),
    )
)]
pub async fn finish_registration(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(body): ApiJson<FinishRegistration>,
) -> ApiResult<(StatusCode, Json<PasskeyView>)> {
    let view = plane
        .finish_passkey_registration(&ctx, &body.ceremony, &body.name, body.credential)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revokes a passkey (`passkey.revoke`): its owner, or an admin of every
/// environment.
#[utoipa::path(
    delete,
    path = "/api/v1/passkeys/{id}",
    operation_id = "revoke_passkey",
    tag = "passkeys",
    params(("id" = String, Path, description = "The passkey's id.")),
    responses(
        (status = 200, description = "The passkey revoked.", body = PasskeyView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Someone else's, and not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such passkey.", body = ErrorEnvelope),
    )
)]
pub async fn revoke(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<PasskeyView>> {
    Ok(Json(plane.revoke_passkey(&ctx, &id).await?))
}
