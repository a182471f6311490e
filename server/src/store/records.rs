//! What the workflow store takes and gives, beside the core views.

use chrono::{DateTime, Utc};
use gantry_core::RoleGrant;
use gantry_core::run::{AttemptEnd, LogStream, RunStatus, RunSummary, Trigger};
use gantry_core::spec::WorkflowSpec;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A validated spec to register.
pub struct NewVersion<'a> {
    pub spec: &'a WorkflowSpec,
    pub source: &'a str,
    pub created_by: &'a str,
    /// The person behind `created_by`, for four eyes (`None`: unknown).
    pub created_by_person: Option<&'a str>,
    /// Where a newly created version becomes active (the first environment).
    pub activate_in: &'a str,
    /// First fire of its schedule there, if it has one.
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// The version active in one environment, with its spec.
#[derive(Debug, Clone)]
pub struct ActiveSpec {
    pub workflow_id: String,
    pub workflow: String,
    pub version: u32,
    pub spec: Arc<WorkflowSpec>,
}

/// A run to create (inputs already resolved against the spec).
pub struct NewRun<'a> {
    pub active: &'a ActiveSpec,
    pub environment: &'a str,
    pub inputs: &'a BTreeMap<String, Value>,
    pub trigger: Trigger,
    pub triggered_by: &'a str,
    pub triggered_by_id: &'a str,
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// Which attempt a heartbeat or report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptKey<'a> {
    pub run_id: &'a str,
    pub step_id: &'a str,
    pub attempt: u32,
}

impl<'a> AttemptKey<'a> {
    pub fn of(lease: &'a gantry_core::execution::Lease) -> Self {
        Self {
            run_id: &lease.run_id,
            step_id: &lease.step_id,
            attempt: lease.attempt,
        }
    }
}

impl Claim {
    pub fn key(&self) -> AttemptKey<'_> {
        AttemptKey {
            run_id: &self.run_id,
            step_id: &self.step_id,
            attempt: self.attempt,
        }
    }
}

/// A step attempt a worker now owns, with what it needs to execute it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    pub workflow_id: String,
    pub workflow: String,
    pub version: u32,
    pub environment: String,
    pub inputs: BTreeMap<String, Value>,
    /// Outputs of the run's steps that succeeded so far.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    pub deadline: Option<DateTime<Utc>>,
}

/// The answer to a worker's heartbeat (the execution API's own type).
pub use gantry_core::execution::Beat;

/// How a worker's attempt ended.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    pub worker: String,
    pub end: AttemptEnd,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub outputs: BTreeMap<String, String>,
}

/// What finishing an attempt changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// False when the report was stale (lease lost, run moved on): nothing
    /// was written.
    pub accepted: bool,
    /// Steps became claimable (now or after a backoff).
    pub queued: bool,
    /// The run reached a final status, freeing a concurrency slot.
    pub run_finished: bool,
    /// The run's lane (workflow and environment), to admit into once the
    /// run finished.
    pub workflow_id: String,
    pub environment: String,
}

/// One captured line to store.
#[derive(Debug, Clone)]
pub struct NewLogLine {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    pub line: u32,
    pub stream: LogStream,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// A schedule whose next fire time has come.
#[derive(Debug, Clone)]
pub struct DueSchedule {
    pub workflow_id: String,
    pub workflow: String,
    pub environment: String,
    pub version: u32,
    pub next_fire_at: DateTime<Utc>,
}

/// What a cancel request did.
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// Stopped (at once if nothing was running, else being stopped).
    Accepted(RunSummary),
    AlreadyFinished(RunStatus),
    NotFound,
}

/// An API token that matched.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub kind: gantry_core::token::TokenKind,
    pub grants: Vec<RoleGrant>,
}

/// Unix milliseconds, the unit of the queue's time columns.
pub fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Milliseconds since the epoch, rounded up.
pub fn epoch_ms_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis() + i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1_000_000))
}

#[cfg(test)]
mod ms_tests {
    use super::*;

    #[test]
    fn rounding_up_only_moves_times_between_milliseconds() {
        let exact = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(epoch_ms_ceil(exact), 1_700_000_000_123);
        let between = exact + chrono::Duration::microseconds(400);
        assert_eq!(epoch_ms(between), 1_700_000_000_123);
        assert_eq!(epoch_ms_ceil(between), 1_700_000_000_124);
    }
}
