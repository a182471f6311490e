//! How a run row is read, and the small conversions the run, queue,
//! schedule and view files share. Compiled once per adapter like the rest
//! of `portable/`.

use super::Db;
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use gantry_core::run::{RunMode, RunStatus, RunSummary, StepStatus, Trigger};
use sqlx::{QueryBuilder, Row};

pub(super) type Tx = crate::store::write_turn::WriteTx<Db>;
type DbRow = <Db as sqlx::Database>::Row;

/// The columns of a [`RunSummary`]: what lists read (a list of 50 runs
/// decodes 50 rows of these, so the engine's columns stay out).
pub(super) const SUMMARY_COLUMNS: &str = "id, workflow_name, version, environment, status, stopping, \
     trigger_kind, triggered_by, created_at, started_at, finished_at";

/// A summary's columns and the ones the engine needs ([`RunHead`]).
pub(super) const RUN_COLUMNS: &str = "id, workflow_id, workflow_name, version, environment, status, stopping, \
     trigger_kind, triggered_by, created_at, started_at, finished_at, deadline, error, timeout_ms, traceparent";

/// The columns of a run the engine needs, read under the run's lock.
pub(super) struct RunHead {
    pub(super) summary: RunSummary,
    pub(super) workflow_id: String,
    pub(super) stopping: Option<String>,
    pub(super) deadline: Option<DateTime<Utc>>,
    pub(super) error: Option<String>,
    pub(super) timeout_ms: Option<i64>,
    /// The span that created the run (`runtime::telemetry::context`).
    pub(super) traceparent: Option<String>,
}

impl RunHead {
    pub(super) fn mode(&self) -> RunMode {
        match self.stopping.as_deref() {
            Some("cancel") => RunMode::Cancelling,
            Some("timeout") => RunMode::TimingOut,
            _ => RunMode::Normal,
        }
    }
}

/// Versions, attempts and line numbers are INTEGER (32-bit) columns.
pub(super) fn db_int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub(super) fn u32_of(v: i32, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}: {v}")))
}

/// A run read with [`SUMMARY_COLUMNS`] (or more).
pub(super) fn run_summary(row: &DbRow) -> StoreResult<RunSummary> {
    let status: String = row.try_get("status")?;
    let trigger: String = row.try_get("trigger_kind")?;
    let stopping: Option<&str> = row.try_get("stopping")?;
    Ok(RunSummary {
        id: row.try_get("id")?,
        workflow: row.try_get("workflow_name")?,
        version: u32_of(row.try_get("version")?, "version")?,
        environment: row.try_get("environment")?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run status {status:?}")))?,
        trigger: Trigger::parse(&trigger)
            .ok_or_else(|| StoreError::Corrupt(format!("trigger {trigger:?}")))?,
        triggered_by: row.try_get("triggered_by")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        cancel_requested: stopping.is_some(),
    })
}

/// A run read with [`RUN_COLUMNS`].
pub(super) fn run_head(row: &DbRow) -> StoreResult<RunHead> {
    Ok(RunHead {
        summary: run_summary(row)?,
        workflow_id: row.try_get("workflow_id")?,
        stopping: row.try_get("stopping")?,
        deadline: row.try_get("deadline")?,
        error: row.try_get("error")?,
        timeout_ms: row.try_get("timeout_ms")?,
        traceparent: row.try_get("traceparent")?,
    })
}

pub(super) fn step_status(s: &str) -> StoreResult<StepStatus> {
    StepStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("step status {s:?}")))
}

pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// ` AND environment IN (…)`: only runs of environments the reader may see.
pub(super) fn push_environment_filter<'a>(q: &mut QueryBuilder<'a, Db>, visible: &'a [String]) {
    // Empty: nothing visible (an impossible name keeps the SQL valid).
    q.push(" AND environment IN (");
    let mut list = q.separated(", ");
    for env in visible {
        list.push_bind(env.as_str());
    }
    if visible.is_empty() {
        list.push_bind("");
    }
    q.push(")");
}
