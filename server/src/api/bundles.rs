//! `POST /api/v1/bundles`: importing versions another installation
//! exported and signed (docs/bundles.md).

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::ApiBody;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::bundle::ImportOutcome;
use gantry_core::port::{RequestContext, SharedControlPlane};
use serde::Serialize;

/// What an import answers: the outcome and one line per version for people.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResponse {
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    pub message: String,
}

/// Imports a signed bundle (`gantry export`): checks every content hash
/// against its source text and the signature against this server's trusted
/// keys (`--bundle-trusted-key`), then registers the versions in one
/// transaction, active nowhere. Identical content already here is reported
/// as present; a version number holding other content refuses the bundle.
///
/// The body is the bundle file as written, at most 2 MiB.
#[utoipa::path(
    post,
    path = "/api/v1/bundles",
    operation_id = "import_bundle",
    tag = "workflows",
    request_body(
        description = "The bundle file (`gantry export` writes it), JSON.",
        content((String = "application/json")),
    ),
    responses(
        (status = 201, description = "At least one version was registered.", body = ImportResponse),
        (status = 200, description = "Every version was already here: nothing changed.", body = ImportResponse),
        (status = 400, description = "The bundle is refused: truncated, not a bundle, an unsupported format version, a hash mismatch, an unknown key or a bad signature; the message names which.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "The principal may not apply workflows.", body = ErrorEnvelope),
        (status = 409, description = "No trusted key is configured, or a version number holds other content here.", body = ErrorEnvelope),
        (status = 413, description = "The bundle is over the size limit.", body = ErrorEnvelope),
        (status = 422, description = "A version names what this server lacks (a secret provider, an alert channel).", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn import(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiBody(body): ApiBody,
) -> ApiResult<Response> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the bundle must be UTF-8 JSON text"))?;
    let outcome = plane.import_bundle(&ctx, text).await?;
    let status = if outcome.versions.iter().any(|v| v.created) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = ImportResponse {
        message: outcome.describe().join("\n"),
        outcome,
    };
    Ok((status, Json(body)).into_response())
}
