//! Runs' SQL for both databases, compiled once per adapter like the rest
//! of `portable/`: creating, admitting, cancelling and timing out runs,
//! and `settle`, which applies the planner's decision to a locked run
//! (the queue calls it after every attempt).
//!
//! Lock order (PostgreSQL): a lane (workflow × environment) row before any
//! run row; a run row before its step rows. Completing an attempt locks only
//! its run; admitting locks the lane and then runs, in a separate
//! transaction, so the two never wait on each other in a cycle.

use super::audit::append_in;
use super::run_rows::{RUN_COLUMNS, RunHead, Tx, corrupt, db_int, run_head, step_status};
use super::{Adapter, Db, FOR_SHARE, FOR_UPDATE, begin_write, notify_work};
use crate::store::queue::epoch_ms_ceil;
use crate::store::runs::{BacklogLimits, CancelOutcome, Dismissed, NewRun, RunStore};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::canary::Arm;
use gantry_core::dag::Dag;
use gantry_core::run::attention::RerunMode;
use gantry_core::run::{RunStatus, RunSummary, StepStatus, advance};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::collections::BTreeMap;
use std::time::Duration;

/// A lane's running runs (admission counts them against the limit).
pub(crate) const LANE_RUNNING: &str =
    "SELECT count(*) FROM runs WHERE workflow_id = $1 AND environment = $2 AND status = 'running'";

/// A lane's queued runs, oldest first, as admission reads them on every
/// trigger and every run's end. Both lane reads must be one range of
/// `runs_lane` (migration 0029): an index without `id` let SQLite walk the
/// lane's whole history instead (the store's plan tests hold it to that).
pub(crate) const LANE_QUEUED: &str = "SELECT id FROM runs WHERE workflow_id = $1 AND environment = $2 AND status = 'queued' ORDER BY id LIMIT 100";

impl Adapter {
    pub(super) async fn lock_run(&self, tx: &mut Tx, id: &str) -> StoreResult<Option<RunHead>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1{FOR_UPDATE}");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.as_ref().map(run_head).transpose()
    }

    async fn step_statuses(
        &self,
        tx: &mut Tx,
        run_id: &str,
    ) -> StoreResult<BTreeMap<String, StepStatus>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT step_id, status FROM run_steps WHERE run_id = $1")
                .bind(run_id)
                .fetch_all(&mut **tx)
                .await?;
        rows.into_iter()
            .map(|(id, s)| Ok((id, step_status(&s)?)))
            .collect()
    }

    /// Applies the planner's decision for a locked run. Returns (the steps
    /// it readied, run finished).
    pub(super) async fn settle(
        &self,
        tx: &mut Tx,
        run: &RunHead,
        now: DateTime<Utc>,
    ) -> StoreResult<(Vec<String>, bool)> {
        let spec = self
            .spec_in(tx, &run.workflow_id, run.summary.version)
            .await?;
        let dag = Dag::from_spec(&spec).map_err(corrupt)?;
        let statuses = self.step_statuses(tx, &run.summary.id).await?;
        let plan = advance(&dag, &statuses, run.mode());
        // Rounded up: claims compare whole milliseconds, so a step readied
        // at 12:00:00.000900 must not be claimable at .000500 (its start
        // would then read as before its dependency finished).
        let now_ms = epoch_ms_ceil(now);
        for step in &plan.queue {
            sqlx::query(
                "UPDATE run_steps SET status = 'queued', ready_at_ms = $1
                 WHERE run_id = $2 AND step_id = $3 AND status = 'pending'",
            )
            .bind(now_ms)
            .bind(&run.summary.id)
            .bind(step)
            .execute(&mut **tx)
            .await?;
        }
        for step in &plan.skip {
            sqlx::query(
                "UPDATE run_steps SET status = 'skipped', finished_at = $1
                 WHERE run_id = $2 AND step_id = $3 AND status = 'pending'",
            )
            .bind(now)
            .bind(&run.summary.id)
            .bind(step)
            .execute(&mut **tx)
            .await?;
        }
        for step in &plan.cancel {
            sqlx::query(
                "UPDATE run_steps SET status = 'cancelled', finished_at = $1, ready_at_ms = NULL
                 WHERE run_id = $2 AND step_id = $3 AND status IN ('pending', 'queued')",
            )
            .bind(now)
            .bind(&run.summary.id)
            .bind(step)
            .execute(&mut **tx)
            .await?;
        }
        let mut finished = false;
        if let Some(status) = plan.finish_run {
            run.summary.status.transition(status).map_err(corrupt)?;
            sqlx::query(
                "UPDATE runs SET status = $1, finished_at = $2
                 WHERE id = $3 AND status IN ('queued', 'running')",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(&run.summary.id)
            .execute(&mut **tx)
            .await?;
            finished = true;
        }
        if !plan.queue.is_empty() {
            notify_work(tx, &self.signal).await?;
        }
        Ok((plan.queue, finished))
    }

    pub(super) async fn start_timing_out(&self, tx: &mut Tx, run: &mut RunHead) -> StoreResult<()> {
        let timeout = run
            .timeout_ms
            .map(|ms| {
                humantime::format_duration(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
                    .to_string()
            })
            .unwrap_or_default();
        let error = format!("the run exceeded its {timeout} timeout");
        sqlx::query("UPDATE runs SET stopping = 'timeout', error = $1 WHERE id = $2")
            .bind(&error)
            .bind(&run.summary.id)
            .execute(&mut **tx)
            .await?;
        run.stopping = Some("timeout".into());
        run.error = Some(error);
        run.summary.cancel_requested = true;
        Ok(())
    }

    pub(super) async fn insert_run(
        &self,
        tx: &mut Tx,
        new: &NewRun<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<RunSummary> {
        // Only the canary's side needs the canary alive (an end moves
        // queued canary runs; stable ones stay as they are).
        if let Some(tag) = new.canary.filter(|t| t.arm == Arm::Canary && !new.pinned) {
            // Shared: an end of this canary waits for this admission (and
            // then moves the run), or this admission waits for the end and
            // sees it. Taken before the lane's row (the backlog check
            // below), the order a canary's change takes them in (its row,
            // then the lane's when it promotes): the other way round, a
            // trigger and a promotion deadlocked on PostgreSQL.
            let state: Option<(String, i32)> = sqlx::query_as(&format!(
                "SELECT state, weight FROM canaries WHERE id = $1{FOR_SHARE}"
            ))
            .bind(tag.canary_id)
            .fetch_optional(&mut **tx)
            .await?;
            let live = state
                .as_ref()
                .is_some_and(|(s, w)| (s == "running" || s == "paused") && *w > 0);
            if !live {
                return Err(StoreError::CanaryEnded);
            }
        }
        if let Some(limits) = new.backlog {
            Self::check_backlog(tx, limits, &new.active.workflow_id, new.environment).await?;
        }
        let id = new.id.clone();
        if let Some(link) = new.rerun {
            let closed = sqlx::query(
                "UPDATE runs SET attention_closed_at = $1, attention_closed_by = $2,
                                 attention_rerun = $3
                 WHERE id = $4 AND status IN ('failed', 'timed_out')
                   AND attention_closed_at IS NULL",
            )
            .bind(now)
            .bind(new.triggered_by)
            .bind(&id)
            .bind(link.of)
            .execute(&mut **tx)
            .await?;
            if closed.rows_affected() != 1 {
                return Err(StoreError::AttentionClosed);
            }
        }
        let spec = &new.active.spec;
        let timeout_ms = spec
            .timeout
            .as_ref()
            .map(|t| i64::try_from(t.0.as_millis()).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO runs (id, workflow_id, workflow_name, version, environment, status,
                               trigger_kind, triggered_by, triggered_by_id, inputs, timeout_ms,
                               scheduled_for, created_at, traceparent, canary_id, canary_arm,
                               pinned, rerun_of, rerun_mode)
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                     $16, $17, $18)",
        )
        .bind(&id)
        .bind(&new.active.workflow_id)
        .bind(&new.active.workflow)
        .bind(db_int(new.active.version))
        .bind(new.environment)
        .bind(new.trigger.as_str())
        .bind(new.triggered_by)
        .bind(new.triggered_by_id)
        .bind(Json(new.inputs))
        .bind(timeout_ms)
        .bind(new.scheduled_for)
        .bind(now)
        .bind(&new.traceparent)
        .bind(new.canary.map(|t| t.canary_id))
        .bind(new.canary.map(|t| t.arm.as_str()))
        .bind(new.pinned)
        .bind(new.rerun.map(|l| l.of))
        .bind(new.rerun.map(|l| l.mode.as_str()))
        .execute(&mut **tx)
        .await?;
        Self::insert_steps(tx, &id, spec).await?;
        if let Some(link) = new.rerun.filter(|l| l.mode == RerunMode::FromFailedStep) {
            // The steps that succeeded (or were skipped) keep their result
            // and outputs; the planner then starts from the failed ones.
            sqlx::query(
                "UPDATE run_steps AS n
                 SET status = o.status, outputs = o.outputs, started_at = o.started_at,
                     finished_at = o.finished_at, reused_from = o.run_id
                 FROM run_steps AS o
                 WHERE n.run_id = $1 AND o.run_id = $2 AND o.step_id = n.step_id
                   AND o.status IN ('succeeded', 'skipped')",
            )
            .bind(&id)
            .bind(link.of)
            .execute(&mut **tx)
            .await?;
        }
        Ok(RunSummary {
            id,
            workflow: new.active.workflow.clone(),
            version: new.active.version,
            environment: new.environment.to_owned(),
            status: RunStatus::Queued,
            trigger: new.trigger,
            triggered_by: new.triggered_by.to_owned(),
            created_at: now,
            started_at: None,
            finished_at: None,
            cancel_requested: false,
        })
    }
}

impl Adapter {
    /// Backpressure: refuses a new run when its lane, its environment or
    /// the server has as many unfinished runs as allowed. The lane row is
    /// locked first, so the workflow's limit holds exactly across
    /// processes; the wider two may be overshot by runs of other lanes
    /// committing at the same instant (at most one per concurrent writer).
    async fn check_backlog(
        tx: &mut Tx,
        limits: BacklogLimits,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<()> {
        if limits == BacklogLimits::default() {
            return Ok(());
        }
        sqlx::query(&format!(
            "SELECT version FROM workflow_environments
             WHERE workflow_id = $1 AND environment = $2{FOR_UPDATE}"
        ))
        .bind(workflow_id)
        .bind(environment)
        .fetch_optional(&mut **tx)
        .await?;
        let counts: (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN workflow_id = $1 AND environment = $2 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN environment = $2 THEN 1 ELSE 0 END), 0),
                    count(*)
             FROM runs WHERE status IN ('queued', 'running')",
        )
        .bind(workflow_id)
        .bind(environment)
        .fetch_one(&mut **tx)
        .await?;
        match limits.breached(counts) {
            Some(refused) => Err(StoreError::Backlogged(refused)),
            None => Ok(()),
        }
    }

    /// A run's step rows, all pending, in the spec's order.
    pub(super) async fn insert_steps(
        tx: &mut Tx,
        id: &str,
        spec: &gantry_core::spec::WorkflowSpec,
    ) -> StoreResult<()> {
        let mut insert =
            QueryBuilder::<Db>::new("INSERT INTO run_steps (run_id, step_id, position, status) ");
        insert.push_values(spec.steps.iter().enumerate(), |mut b, (i, step)| {
            b.push_bind(id)
                .push_bind(&step.id)
                .push_bind(i32::try_from(i).unwrap_or(i32::MAX))
                .push_bind("pending");
        });
        insert.build().execute(&mut **tx).await?;
        Ok(())
    }
}

#[async_trait]
impl RunStore for Adapter {
    async fn create_run(
        &self,
        new: NewRun<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<RunSummary> {
        let mut tx = begin_write(&self.writes).await?;
        let run = self.insert_run(&mut tx, &new, now).await?;
        append_in(&mut tx, audit.detail("run_id", run.id.clone())).await?;
        tx.commit().await?;
        Ok(run)
    }

    async fn admit(
        &self,
        workflow_id: &str,
        environment: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        // The lane row serializes admissions across processes.
        let lane: Option<i32> = sqlx::query_scalar(&format!(
            "SELECT version FROM workflow_environments WHERE workflow_id = $1 AND environment = $2{FOR_UPDATE}"
        ))
        .bind(workflow_id)
        .bind(environment)
        .fetch_optional(&mut *tx)
        .await?;
        if lane.is_none() {
            return Ok(false);
        }
        let running: i64 = sqlx::query_scalar(LANE_RUNNING)
            .bind(workflow_id)
            .bind(environment)
            .fetch_one(&mut *tx)
            .await?;
        let queued: Vec<String> = sqlx::query_scalar(LANE_QUEUED)
            .bind(workflow_id)
            .bind(environment)
            .fetch_all(&mut *tx)
            .await?;
        let mut running = running;
        let mut started = false;
        for id in queued {
            let Some(head) = self.lock_run(&mut tx, &id).await? else {
                continue;
            };
            if head.summary.status != RunStatus::Queued {
                continue;
            }
            let spec = self
                .spec_in(&mut tx, workflow_id, head.summary.version)
                .await?;
            // Each run obeys the limit of the version it runs.
            if let Some(limit) = spec.concurrency
                && running >= i64::from(limit)
            {
                break;
            }
            let deadline = head
                .timeout_ms
                .map(|ms| now + chrono::Duration::milliseconds(ms));
            head.summary
                .status
                .transition(RunStatus::Running)
                .map_err(corrupt)?;
            sqlx::query(
                "UPDATE runs SET status = 'running', started_at = $1, deadline = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(deadline)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            let mut head = head;
            head.summary.status = RunStatus::Running;
            self.settle(&mut tx, &head, now).await?;
            running += 1;
            started = true;
        }
        tx.commit().await?;
        if started {
            self.signal.notify();
        }
        Ok(started)
    }

    async fn admit_all(&self, now: DateTime<Utc>) -> StoreResult<bool> {
        // Filtered on exactly `runs_active`'s predicate and narrowed here:
        // SQLite doesn't see that `status = 'queued'` implies it, and scans
        // every run (`alert_facts.rs` found the same).
        let active: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT workflow_id, environment, status FROM runs WHERE status IN ('queued', 'running')",
        )
        .fetch_all(&self.pool)
        .await?;
        let lanes: std::collections::BTreeSet<(String, String)> = active
            .into_iter()
            .filter(|(.., status)| status == "queued")
            .map(|(workflow_id, env, _)| (workflow_id, env))
            .collect();
        let mut any = false;
        for (workflow_id, env) in lanes {
            any |= self.admit(&workflow_id, &env, now).await?;
        }
        Ok(any)
    }

    async fn cancel_run(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<CancelOutcome> {
        let mut tx = begin_write(&self.writes).await?;
        let Some(mut run) = self.lock_run(&mut tx, id).await? else {
            return Ok(CancelOutcome::NotFound);
        };
        if run.summary.status.is_terminal() {
            return Ok(CancelOutcome::AlreadyFinished(run.summary.status));
        }
        if run.stopping.is_none() {
            sqlx::query("UPDATE runs SET stopping = 'cancel' WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            run.stopping = Some("cancel".into());
        }
        let (_, finished) = self.settle(&mut tx, &run, now).await?;
        notify_work(&mut tx, &self.signal).await?;
        append_in(&mut tx, audit.detail("finished", finished)).await?;
        tx.commit().await?;
        self.signal.notify();
        let mut summary = run.summary;
        summary.cancel_requested = true;
        if finished {
            summary.status = RunStatus::Cancelled;
            summary.finished_at = Some(now);
        }
        Ok(CancelOutcome::Accepted(summary))
    }
    async fn dismiss_run(
        &self,
        id: &str,
        by: &str,
        note: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Dismissed> {
        let mut tx = begin_write(&self.writes).await?;
        let closed = sqlx::query(
            "UPDATE runs SET attention_closed_at = $1, attention_closed_by = $2,
                             attention_note = $3
             WHERE id = $4 AND status IN ('failed', 'timed_out')
               AND attention_closed_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() != 1 {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM runs WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(if exists.is_some() {
                Dismissed::NotOpen
            } else {
                Dismissed::NotFound
            });
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Dismissed::Done)
    }

    async fn sweep_deadlines(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>> {
        // `runs_active`'s predicate exactly, as in `admit_all`.
        let active: Vec<(String, String, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT id, status, stopping, deadline FROM runs WHERE status IN ('queued', 'running')",
        )
        .fetch_all(&self.pool)
        .await?;
        let late: Vec<String> = active
            .into_iter()
            .filter(|(_, status, stopping, deadline)| {
                status == "running" && stopping.is_none() && deadline.is_some_and(|d| d < now)
            })
            .map(|(id, ..)| id)
            .collect();
        let mut swept = 0;
        let mut finished = Vec::new();
        for id in late {
            let mut tx = begin_write(&self.writes).await?;
            let Some(mut run) = self.lock_run(&mut tx, &id).await? else {
                continue;
            };
            if run.summary.status != RunStatus::Running || run.stopping.is_some() {
                continue;
            }
            self.start_timing_out(&mut tx, &mut run).await?;
            let (_, done) = self.settle(&mut tx, &run, now).await?;
            notify_work(&mut tx, &self.signal).await?;
            tx.commit().await?;
            swept += 1;
            if done {
                finished.push(id);
            }
        }
        if swept > 0 {
            self.signal.notify();
        }
        Ok(finished)
    }
}
