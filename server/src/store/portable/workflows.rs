//! The workflow store's SQL and transaction logic, identical on SQLite and
//! PostgreSQL. This file is compiled twice, once as a child module of each
//! adapter (`#[path]` in `sqlite.rs` and `postgres.rs`); `super` supplies the
//! database type (`Db`), the adapter (`Adapter`) and the few things that
//! differ: how a write transaction begins, row-lock clauses, and how other
//! processes are woken. Placeholders are `$N`, which both drivers accept.
//!
//! Lock order (PostgreSQL): a lane (workflow × environment) row before any
//! run row; a run row before its step rows. Completing an attempt locks only
//! its run; admitting locks the lane and then runs, in a separate
//! transaction, so the two never wait on each other in a cycle.

use super::audit::append_in;
use super::{Adapter, Db, FOR_UPDATE, SKIP_LOCKED, begin_write, notify_work};
use crate::store::records::{
    ActiveSpec, AttemptKey, AttemptResult, Beat, CancelOutcome, Claim, DueSchedule, NewLogLine,
    NewRun, NewVersion, Settled, epoch_ms, epoch_ms_ceil,
};
use crate::store::workflows::{WorkflowStore, WorkflowView};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::dag::Dag;
use gantry_core::run::{
    AttemptEnd, AttemptStatus, AttemptView, LogLine, LogPage, LogQuery, LogStream, RunDetail,
    RunFilter, RunMode, RunPage, RunStatus, RunSummary, StepNext, StepRun, StepStatus, Trigger,
    advance, after_attempt,
};
use gantry_core::spec::{StepKind, WorkflowSpec};
use gantry_core::workflow::{
    ActiveVersion, ApplyOutcome, VersionInfo, WorkflowDetail, WorkflowSummary,
};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row, Transaction};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

type Tx = Transaction<'static, Db>;
type DbRow = <Db as sqlx::Database>::Row;

const RUN_COLUMNS: &str = "id, workflow_id, workflow_name, version, environment, status, stopping, \
     trigger_kind, triggered_by, created_at, started_at, finished_at, deadline, error, timeout_ms";

/// The columns of a run the engine needs, read under the run's lock.
struct RunHead {
    summary: RunSummary,
    workflow_id: String,
    stopping: Option<String>,
    deadline: Option<DateTime<Utc>>,
    error: Option<String>,
    timeout_ms: Option<i64>,
}

impl RunHead {
    fn mode(&self) -> RunMode {
        match self.stopping.as_deref() {
            Some("cancel") => RunMode::Cancelling,
            Some("timeout") => RunMode::TimingOut,
            _ => RunMode::Normal,
        }
    }
}

/// Versions, attempts and line numbers are INTEGER (32-bit) columns.
fn db_int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn u32_of(v: i32, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}: {v}")))
}

fn run_head(row: &DbRow) -> StoreResult<RunHead> {
    let status: String = row.try_get("status")?;
    let trigger: String = row.try_get("trigger_kind")?;
    let stopping: Option<String> = row.try_get("stopping")?;
    Ok(RunHead {
        summary: RunSummary {
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
        },
        workflow_id: row.try_get("workflow_id")?,
        stopping,
        deadline: row.try_get("deadline")?,
        error: row.try_get("error")?,
        timeout_ms: row.try_get("timeout_ms")?,
    })
}

fn step_status(s: &str) -> StoreResult<StepStatus> {
    StepStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("step status {s:?}")))
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Adapter {
    async fn lock_run(&self, tx: &mut Tx, id: &str) -> StoreResult<Option<RunHead>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1{FOR_UPDATE}");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.as_ref().map(run_head).transpose()
    }

    /// A version's spec, read through `exec` (the open transaction, or the
    /// pool) unless cached; versions are immutable, so the cache never lies.
    async fn cached_spec<'e, E>(
        &self,
        exec: E,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let key = (workflow_id.to_owned(), version);
        if let Some(spec) = self.specs.get(&key) {
            return Ok(spec);
        }
        let Json(spec): Json<WorkflowSpec> = sqlx::query_scalar(
            "SELECT spec FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(workflow_id)
        .bind(db_int(version))
        .fetch_one(exec)
        .await?;
        Ok(self.specs.insert(key, spec))
    }

    async fn spec_in(
        &self,
        tx: &mut Tx,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>> {
        self.cached_spec(&mut **tx, workflow_id, version).await
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

    /// Applies the planner's decision for a locked run. Returns (queued any,
    /// run finished).
    async fn settle(
        &self,
        tx: &mut Tx,
        run: &RunHead,
        now: DateTime<Utc>,
    ) -> StoreResult<(bool, bool)> {
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
            notify_work(tx).await?;
        }
        Ok((!plan.queue.is_empty(), finished))
    }

    async fn start_timing_out(&self, tx: &mut Tx, run: &mut RunHead) -> StoreResult<()> {
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
        let id = uuid::Uuid::now_v7().to_string();
        let spec = &new.active.spec;
        let timeout_ms = spec
            .timeout
            .as_ref()
            .map(|t| i64::try_from(t.0.as_millis()).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO runs (id, workflow_id, workflow_name, version, environment, status,
                               trigger_kind, triggered_by, triggered_by_id, inputs, timeout_ms,
                               scheduled_for, created_at)
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12)",
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
        .execute(&mut **tx)
        .await?;
        let mut insert =
            QueryBuilder::<Db>::new("INSERT INTO run_steps (run_id, step_id, position, status) ");
        insert.push_values(spec.steps.iter().enumerate(), |mut b, (i, step)| {
            b.push_bind(&id)
                .push_bind(&step.id)
                .push_bind(i32::try_from(i).unwrap_or(i32::MAX))
                .push_bind("pending");
        });
        insert.build().execute(&mut **tx).await?;
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

    async fn outputs_of(
        &self,
        tx: &mut Tx,
        run_id: &str,
    ) -> StoreResult<BTreeMap<String, BTreeMap<String, String>>> {
        let rows: Vec<(String, Json<BTreeMap<String, String>>)> = sqlx::query_as(
            "SELECT step_id, outputs FROM run_steps WHERE run_id = $1 AND status = 'succeeded'",
        )
        .bind(run_id)
        .fetch_all(&mut **tx)
        .await?;
        Ok(rows.into_iter().map(|(k, Json(v))| (k, v)).collect())
    }

    async fn summaries(&self, sql: &str, bind: Option<&str>) -> StoreResult<Vec<RunSummary>> {
        let mut q = sqlx::query(sql);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(run_head(r)?.summary)).collect()
    }

    /// The newest run per workflow among the environments the reader may
    /// see (ids are time-ordered).
    async fn last_runs(
        &self,
        runs_in: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, RunSummary>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id IN (SELECT max(id) FROM runs WHERE 1 = 1"
        ));
        if let Some(visible) = runs_in {
            push_environment_filter(&mut q, visible);
        }
        q.push(" GROUP BY workflow_id)");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let run = run_head(r)?.summary;
                Ok((run.workflow.clone(), run))
            })
            .collect()
    }

    async fn active_versions(
        &self,
        environments: &[String],
    ) -> StoreResult<BTreeMap<String, Vec<ActiveVersion>>> {
        let rows = sqlx::query(
            "SELECT workflow_id, environment, version, schedule_enabled, next_fire_at
             FROM workflow_environments",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_workflow: BTreeMap<String, Vec<ActiveVersion>> = BTreeMap::new();
        for row in rows {
            let environment: String = row.try_get("environment")?;
            by_workflow
                .entry(row.try_get("workflow_id")?)
                .or_default()
                .push(ActiveVersion {
                    environment,
                    version: u32_of(row.try_get("version")?, "version")?,
                    schedule_enabled: row.try_get("schedule_enabled")?,
                    next_fire_at: row.try_get("next_fire_at")?,
                });
        }
        let rank = |env: &str| {
            environments
                .iter()
                .position(|e| e == env)
                .unwrap_or(usize::MAX)
        };
        for list in by_workflow.values_mut() {
            list.sort_by_key(|a| rank(&a.environment));
        }
        Ok(by_workflow)
    }

    async fn summaries_of_workflows(
        &self,
        only: Option<&str>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Vec<(String, WorkflowSummary)>> {
        let rows = sqlx::query(
            "SELECT w.id, w.name, v.version, v.spec
             FROM workflows w
             JOIN workflow_versions v ON v.workflow_id = w.id
              AND v.version = (SELECT max(version) FROM workflow_versions WHERE workflow_id = w.id)
             WHERE $1 IS NULL OR w.name = $1
             ORDER BY w.name",
        )
        .bind(only)
        .fetch_all(&self.pool)
        .await?;
        let mut active = self.active_versions(view.environments).await?;
        let mut last = self.last_runs(view.runs_in).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let name: String = row.try_get("name")?;
                let Json(spec): Json<WorkflowSpec> = row.try_get("spec")?;
                Ok((
                    id.clone(),
                    WorkflowSummary {
                        description: spec.description.clone(),
                        latest_version: u32_of(row.try_get("version")?, "version")?,
                        active: active.remove(&id).unwrap_or_default(),
                        schedule: spec.schedule.clone(),
                        last_run: last.remove(&name),
                        name,
                    },
                ))
            })
            .collect()
    }
}

/// ` AND environment IN (…)`: only runs of environments the reader may see.
fn push_environment_filter<'a>(q: &mut QueryBuilder<'a, Db>, visible: &'a [String]) {
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

#[async_trait]
impl WorkflowStore for Adapter {
    async fn apply_version(
        &self,
        new: NewVersion<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApplyOutcome> {
        let hash = new.spec.content_hash();
        let name = &new.spec.name;
        let mut tx = begin_write(&self.pool).await?;
        let existing: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM workflows WHERE name = $1{FOR_UPDATE}"
        ))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let workflow_id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                // ON CONFLICT: a concurrent first apply of the same name wins
                // the insert; we then lock and use its row.
                sqlx::query(
                    "INSERT INTO workflows (id, name, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&id)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query_scalar(&format!(
                    "SELECT id FROM workflows WHERE name = $1{FOR_UPDATE}"
                ))
                .bind(name)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let same: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM workflow_versions WHERE workflow_id = $1 AND content_hash = $2",
        )
        .bind(&workflow_id)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(version) = same {
            // Nothing changes, but the attempt is still on record.
            append_in(
                &mut tx,
                audit
                    .detail("version", version)
                    .detail("content_hash", hash.clone())
                    .detail("created", false),
            )
            .await?;
            tx.commit().await?;
            return Ok(ApplyOutcome {
                workflow: name.clone(),
                version: u32_of(version, "version")?,
                content_hash: hash,
                created: false,
                activated_in: None,
            });
        }
        let latest: Option<i32> =
            sqlx::query_scalar("SELECT max(version) FROM workflow_versions WHERE workflow_id = $1")
                .bind(&workflow_id)
                .fetch_one(&mut *tx)
                .await?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO workflow_versions (workflow_id, version, content_hash, spec, source, created_at,
                 created_by, created_by_person)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&workflow_id)
        .bind(version)
        .bind(&hash)
        .bind(Json(new.spec))
        .bind(new.source)
        .bind(now)
        .bind(new.created_by)
        .bind(new.created_by_person)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO workflow_environments (workflow_id, environment, version, schedule_enabled,
                                                next_fire_at, activated_at, activated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workflow_id, environment) DO UPDATE SET
                version = excluded.version, next_fire_at = excluded.next_fire_at,
                activated_at = excluded.activated_at, activated_by = excluded.activated_by",
        )
        .bind(&workflow_id)
        .bind(new.activate_in)
        .bind(version)
        .bind(true)
        .bind(new.next_fire_at)
        .bind(now)
        .bind(new.created_by)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            audit
                .detail("version", version)
                .detail("content_hash", hash.clone())
                .detail("created", true)
                .detail("activated_in", new.activate_in),
        )
        .await?;
        tx.commit().await?;
        Ok(ApplyOutcome {
            workflow: name.clone(),
            version: u32_of(version, "version")?,
            content_hash: hash,
            created: true,
            activated_in: Some(new.activate_in.to_owned()),
        })
    }

    async fn active_spec(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<ActiveSpec>> {
        let row: Option<(String, i32)> = sqlx::query_as(
            "SELECT w.id, e.version FROM workflows w
             JOIN workflow_environments e ON e.workflow_id = w.id AND e.environment = $2
             WHERE w.name = $1",
        )
        .bind(workflow)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?;
        let Some((workflow_id, version)) = row else {
            return Ok(None);
        };
        let version = u32_of(version, "version")?;
        let spec = self.version_spec(&workflow_id, version).await?;
        Ok(Some(ActiveSpec {
            workflow_id,
            workflow: workflow.to_owned(),
            version,
            spec,
        }))
    }

    async fn workflow_exists(&self, workflow: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM workflows WHERE name = $1")
            .bind(workflow)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn version_spec(
        &self,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>> {
        self.cached_spec(&self.pool, workflow_id, version).await
    }

    async fn create_run(
        &self,
        new: NewRun<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<RunSummary> {
        let mut tx = begin_write(&self.pool).await?;
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
        let mut tx = begin_write(&self.pool).await?;
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
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM runs WHERE workflow_id = $1 AND environment = $2 AND status = 'running'",
        )
        .bind(workflow_id)
        .bind(environment)
        .fetch_one(&mut *tx)
        .await?;
        let queued: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE workflow_id = $1 AND environment = $2 AND status = 'queued'
             ORDER BY id LIMIT 100",
        )
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
        let lanes: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT workflow_id, environment FROM runs WHERE status = 'queued'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut any = false;
        for (workflow_id, env) in lanes {
            any |= self.admit(&workflow_id, &env, now).await?;
        }
        Ok(any)
    }

    async fn claim_steps(
        &self,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Vec<Claim>> {
        let now_ms = epoch_ms(now);
        let until = now_ms + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let mut tx = begin_write(&self.pool).await?;
        let sql = format!(
            "UPDATE run_steps SET status = 'running', attempt = attempt + 1, lease_owner = $1,
                    lease_until_ms = $2, ready_at_ms = NULL, started_at = COALESCE(started_at, $3)
             WHERE (run_id, step_id) IN (
                 SELECT run_id, step_id FROM run_steps
                 WHERE status = 'queued' AND ready_at_ms <= $4
                 ORDER BY ready_at_ms LIMIT $5{SKIP_LOCKED})
             RETURNING run_id, step_id, attempt"
        );
        let claimed: Vec<(String, String, i32)> = sqlx::query_as(&sql)
            .bind(worker)
            .bind(until)
            .bind(now)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut claims = Vec::with_capacity(claimed.len());
        let mut runs: BTreeMap<String, (RunHead, BTreeMap<String, Value>)> = BTreeMap::new();
        for (run_id, step_id, attempt) in claimed {
            sqlx::query(
                "INSERT INTO step_attempts (run_id, step_id, attempt, status, worker, started_at)
                 VALUES ($1, $2, $3, 'running', $4, $5)",
            )
            .bind(&run_id)
            .bind(&step_id)
            .bind(attempt)
            .bind(worker)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if !runs.contains_key(&run_id) {
                let sql = format!("SELECT {RUN_COLUMNS}, inputs FROM runs WHERE id = $1");
                let row = sqlx::query(&sql).bind(&run_id).fetch_one(&mut *tx).await?;
                let Json(inputs): Json<BTreeMap<String, Value>> = row.try_get("inputs")?;
                runs.insert(run_id.clone(), (run_head(&row)?, inputs));
            }
            let Some((head, inputs)) = runs.get(&run_id) else {
                continue;
            };
            claims.push(Claim {
                outputs: self.outputs_of(&mut tx, &run_id).await?,
                run_id,
                step_id,
                attempt: u32_of(attempt, "attempt")?,
                workflow_id: head.workflow_id.clone(),
                workflow: head.summary.workflow.clone(),
                version: head.summary.version,
                environment: head.summary.environment.clone(),
                inputs: inputs.clone(),
                deadline: head.deadline,
            });
        }
        tx.commit().await?;
        Ok(claims)
    }

    async fn heartbeat(
        &self,
        claim: AttemptKey<'_>,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Beat> {
        let until = epoch_ms(now) + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let done = sqlx::query(
            "UPDATE run_steps SET lease_until_ms = $1
             WHERE run_id = $2 AND step_id = $3 AND attempt = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(until)
        .bind(claim.run_id)
        .bind(claim.step_id)
        .bind(db_int(claim.attempt))
        .bind(worker)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(Beat::Lost);
        }
        let stopping: Option<String> =
            sqlx::query_scalar("SELECT stopping FROM runs WHERE id = $1")
                .bind(claim.run_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(if stopping.is_some() {
            Beat::Stop
        } else {
            Beat::Continue
        })
    }

    async fn finish_attempt(
        &self,
        result: AttemptResult,
        now: DateTime<Utc>,
    ) -> StoreResult<Settled> {
        let mut tx = begin_write(&self.pool).await?;
        let Some(mut run) = self.lock_run(&mut tx, &result.run_id).await? else {
            return Ok(Settled::default());
        };
        let row: Option<(String, i32, Option<String>)> = sqlx::query_as(
            "SELECT status, attempt, lease_owner FROM run_steps WHERE run_id = $1 AND step_id = $2",
        )
        .bind(&result.run_id)
        .bind(&result.step_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, attempt, owner)) = row else {
            return Ok(Settled::default());
        };
        let status = step_status(&status)?;
        // A report from a worker that no longer owns this attempt (its lease
        // was reaped, a newer attempt runs) must not touch anything.
        if status != StepStatus::Running
            || u32_of(attempt, "attempt")? != result.attempt
            || owner.as_deref() != Some(result.worker.as_str())
        {
            return Ok(Settled::default());
        }
        // Past the run's deadline the run is timing out, whether or not the
        // sweeper has noticed yet (the worker cut the step at the deadline).
        if run.stopping.is_none() && run.deadline.is_some_and(|d| now >= d) {
            self.start_timing_out(&mut tx, &mut run).await?;
        }
        let spec = self
            .spec_in(&mut tx, &run.workflow_id, run.summary.version)
            .await?;
        let step = spec
            .step(&result.step_id)
            .ok_or_else(|| corrupt(format!("step {} not in spec", result.step_id)))?;
        let attempt_status = match result.end {
            AttemptEnd::Succeeded => AttemptStatus::Succeeded,
            AttemptEnd::Failed => AttemptStatus::Failed,
            AttemptEnd::TimedOut => AttemptStatus::TimedOut,
            AttemptEnd::Stopped => AttemptStatus::Cancelled,
            AttemptEnd::Lost => AttemptStatus::Lost,
        };
        sqlx::query(
            "UPDATE step_attempts SET status = $1, finished_at = $2, exit_code = $3, error = $4
             WHERE run_id = $5 AND step_id = $6 AND attempt = $7 AND status = 'running'",
        )
        .bind(attempt_status.as_str())
        .bind(now)
        .bind(result.exit_code)
        .bind(&result.error)
        .bind(&result.run_id)
        .bind(&result.step_id)
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
        let mut requeued = false;
        match after_attempt(step, result.attempt, result.end, run.mode()) {
            StepNext::Finish(next) => {
                status.transition(next).map_err(corrupt)?;
                let outputs = if next == StepStatus::Succeeded {
                    result.outputs.clone()
                } else {
                    BTreeMap::new()
                };
                sqlx::query(
                    "UPDATE run_steps SET status = $1, finished_at = $2, lease_owner = NULL,
                            lease_until_ms = NULL, outputs = $3
                     WHERE run_id = $4 AND step_id = $5",
                )
                .bind(next.as_str())
                .bind(now)
                .bind(Json(&outputs))
                .bind(&result.run_id)
                .bind(&result.step_id)
                .execute(&mut *tx)
                .await?;
            }
            StepNext::Retry { after } => {
                status.transition(StepStatus::Queued).map_err(corrupt)?;
                let ready =
                    epoch_ms(now) + i64::try_from(after.as_millis()).unwrap_or(i64::MAX / 2);
                sqlx::query(
                    "UPDATE run_steps SET status = 'queued', ready_at_ms = $1, lease_owner = NULL,
                            lease_until_ms = NULL
                     WHERE run_id = $2 AND step_id = $3",
                )
                .bind(ready)
                .bind(&result.run_id)
                .bind(&result.step_id)
                .execute(&mut *tx)
                .await?;
                notify_work(&mut tx).await?;
                requeued = true;
            }
        }
        let (queued, run_finished) = self.settle(&mut tx, &run, now).await?;
        tx.commit().await?;
        if queued || requeued {
            self.signal.notify();
        }
        Ok(Settled {
            accepted: true,
            queued: queued || requeued,
            run_finished,
            workflow_id: run.workflow_id.clone(),
            environment: run.summary.environment.clone(),
        })
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        // Bounded batches keep under both databases' bind-parameter limits.
        for chunk in lines.chunks(500) {
            let mut insert = QueryBuilder::<Db>::new(
                "INSERT INTO step_logs (run_id, step_id, attempt, line, stream, at, text) ",
            );
            insert.push_values(chunk, |mut b, l| {
                b.push_bind(&l.run_id)
                    .push_bind(&l.step_id)
                    .push_bind(db_int(l.attempt))
                    .push_bind(db_int(l.line))
                    .push_bind(l.stream.as_str())
                    .push_bind(l.at)
                    .push_bind(&l.text);
            });
            insert.push(" ON CONFLICT DO NOTHING");
            insert.build().execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn attempt_held_by(&self, attempt: AttemptKey<'_>, worker: &str) -> StoreResult<bool> {
        let held: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM run_steps
             WHERE run_id = $1 AND step_id = $2 AND attempt = $3 AND lease_owner = $4 AND status = 'running'",
        )
        .bind(attempt.run_id)
        .bind(attempt.step_id)
        .bind(db_int(attempt.attempt))
        .bind(worker)
        .fetch_optional(&self.pool)
        .await?;
        Ok(held.is_some())
    }

    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<u32> {
        let expired: Vec<(String, String, i32, String)> = sqlx::query_as(
            "SELECT run_id, step_id, attempt, lease_owner FROM run_steps
             WHERE status = 'running' AND lease_until_ms < $1 AND lease_owner IS NOT NULL",
        )
        .bind(epoch_ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut reaped = 0;
        for (run_id, step_id, attempt, worker) in expired {
            let settled = self
                .finish_attempt(
                    AttemptResult {
                        run_id,
                        step_id,
                        attempt: u32_of(attempt, "attempt")?,
                        worker,
                        end: AttemptEnd::Lost,
                        exit_code: None,
                        error: Some("the worker stopped heartbeating (crashed or cut off); its lease expired".into()),
                        outputs: BTreeMap::new(),
                    },
                    now,
                )
                .await?;
            if settled.accepted {
                reaped += 1;
            }
        }
        Ok(reaped)
    }

    async fn sweep_deadlines(&self, now: DateTime<Utc>) -> StoreResult<u32> {
        let late: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE status = 'running' AND stopping IS NULL AND deadline < $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut swept = 0;
        for id in late {
            let mut tx = begin_write(&self.pool).await?;
            let Some(mut run) = self.lock_run(&mut tx, &id).await? else {
                continue;
            };
            if run.summary.status != RunStatus::Running || run.stopping.is_some() {
                continue;
            }
            self.start_timing_out(&mut tx, &mut run).await?;
            self.settle(&mut tx, &run, now).await?;
            notify_work(&mut tx).await?;
            tx.commit().await?;
            swept += 1;
        }
        if swept > 0 {
            self.signal.notify();
        }
        Ok(swept)
    }

    async fn cancel_run(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<CancelOutcome> {
        let mut tx = begin_write(&self.pool).await?;
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
        notify_work(&mut tx).await?;
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

    async fn set_schedule_enabled(
        &self,
        workflow: &str,
        environment: &str,
        enabled: bool,
        next_fire_at: Option<DateTime<Utc>>,
        audit: AuditEvent,
    ) -> StoreResult<Option<ActiveVersion>> {
        let mut tx = begin_write(&self.pool).await?;
        let row: Option<(i32,)> = sqlx::query_as(
            "UPDATE workflow_environments SET schedule_enabled = $1, next_fire_at = $2
             WHERE environment = $3 AND workflow_id = (SELECT id FROM workflows WHERE name = $4)
             RETURNING version",
        )
        .bind(enabled)
        .bind(next_fire_at)
        .bind(environment)
        .bind(workflow)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version,)) = row else {
            return Ok(None);
        };
        append_in(&mut tx, audit.detail("version", version)).await?;
        tx.commit().await?;
        Ok(Some(ActiveVersion {
            environment: environment.to_owned(),
            version: u32_of(version, "version")?,
            schedule_enabled: enabled,
            next_fire_at,
        }))
    }

    async fn due_schedules(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueSchedule>> {
        let rows = sqlx::query(
            "SELECT e.workflow_id, w.name, e.environment, e.version, e.next_fire_at
             FROM workflow_environments e JOIN workflows w ON w.id = e.workflow_id
             WHERE e.schedule_enabled = $1 AND e.next_fire_at <= $2
             ORDER BY e.next_fire_at LIMIT 100",
        )
        .bind(true)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueSchedule {
                    workflow_id: row.try_get("workflow_id")?,
                    workflow: row.try_get("name")?,
                    environment: row.try_get("environment")?,
                    version: u32_of(row.try_get("version")?, "version")?,
                    next_fire_at: row.try_get("next_fire_at")?,
                })
            })
            .collect()
    }

    async fn fire_schedule(
        &self,
        due: &DueSchedule,
        next_fire_at: DateTime<Utc>,
        run: NewRun<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<RunSummary>> {
        let mut tx = begin_write(&self.pool).await?;
        // Compare-and-set on the fire time: of several schedulers seeing the
        // same due slot, exactly one moves it and creates the run.
        let moved = sqlx::query(
            "UPDATE workflow_environments SET next_fire_at = $1
             WHERE workflow_id = $2 AND environment = $3 AND version = $4 AND next_fire_at = $5",
        )
        .bind(next_fire_at)
        .bind(&due.workflow_id)
        .bind(&due.environment)
        .bind(db_int(due.version))
        .bind(due.next_fire_at)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(None);
        }
        let summary = self.insert_run(&mut tx, &run, now).await?;
        append_in(&mut tx, audit.detail("run_id", summary.id.clone())).await?;
        tx.commit().await?;
        Ok(Some(summary))
    }

    async fn next_ready_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let ms: Option<i64> =
            sqlx::query_scalar("SELECT min(ready_at_ms) FROM run_steps WHERE status = 'queued'")
                .fetch_one(&self.pool)
                .await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }

    async fn list_workflows(&self, view: WorkflowView<'_>) -> StoreResult<Vec<WorkflowSummary>> {
        Ok(self
            .summaries_of_workflows(None, view)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    async fn workflow_detail(
        &self,
        workflow: &str,
        version: Option<u32>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Option<WorkflowDetail>> {
        let Some((workflow_id, summary)) = self
            .summaries_of_workflows(Some(workflow), view)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let rows: Vec<(i32, String, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT version, content_hash, created_at, created_by FROM workflow_versions
             WHERE workflow_id = $1 ORDER BY version DESC",
        )
        .bind(&workflow_id)
        .fetch_all(&self.pool)
        .await?;
        let versions = rows
            .into_iter()
            .map(|(v, content_hash, created_at, created_by)| {
                Ok(VersionInfo {
                    version: u32_of(v, "version")?,
                    content_hash,
                    created_at,
                    created_by,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let wanted = version.unwrap_or(summary.latest_version);
        let Some(shown) = versions.iter().find(|v| v.version == wanted).cloned() else {
            return Ok(None);
        };
        let source: String = sqlx::query_scalar(
            "SELECT source FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(&workflow_id)
        .bind(db_int(wanted))
        .fetch_one(&self.pool)
        .await?;
        let spec = self.version_spec(&workflow_id, wanted).await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE workflow_name = "
        ));
        q.push_bind(workflow);
        if let Some(visible) = view.runs_in {
            push_environment_filter(&mut q, visible);
        }
        q.push(" ORDER BY id DESC LIMIT 20");
        let recent_runs = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(run_head(r)?.summary))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(WorkflowDetail {
            summary,
            versions,
            shown,
            spec: (*spec).clone(),
            source,
            recent_runs,
        }))
    }

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<RunPage> {
        let limit = filter.effective_limit();
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"));
        if let Some(w) = &filter.workflow {
            q.push(" AND workflow_name = ").push_bind(w.clone());
        }
        if let Some(e) = &filter.environment {
            q.push(" AND environment = ").push_bind(e.clone());
        }
        if let Some(visible) = &filter.visible_environments {
            push_environment_filter(&mut q, visible);
        }
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(b) = &filter.before {
            q.push(" AND id < ").push_bind(b.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut runs = rows
            .iter()
            .map(|r| Ok(run_head(r)?.summary))
            .collect::<StoreResult<Vec<_>>>()?;
        let more = runs.len() > limit as usize;
        runs.truncate(limit as usize);
        let next_before = if more {
            runs.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(RunPage { runs, next_before })
    }

    async fn run_summary(&self, id: &str) -> StoreResult<Option<RunSummary>> {
        Ok(self
            .summaries(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"),
                Some(id),
            )
            .await?
            .into_iter()
            .next())
    }

    async fn run_detail(&self, id: &str) -> StoreResult<Option<RunDetail>> {
        let sql = format!("SELECT {RUN_COLUMNS}, inputs FROM runs WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let head = run_head(&row)?;
        let Json(inputs): Json<BTreeMap<String, Value>> = row.try_get("inputs")?;
        let spec = self
            .version_spec(&head.workflow_id, head.summary.version)
            .await?;
        let step_rows = sqlx::query(
            "SELECT step_id, status, outputs, started_at, finished_at FROM run_steps
             WHERE run_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let attempt_rows = sqlx::query(
            "SELECT step_id, attempt, status, worker, started_at, finished_at, exit_code, error
             FROM step_attempts WHERE run_id = $1 ORDER BY step_id, attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut attempts: BTreeMap<String, Vec<AttemptView>> = BTreeMap::new();
        for r in &attempt_rows {
            let status: String = r.try_get("status")?;
            attempts
                .entry(r.try_get("step_id")?)
                .or_default()
                .push(AttemptView {
                    number: u32_of(r.try_get("attempt")?, "attempt")?,
                    status: AttemptStatus::parse(&status)
                        .ok_or_else(|| corrupt(format!("attempt status {status:?}")))?,
                    worker: r.try_get("worker")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    exit_code: r.try_get("exit_code")?,
                    error: r.try_get("error")?,
                });
        }
        let mut steps = Vec::with_capacity(step_rows.len());
        for r in &step_rows {
            let step_id: String = r.try_get("step_id")?;
            let status: String = r.try_get("status")?;
            let Json(outputs): Json<BTreeMap<String, String>> = r.try_get("outputs")?;
            let spec_step = spec.step(&step_id);
            steps.push(StepRun {
                name: spec_step.and_then(|s| s.name.clone()),
                kind: match spec_step.map(|s| s.kind()) {
                    Some(StepKind::Http(_)) => "http".into(),
                    _ => "shell".into(),
                },
                needs: spec_step.map(|s| s.needs.clone()).unwrap_or_default(),
                status: step_status(&status)?,
                attempts: attempts.remove(&step_id).unwrap_or_default(),
                outputs,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                id: step_id,
            });
        }
        Ok(Some(RunDetail {
            inputs,
            error: head.error.clone(),
            deadline: head.deadline,
            steps,
            summary: head.summary,
        }))
    }

    async fn run_logs(&self, id: &str, query: &LogQuery) -> StoreResult<Option<LogPage>> {
        let Some(run) = self.run_summary(id).await? else {
            return Ok(None);
        };
        let limit = query.effective_limit();
        // The cursor packs (attempt, line): lines sort by attempt, then line.
        let after = query.after.unwrap_or(-1);
        let (after_attempt, after_line) = if after < 0 {
            (-1, -1)
        } else {
            (after >> 32, after & 0xFFFF_FFFF)
        };
        let mut q = QueryBuilder::<Db>::new(
            "SELECT step_id, attempt, line, stream, at, text FROM step_logs WHERE run_id = ",
        );
        q.push_bind(id.to_owned());
        if let Some(step) = &query.step {
            q.push(" AND step_id = ").push_bind(step.clone());
            q.push(" AND (attempt > ")
                .push_bind(after_attempt)
                .push(" OR (attempt = ")
                .push_bind(after_attempt)
                .push(" AND line > ")
                .push_bind(after_line)
                .push("))");
            q.push(" ORDER BY attempt, line");
        } else {
            q.push(" ORDER BY step_id, attempt, line");
        }
        q.push(" LIMIT ").push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for r in &rows {
            let attempt: i32 = r.try_get("attempt")?;
            let line: i32 = r.try_get("line")?;
            let stream: String = r.try_get("stream")?;
            lines.push(LogLine {
                seq: (i64::from(attempt) << 32) | i64::from(line),
                step: r.try_get("step_id")?,
                attempt: u32_of(attempt, "attempt")?,
                stream: LogStream::parse(&stream)
                    .ok_or_else(|| corrupt(format!("stream {stream:?}")))?,
                at: r.try_get("at")?,
                text: r.try_get("text")?,
            });
        }
        let last_seq = lines.last().map(|l| l.seq).or(query.after);
        Ok(Some(LogPage {
            lines,
            last_seq,
            complete: run.status.is_terminal(),
        }))
    }
}
