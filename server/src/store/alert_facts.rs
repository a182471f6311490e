//! What the alert kinds judged on each evaluation pass read
//! (`core::alert::kinds`): what runs now, which schedule slots are due,
//! failed authentications, and how far the audit log has been judged.
//! Each is one query; `alerting::facts` calls only those a rule needs.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::{DueSlot, LongTarget, Running, SourceFailures};

/// Which version of a workflow is active in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveVersion {
    pub workflow: String,
    pub workflow_id: String,
    pub environment: String,
    pub version: u32,
}

#[async_trait]
pub trait AlertFactStore: Send + Sync + 'static {
    /// What is running now: runs from when they started running, or (for
    /// `LongTarget::Step`) their steps from their current attempt's start.
    async fn running_now(&self, target: LongTarget) -> StoreResult<Vec<Running>>;

    /// Per workflow × environment with an enabled schedule: its latest
    /// slot due at or before `now`, and whether a run for it started. A
    /// slot the scheduler has not fired yet is not started.
    async fn due_slots(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueSlot>>;

    /// Failed sign-ins and rejected credentials at or after `since`, by
    /// source address.
    async fn auth_failures_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<SourceFailures>>;

    /// Every workflow × environment's active version (labels, a spec's
    /// own rules and SLOs are read from their specs).
    async fn active_versions(&self) -> StoreResult<Vec<ActiveVersion>>;

    /// The last audit record an evaluation pass judged; `None` before the
    /// first pass.
    async fn alert_audit_cursor(&self) -> StoreResult<Option<u64>>;
}
