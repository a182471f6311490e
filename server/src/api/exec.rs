//! The execution API (`/exec/v1`): what `gantry worker --server` calls to
//! lease, heartbeat, log and report step attempts. A thin layer over the
//! port's `ExecutionPort`, like `/api/v1` over `ControlPlane`; it answers in
//! the REST API's error shape. Only bearer tokens are read here (no session
//! layer), and only worker tokens get past the port.

use crate::api::error::{ApiError, ApiResult, ErrorCode};
use crate::api::extract::ApiJson;
use crate::state::AppState;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use gantry_core::execution::{
    AttemptReport, Beat, ClaimRequest, HeartbeatRequest, Lease, LogBatch, SecretAccessBatch,
    SecretsDelivery, SecretsRequest, Settlement,
};
use gantry_core::port::{RequestContext, SharedExecutionPort};
use serde::{Deserialize, Serialize};

pub const PREFIX: &str = "/exec/v1";
/// Every call the execution API answers (the authorization matrix checks
/// it has a rule for each).
pub const ENDPOINTS: [&str; 6] = [
    "claim",
    "heartbeat",
    "logs",
    "secret-accesses",
    "secrets",
    "report",
];

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/claim", post(claim))
        .route("/heartbeat", post(heartbeat))
        .route("/logs", post(logs))
        .route("/secret-accesses", post(secret_accesses))
        .route("/secrets", post(secrets))
        .route("/report", post(report))
        .fallback(not_found)
        // Bodies are bounded by the edge (2 MiB); workers keep log batches
        // far below that (`engine/logs.rs`).
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::resolve_bearer_only,
        ))
}

/// A heartbeat's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatAnswer {
    pub beat: Beat,
}

async fn claim(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(request): ApiJson<ClaimRequest>,
) -> ApiResult<Json<Vec<Lease>>> {
    Ok(Json(exec.claim_steps(&ctx, request).await?))
}

async fn heartbeat(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(request): ApiJson<HeartbeatRequest>,
) -> ApiResult<Json<BeatAnswer>> {
    let beat = exec.heartbeat(&ctx, request).await?;
    Ok(Json(BeatAnswer { beat }))
}

async fn logs(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(batch): ApiJson<LogBatch>,
) -> ApiResult<StatusCode> {
    exec.append_logs(&ctx, batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret_accesses(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(batch): ApiJson<SecretAccessBatch>,
) -> ApiResult<StatusCode> {
    exec.record_secret_accesses(&ctx, batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secrets(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(request): ApiJson<SecretsRequest>,
) -> ApiResult<Json<SecretsDelivery>> {
    Ok(Json(exec.deliver_secrets(&ctx, request).await?))
}

async fn report(
    State(exec): State<SharedExecutionPort>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(report): ApiJson<AttemptReport>,
) -> ApiResult<Json<Settlement>> {
    Ok(Json(exec.report_attempt(&ctx, report).await?))
}

async fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such execution API endpoint (claim, heartbeat, logs, secret-accesses, secrets, report)",
    )
    .into_response()
}
