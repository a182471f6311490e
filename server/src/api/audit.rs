//! `/api/v1/audit…`: the audit log for admins and auditors (SIEM pulls,
//! access reviews). Read-only: records are only ever appended by the port.

use super::error::{ApiError, ApiResult, ErrorEnvelope};
use super::extract::ApiQuery;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use chrono::{DateTime, Utc};
use gantry_core::PortError;
use gantry_core::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus, Outcome};
use gantry_core::port::{RequestContext, SharedControlPlane};
use serde::Deserialize;

/// Filters of the audit log; all optional, and an empty value means no filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The actor's id or name, exactly.
    actor: Option<String>,
    /// An action (`run.trigger`), or a family ending in `.` (`run.`).
    action: Option<String>,
    /// A resource (`workflow/backup-verify`), or a prefix ending in `/` (`run/`).
    resource: Option<String>,
    environment: Option<String>,
    #[param(value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// Records at or after this RFC 3339 time.
    #[param(value_type = Option<crate::api::openapi::TimeFilter>)]
    since: Option<String>,
    /// Records before this RFC 3339 time.
    #[param(value_type = Option<crate::api::openapi::TimeFilter>)]
    until: Option<String>,
    /// Only records older than this sequence number: the previous page's `next_before`.
    #[param(maximum = 9223372036854775807_i64)]
    before: Option<u64>,
    /// Most records to return: default 50, at most 500.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn time(field: &str, v: Option<String>) -> ApiResult<Option<DateTime<Utc>>> {
    nonempty(v)
        .map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "{field}: {t:?} is not an RFC 3339 time, e.g. 2026-11-23T09:00:00Z"
                    ))
                })
        })
        .transpose()
}

impl AuditQuery {
    pub fn into_filter(self) -> ApiResult<AuditFilter> {
        Ok(AuditFilter {
            since: time("since", self.since)?,
            until: time("until", self.until)?,
            actor: nonempty(self.actor),
            action: nonempty(self.action),
            resource: nonempty(self.resource),
            environment: nonempty(self.environment),
            outcome: nonempty(self.outcome),
            before: match self.before {
                // Sequence numbers are stored as signed 64-bit integers.
                Some(seq) if i64::try_from(seq).is_err() => {
                    return Err(PortError::invalid(
                        "before",
                        format!("must be at most {}", i64::MAX),
                    )
                    .into());
                }
                before => before,
            },
            limit: self.limit,
        })
    }
}

/// Audit records, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "list_audit_records",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of records, newest first.", body = AuditPage),
        (status = 400, description = "A malformed or unknown query parameter, an unknown outcome, a bad time or limit.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins and auditors read the audit log.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable.", body = ErrorEnvelope),
    )
)]
pub async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(plane.audit_log(&ctx, q.into_filter()?).await?))
}

/// One audit record by sequence number.
#[utoipa::path(
    get,
    path = "/api/v1/audit/{seq}",
    operation_id = "get_audit_record",
    tag = "audit",
    params(("seq" = u64, Path, description = "The record's sequence number.")),
    responses(
        (status = 200, description = "The record.", body = AuditRecord),
        (status = 400, description = "`seq` is not a number.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins and auditors read the audit log.", body = ErrorEnvelope),
        (status = 404, description = "No such record (or it was archived).", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn get(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    seq: Result<Path<u64>, PathRejection>,
) -> ApiResult<Json<AuditRecord>> {
    let Path(seq) = seq
        .map_err(|_| ApiError::bad_request("seq: must be a record's sequence number (1, 2, …)"))?;
    Ok(Json(plane.audit_record(&ctx, seq).await?))
}

/// Verifies the whole chain now and says where it breaks, if anywhere.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    operation_id = "verify_audit_chain",
    tag = "audit",
    responses(
        (status = 200, description = "The verification result (`problem` is null when the chain is intact).", body = ChainStatus),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Only admins and auditors read the audit log.", body = ErrorEnvelope),
        (status = 500, description = "Internal error.", body = ErrorEnvelope),
    )
)]
pub async fn verify(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<ChainStatus>> {
    Ok(Json(plane.audit_status(&ctx).await?))
}
