//! The audit half of the port's reads: the log, one record and the chain's
//! verification status, for admins and auditors.

use crate::audit::verify::verify_store;
use crate::plane::{GantryPlane, internal};
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus, Outcome};
use gantry_core::port::{AuditPort, RequestContext};
use gantry_core::rbac::Action;

#[async_trait]
impl AuditPort for GantryPlane {
    async fn audit_log(
        &self,
        ctx: &RequestContext,
        filter: AuditFilter,
    ) -> Result<AuditPage, PortError> {
        self.authorize_view(ctx, &Action::ViewAudit, "audit/")
            .await?;
        if let Some(outcome) = &filter.outcome
            && Outcome::parse(outcome).is_none()
        {
            return Err(PortError::invalid(
                "outcome",
                format!("{outcome:?} is not an outcome; use succeeded, denied or failed"),
            ));
        }
        if let (Some(since), Some(until)) = (filter.since, filter.until)
            && since >= until
        {
            return Err(PortError::invalid("until", "must be later than since"));
        }
        if let Some(limit) = filter.limit
            && !(1..=AuditFilter::MAX_LIMIT).contains(&limit)
        {
            return Err(PortError::invalid(
                "limit",
                format!("must be between 1 and {}", AuditFilter::MAX_LIMIT),
            ));
        }
        self.store.audit_page(&filter).await.map_err(internal)
    }

    async fn audit_record(&self, ctx: &RequestContext, seq: u64) -> Result<AuditRecord, PortError> {
        self.authorize_view(ctx, &Action::ViewAudit, &format!("audit/{seq}"))
            .await?;
        self.store
            .audit_record(seq)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("audit record {seq}")))
    }

    async fn audit_status(&self, ctx: &RequestContext) -> Result<ChainStatus, PortError> {
        self.authorize_view(ctx, &Action::ViewAudit, "audit/")
            .await?;
        verify_store(
            self.store.as_ref(),
            self.settings.audit_key.as_ref(),
            self.clock.now(),
        )
        .await
        .map_err(internal)
    }
}
