//! Purging what is past its retention (docs/privacy.md): finished runs and
//! step logs per environment, and notification history. Never the audit
//! log.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::retention::Purged;

/// What one batch may remove: the cutoffs in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeKind {
    /// Finished runs of `environment` that finished before `before`.
    Runs {
        environment: String,
        before: DateTime<Utc>,
    },
    /// Step logs of those runs (the runs stay).
    StepLogs {
        environment: String,
        before: DateTime<Utc>,
    },
    /// Notifications no longer pending, and alert transitions, before `before`.
    Notifications { before: DateTime<Utc> },
}

#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// Removes up to `batch` runs' worth (or notifications) of `kind` in one
    /// transaction with `event` appended carrying the counts; nothing (and
    /// no record) when nothing is due.
    async fn purge_batch(
        &self,
        kind: &PurgeKind,
        batch: u32,
        now: DateTime<Utc>,
        event: AuditEvent,
    ) -> StoreResult<Purged>;

    /// What `kind` would remove now, counted.
    async fn purge_due(&self, kind: &PurgeKind) -> StoreResult<Purged>;

    /// The database's size on disk, bytes.
    async fn database_bytes(&self) -> StoreResult<u64>;
}
