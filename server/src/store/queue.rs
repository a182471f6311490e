//! The step queue workers lease from: claiming ready steps, heartbeats,
//! log lines, reports, and reaping the attempts of workers that went
//! silent. `run_steps` is the queue: a `queued` step whose `ready_at_ms`
//! has passed is claimable. Both adapters implement it from
//! `portable/queue.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::run::{AttemptEnd, LogStream};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The answer to a worker's heartbeat (the execution API's own type).
pub use gantry_core::execution::Beat;

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

/// A step attempt a worker now owns, with what it needs to execute it.
#[derive(Debug, Clone, PartialEq)]
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
    /// How long the step was claimable (ready, after any retry backoff)
    /// before this claim.
    pub queue_wait: Duration,
    /// The span that created the run (W3C traceparent), when traced.
    pub traceparent: Option<String>,
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

/// What else an attempt's finishing transaction does for the worker that
/// reports it: one write instead of three (log lines, the report, the
/// next claim) per step, and a dependent step readied by this end goes
/// straight to the slot that just freed, with no wake-up in between.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handoff<'a> {
    /// The attempt's last log lines, stored with its end (even when the
    /// report is stale, as a separate append would have).
    pub lines: &'a [NewLogLine],
    /// Ready steps to lease to the same worker in the same transaction
    /// (0: none), oldest first like any claim. Only SQLite's store does;
    /// PostgreSQL's answers none (`postgres.rs`, `HANDS_OFF`: it would hold
    /// the run's row lock through the claim).
    pub claim: u32,
    pub lease: Duration,
}

/// What finishing an attempt changed.
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// The span that created the run, for the step's and run's spans.
    pub traceparent: Option<String>,
    /// The step reached its final status with this attempt.
    pub step_finished: Option<StepFinished>,
    /// Steps leased to the reporting worker as asked by `Handoff::claim`.
    pub next: Vec<Claim>,
}

/// A step's end, for its trace span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFinished {
    pub status: gantry_core::run::StepStatus,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
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

#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Claims up to `limit` ready steps for `worker`, leasing each until
    /// `now + lease`.
    async fn claim_steps(
        &self,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Vec<Claim>>;

    async fn heartbeat(
        &self,
        claim: AttemptKey<'_>,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Beat>;

    /// Records an attempt's end and advances its run, in one transaction.
    /// Stale reports (wrong attempt, lease lost) change nothing.
    async fn finish_attempt(
        &self,
        result: AttemptResult,
        now: DateTime<Utc>,
    ) -> StoreResult<Settled> {
        self.finish_and_hand_off(result, Handoff::default(), now)
            .await
    }

    /// `finish_attempt`, with the attempt's last log lines and the
    /// reporting worker's next claim in the same transaction.
    async fn finish_and_hand_off(
        &self,
        result: AttemptResult,
        handoff: Handoff<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Settled>;

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()>;

    /// Whether `worker` holds this attempt's lease right now (the execution
    /// API checks it before taking a remote worker's log lines).
    async fn attempt_held_by(&self, attempt: AttemptKey<'_>, worker: &str) -> StoreResult<bool>;

    /// Ends attempts whose lease expired as `lost`; returns the runs that
    /// this finished (to be counted: no step's report did).
    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>>;

    /// Earliest time a queued step becomes ready, if any is waiting.
    async fn next_ready_at(&self) -> StoreResult<Option<DateTime<Utc>>>;

    /// The queue and the unfinished runs as the metrics' gauges report them.
    async fn queue_gauges(&self, now: DateTime<Utc>) -> StoreResult<QueueGauges>;
}

/// Counts read straight from the database (so several processes agree).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueGauges {
    /// Steps claimable now.
    pub ready: i64,
    /// Steps queued behind a backoff (a retry's wait).
    pub waiting: i64,
    /// Steps a worker holds.
    pub running: i64,
    /// The oldest ready step's wait so far, in milliseconds.
    pub oldest_ready_ms: Option<i64>,
    /// Unfinished runs by environment and status (`queued`, `running`).
    pub runs: Vec<(String, String, i64)>,
}

/// Unix milliseconds, the unit of the queue's time columns.
pub(super) fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Milliseconds since the epoch, rounded up.
pub(super) fn epoch_ms_ceil(t: DateTime<Utc>) -> i64 {
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
