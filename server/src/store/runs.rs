//! A run's life around its steps: creating it, admitting it under its
//! workflow's concurrency limit, cancelling it and timing it out. (Its steps'
//! attempts are the queue's, `queue.rs`.) Both adapters implement it from
//! `portable/runs.rs`.

use super::StoreResult;
use super::versions::ActiveSpec;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::canary::Arm;
use gantry_core::run::attention::RerunMode;
use gantry_core::run::{RunStatus, RunSummary, Trigger};
use serde_json::Value;
use std::collections::BTreeMap;

/// A run to create (inputs already resolved against the spec).
pub struct NewRun<'a> {
    /// A UUID v7 the caller made (a canary's assignment is decided from
    /// it before the run exists).
    pub id: String,
    /// The version it runs: the active one, or a canary's.
    pub active: &'a ActiveSpec,
    /// The canary it was admitted under, and which arm it got.
    pub canary: Option<CanaryTag<'a>>,
    /// The caller named the version: recorded, and left out of the canary
    /// analysis.
    pub pinned: bool,
    pub environment: &'a str,
    pub inputs: &'a BTreeMap<String, Value>,
    pub trigger: Trigger,
    pub triggered_by: &'a str,
    pub triggered_by_id: &'a str,
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The W3C traceparent of the span creating the run, when tracing is on.
    pub traceparent: Option<String>,
    /// Backpressure: the limits on unfinished runs it must fit under
    /// (`None`: runs Gantry starts itself, or a decision people made).
    pub backlog: Option<BacklogLimits>,
    /// A re-run of a failed run: takes that run off the Needs attention
    /// list in the same transaction (refused if it is off already).
    pub rerun: Option<RerunLink<'a>>,
}

/// The failed run a new run re-runs.
#[derive(Debug, Clone, Copy)]
pub struct RerunLink<'a> {
    pub of: &'a str,
    pub mode: RerunMode,
}

/// What dismissing a failed run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dismissed {
    Done,
    NotFound,
    /// Not on the list: it didn't fail, or was re-run or dismissed.
    NotOpen,
}

/// Limits on unfinished (queued or running) runs, checked in the new
/// run's transaction; 0 is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BacklogLimits {
    /// Of one workflow in one environment (exact: the lane row is locked).
    pub per_workflow: u32,
    /// Of one environment.
    pub per_environment: u32,
    /// Of the whole server (saturation: 503 rather than 429).
    pub total: u32,
}

/// Which backlog limit a run would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BacklogScope {
    Workflow,
    Environment,
    Server,
}

impl BacklogScope {
    pub fn as_str(self) -> &'static str {
        match self {
            BacklogScope::Workflow => "workflow",
            BacklogScope::Environment => "environment",
            BacklogScope::Server => "server",
        }
    }

    /// The flag setting this limit.
    pub fn flag(self) -> &'static str {
        match self {
            BacklogScope::Workflow => "--max-unfinished-runs-per-workflow",
            BacklogScope::Environment => "--max-unfinished-runs-per-environment",
            BacklogScope::Server => "--max-unfinished-runs",
        }
    }
}

/// A run refused for backpressure: nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlogged {
    pub scope: BacklogScope,
    pub limit: u32,
}

impl BacklogLimits {
    /// The first limit `counts` (of the lane, the environment, the server)
    /// already reach.
    pub fn breached(self, counts: (i64, i64, i64)) -> Option<Backlogged> {
        [
            (BacklogScope::Workflow, self.per_workflow, counts.0),
            (BacklogScope::Environment, self.per_environment, counts.1),
            (BacklogScope::Server, self.total, counts.2),
        ]
        .into_iter()
        .find(|(_, limit, count)| *limit > 0 && *count >= i64::from(*limit))
        .map(|(scope, limit, _)| Backlogged { scope, limit })
    }
}

/// A run admitted while a canary is live.
#[derive(Debug, Clone, Copy)]
pub struct CanaryTag<'a> {
    pub canary_id: &'a str,
    pub arm: Arm,
}

/// What a cancel request did.
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// Stopped (at once if nothing was running, else being stopped).
    Accepted(RunSummary),
    AlreadyFinished(RunStatus),
    NotFound,
}

#[async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// Creates a queued run with pending steps. Call [`Self::admit`] after.
    async fn create_run(
        &self,
        new: NewRun<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<RunSummary>;

    /// Starts queued runs of one workflow in one environment while its
    /// concurrency allows. Returns whether any started.
    async fn admit(
        &self,
        workflow_id: &str,
        environment: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Admits in every lane that has queued runs (after a crash between a
    /// run finishing and its lane's admission).
    async fn admit_all(&self, now: DateTime<Utc>) -> StoreResult<bool>;

    async fn cancel_run(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<CancelOutcome>;

    /// Takes a failed run off the Needs attention list with `note`, with
    /// its audit record, in one transaction (compare-and-set: once).
    async fn dismiss_run(
        &self,
        id: &str,
        by: &str,
        note: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Dismissed>;

    /// Starts timing out running runs past their deadline; returns the runs
    /// that this finished (those with no step running; the others finish
    /// when their running steps report).
    async fn sweep_deadlines(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>>;
}
