//! Leases of dynamic credentials taken for step attempts, kept so the lease
//! keeper can revoke those of attempts that ended (a killed worker's
//! included) and renew those the server took for remote workers.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLease {
    pub lease_id: String,
    pub provider: String,
    pub environment: String,
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    /// The reference it was issued for (`vault-db:database/creds/ro`).
    pub reference: String,
    /// The server fetched it for a remote worker, so the server renews it.
    pub server_renews: bool,
    pub duration_secs: u32,
    pub expires_at: DateTime<Utc>,
}

/// A lease the keeper has work for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLease {
    pub lease: StoredLease,
    /// Whether its attempt is still running (renew) or ended (revoke).
    pub attempt_running: bool,
}

#[async_trait]
pub trait SecretLeaseStore: Send + Sync + 'static {
    /// Appends the fetches' audit records and stores the leases they took,
    /// in one transaction: a lease is never taken unrecorded.
    async fn record_secret_fetches(
        &self,
        events: Vec<AuditEvent>,
        leases: Vec<StoredLease>,
    ) -> StoreResult<()>;

    /// Unrevoked leases (not waiting for a retry) whose attempt ended
    /// (whatever their stored expiry: a worker may have renewed them), or
    /// that the server renews and that expire before `renew_before`;
    /// oldest expiry first.
    async fn leases_due(
        &self,
        now: DateTime<Utc>,
        renew_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueLease>>;

    /// Marks a lease revoked, with its audit record, in one transaction.
    async fn lease_revoked(
        &self,
        lease_id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<()>;

    async fn lease_renewed(&self, lease_id: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;

    /// Notes why the keeper could not act, and when to try again.
    async fn lease_failed(
        &self,
        lease_id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The leases taken for a run's attempts (for the run page and tests).
    async fn run_leases(
        &self,
        run_id: &str,
    ) -> StoreResult<Vec<(StoredLease, Option<DateTime<Utc>>)>>;
}
