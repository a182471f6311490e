//! The workflow, run and queue half of the store. Both adapters implement
//! it from the same source file (`portable/workflows.rs`), compiled once per database.

use super::StoreResult;
use super::records::{
    ActiveSpec, AttemptKey, AttemptResult, Beat, CancelOutcome, Claim, DueSchedule, NewLogLine,
    NewRun, NewVersion, Settled,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::run::{LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary};
use gantry_core::spec::WorkflowSpec;
use gantry_core::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};
use std::sync::Arc;
use std::time::Duration;

/// How workflow reads are shaped for the one asking.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowView<'a> {
    /// The configured environments in promotion order (active versions are
    /// listed in it).
    pub environments: &'a [String],
    /// The environments whose runs the reader may see (`last_run` and
    /// `recent_runs` come only from them); `None`: every one.
    pub runs_in: Option<&'a [String]>,
}

#[async_trait]
pub trait WorkflowStore: Send + Sync + 'static {
    /// Registers a version (or finds the identical one) in one transaction.
    ///
    /// Every write below that takes an `audit` event appends it in the same
    /// transaction as the change (fail closed: no record, no change).
    async fn apply_version(
        &self,
        new: NewVersion<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApplyOutcome>;

    async fn active_spec(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<ActiveSpec>>;

    /// Whether a workflow of this name exists at all.
    async fn workflow_exists(&self, workflow: &str) -> StoreResult<bool>;

    /// An immutable version's spec (cached: versions never change).
    async fn version_spec(&self, workflow_id: &str, version: u32)
    -> StoreResult<Arc<WorkflowSpec>>;

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
    ) -> StoreResult<Settled>;

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()>;

    /// Whether `worker` holds this attempt's lease right now (the execution
    /// API checks it before taking a remote worker's log lines).
    async fn attempt_held_by(&self, attempt: AttemptKey<'_>, worker: &str) -> StoreResult<bool>;

    /// Ends attempts whose lease expired as `lost`; returns how many.
    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<u32>;

    /// Starts timing out running runs past their deadline; returns how many.
    async fn sweep_deadlines(&self, now: DateTime<Utc>) -> StoreResult<u32>;

    async fn cancel_run(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<CancelOutcome>;

    /// Sets a lane's schedule switch (and its next fire time); `None` when
    /// the workflow is not active in that environment.
    async fn set_schedule_enabled(
        &self,
        workflow: &str,
        environment: &str,
        enabled: bool,
        next_fire_at: Option<DateTime<Utc>>,
        audit: AuditEvent,
    ) -> StoreResult<Option<ActiveVersion>>;

    async fn due_schedules(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueSchedule>>;

    /// Moves a schedule from `due.next_fire_at` to `next_fire_at` and creates
    /// its run, in one transaction; `None` when another process got there
    /// first (exactly one firing per slot).
    async fn fire_schedule(
        &self,
        due: &DueSchedule,
        next_fire_at: DateTime<Utc>,
        run: NewRun<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<RunSummary>>;

    /// Earliest time a queued step becomes ready, if any is waiting.
    async fn next_ready_at(&self) -> StoreResult<Option<DateTime<Utc>>>;

    async fn list_workflows(&self, view: WorkflowView<'_>) -> StoreResult<Vec<WorkflowSummary>>;

    async fn workflow_detail(
        &self,
        workflow: &str,
        version: Option<u32>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Option<WorkflowDetail>>;

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<RunPage>;

    async fn run_detail(&self, id: &str) -> StoreResult<Option<RunDetail>>;

    async fn run_summary(&self, id: &str) -> StoreResult<Option<RunSummary>>;

    async fn run_logs(&self, id: &str, query: &LogQuery) -> StoreResult<Option<LogPage>>;
}
