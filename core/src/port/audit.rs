//! Reading the audit log and verifying its chain.

use super::RequestContext;
use crate::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus};
use crate::error::PortError;

/// The audit log, for admins and auditors.
#[async_trait::async_trait]
pub trait AuditPort: Send + Sync {
    /// Audit records, newest first. Admins and auditors only.
    async fn audit_log(
        &self,
        ctx: &RequestContext,
        filter: AuditFilter,
    ) -> Result<AuditPage, PortError>;

    async fn audit_record(&self, ctx: &RequestContext, seq: u64) -> Result<AuditRecord, PortError>;

    /// Verifies the whole chain now (and the signed checkpoints when a key
    /// is configured).
    async fn audit_status(&self, ctx: &RequestContext) -> Result<ChainStatus, PortError>;
}
