//! The execution API's port: what remote workers call (`/exec/v1`).

use super::RequestContext;
use crate::error::PortError;
use crate::execution::{
    AttemptReport, Beat, ClaimRequest, HeartbeatRequest, Lease, LogBatch, SecretAccessBatch,
    SecretsDelivery, SecretsRequest, Settlement,
};
use std::sync::Arc;

/// The execution API's port: what workers call to lease, stream and report
/// step attempts (`/exec/v1`). Only a worker token's principal may call it,
/// and only about the attempts its own instances hold; every refusal is
/// audited. The in-process worker of `gantry serve` keeps its direct path
/// to the store; every other worker goes through here.
#[async_trait::async_trait]
pub trait ExecutionPort: Send + Sync + 'static {
    /// Leases up to `limit` ready steps to the caller's instance, waiting up
    /// to `wait_ms` for one to become ready.
    async fn claim_steps(
        &self,
        ctx: &RequestContext,
        request: ClaimRequest,
    ) -> Result<Vec<Lease>, PortError>;

    /// Extends a lease the caller holds; says whether to carry on, stop or
    /// abandon the attempt.
    async fn heartbeat(
        &self,
        ctx: &RequestContext,
        request: HeartbeatRequest,
    ) -> Result<Beat, PortError>;

    /// Appends log lines of an attempt the caller still holds.
    async fn append_logs(&self, ctx: &RequestContext, batch: LogBatch) -> Result<(), PortError>;

    /// Records the secret fetches a worker made for an attempt it holds
    /// (one `secret.fetch` audit record each). The worker uses the values
    /// only once this succeeded.
    async fn record_secret_accesses(
        &self,
        ctx: &RequestContext,
        batch: SecretAccessBatch,
    ) -> Result<(), PortError>;

    /// Fetches, with the server's providers, the secrets of an attempt the
    /// caller holds whose lease says the server resolves them; each fetch
    /// is audited (as the caller) before any value is handed over.
    async fn deliver_secrets(
        &self,
        ctx: &RequestContext,
        request: SecretsRequest,
    ) -> Result<SecretsDelivery, PortError>;

    /// Records how an attempt ended and advances its run; a stale report
    /// (the lease moved on) changes nothing and says so.
    async fn report_attempt(
        &self,
        ctx: &RequestContext,
        report: AttemptReport,
    ) -> Result<Settlement, PortError>;
}

pub type SharedExecutionPort = Arc<dyn ExecutionPort>;
