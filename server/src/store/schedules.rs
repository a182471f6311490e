//! Cron schedules: switching a lane's schedule on or off, finding the due
//! ones, and firing a slot exactly once however many schedulers run. Both
//! adapters implement it from `portable/schedules.rs`.

use super::StoreResult;
use super::runs::NewRun;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::run::RunSummary;
use gantry_core::workflow::ActiveVersion;

/// A schedule whose next fire time has come.
#[derive(Debug, Clone)]
pub struct DueSchedule {
    pub workflow_id: String,
    pub workflow: String,
    pub environment: String,
    pub version: u32,
    pub next_fire_at: DateTime<Utc>,
}

/// A lane's schedule switched on or off.
pub struct ScheduleSwitch<'a> {
    pub workflow: &'a str,
    pub environment: &'a str,
    pub enabled: bool,
    /// Its next slot (`None` while off).
    pub next_fire_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait ScheduleStore: Send + Sync + 'static {
    /// Sets a lane's schedule switch (and its next fire time); `None` when
    /// the workflow is not active in that environment.
    async fn set_schedule_enabled(
        &self,
        switch: ScheduleSwitch<'_>,
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

    /// Moves a schedule past its slot without a run (backpressure), with
    /// the record saying so, in one transaction; `false` when another
    /// process moved it first.
    async fn skip_schedule(
        &self,
        due: &DueSchedule,
        next_fire_at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
}
