//! Canaries' SQL for both databases, compiled once per adapter like the
//! rest of `portable/`. Lock order (PostgreSQL), as for every pointer
//! move: the workflow's row, then the canary's row, then run rows. A run's
//! admission reads its canary's row `FOR SHARE` (`runs.rs`), so an end
//! either sees the new run among the queued ones it moves, or the run's
//! admission sees the end and picks again.

use super::audit::append_in;
use super::promotions::insert_deployment;
use super::run_rows::{Tx, corrupt, db_int, push_environment_filter, u32_of};
use super::{Adapter, Db, FOR_UPDATE, begin_write, notify_work};
use crate::store::StoreResult;
use crate::store::canaries::{
    CanaryChange, CanaryQuery, CanaryStore, ChangeKind, Changed, NewCanary, Started,
};
use crate::store::versions::ActiveSpec;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::canary::{
    Arm, ArmCounts, Canary, CanaryEvaluation, CanaryState, CriticalFailure, StepFacts,
};
use gantry_core::promotion::evaluation::ChecklistSnapshot;
use gantry_core::promotion::ledger::{Deployment, DeploymentKind};
use gantry_core::promotion::request::PromotionState;
use gantry_core::run::RunStatus;
use serde_json::Value;
use sqlx::{QueryBuilder, Row};
use std::collections::BTreeMap;

type DbRow = <Db as sqlx::Database>::Row;

const CANARY_COLUMNS: &str = "id, workflow_id, workflow, environment, stable_version, \
    canary_version, request_id, policy, step, weight, state, started_by_id, started_by_name, \
    started_at, step_started_at, step_clock_at, ended_at, why, held, last";

/// Most finished runs an evaluation reads per arm: the newest, enough
/// for any decision the analysis makes at the weights a plan allows.
const FACT_RUNS: i64 = 20_000;

fn canary_from_row(row: &DbRow) -> StoreResult<Canary> {
    let state: String = row.try_get("state")?;
    let policy: String = row.try_get("policy")?;
    let last: Option<String> = row.try_get("last")?;
    let weight: i32 = row.try_get("weight")?;
    Ok(Canary {
        id: row.try_get("id")?,
        workflow: row.try_get("workflow")?,
        environment: row.try_get("environment")?,
        stable_version: u32_of(row.try_get("stable_version")?, "version")?,
        canary_version: u32_of(row.try_get("canary_version")?, "version")?,
        request_id: row.try_get("request_id")?,
        policy: serde_json::from_str(&policy).map_err(corrupt)?,
        step: u32_of(row.try_get("step")?, "step")?,
        weight: u8::try_from(weight).map_err(|_| corrupt(format!("canary weight {weight}")))?,
        state: CanaryState::parse(&state)
            .ok_or_else(|| corrupt(format!("canary state {state:?}")))?,
        started_by: Person {
            id: row.try_get("started_by_id")?,
            name: row.try_get("started_by_name")?,
        },
        started_at: row.try_get("started_at")?,
        step_started_at: row.try_get("step_started_at")?,
        step_clock_at: row.try_get("step_clock_at")?,
        ended_at: row.try_get("ended_at")?,
        why: row.try_get("why")?,
        held: row.try_get("held")?,
        last: last
            .map(|l| serde_json::from_str(&l))
            .transpose()
            .map_err(corrupt)?,
    })
}

impl Adapter {
    async fn canary_in(tx: &mut Tx, id: &str, lock: bool) -> StoreResult<Option<Canary>> {
        let sql = format!(
            "SELECT {CANARY_COLUMNS} FROM canaries WHERE id = $1{}",
            if lock { FOR_UPDATE } else { "" }
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.as_ref().map(canary_from_row).transpose()
    }

    /// Moves a queued canary run to the stable version: its inputs
    /// re-resolved against stable's, its steps replaced (a queued run has
    /// no attempts yet). Inputs stable doesn't accept cancel it instead,
    /// saying why.
    async fn readmit_on_stable(
        &self,
        tx: &mut Tx,
        run_id: &str,
        stable: &ActiveSpec,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let Some(head) = self.lock_run(tx, run_id).await? else {
            return Ok(false);
        };
        if head.summary.status != RunStatus::Queued {
            return Ok(false);
        }
        let inputs: sqlx::types::Json<BTreeMap<String, Value>> =
            sqlx::query_scalar("SELECT inputs FROM runs WHERE id = $1")
                .bind(run_id)
                .fetch_one(&mut **tx)
                .await?;
        match gantry_core::spec::resolve_inputs(&stable.spec.inputs, &inputs.0) {
            Ok(resolved) => {
                let timeout_ms = stable
                    .spec
                    .timeout
                    .as_ref()
                    .map(|t| i64::try_from(t.0.as_millis()).unwrap_or(i64::MAX));
                sqlx::query(
                    "UPDATE runs SET version = $1, canary_arm = 'stable', inputs = $2,
                            timeout_ms = $3
                     WHERE id = $4",
                )
                .bind(db_int(stable.version))
                .bind(sqlx::types::Json(&resolved))
                .bind(timeout_ms)
                .bind(run_id)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM run_steps WHERE run_id = $1")
                    .bind(run_id)
                    .execute(&mut **tx)
                    .await?;
                Self::insert_steps(tx, run_id, &stable.spec).await?;
                Ok(true)
            }
            Err(problems) => {
                let error = format!(
                    "the canary ended and version {} does not accept this run's inputs: {}",
                    stable.version,
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                sqlx::query("UPDATE runs SET stopping = 'cancel', error = $1 WHERE id = $2")
                    .bind(&error)
                    .bind(run_id)
                    .execute(&mut **tx)
                    .await?;
                let mut head = head;
                head.stopping = Some("cancel".into());
                self.settle(tx, &head, now).await?;
                Ok(false)
            }
        }
    }

    /// Asks a running canary run to stop, like a cancel.
    async fn stop_run(&self, tx: &mut Tx, run_id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let Some(mut head) = self.lock_run(tx, run_id).await? else {
            return Ok(false);
        };
        if head.summary.status.is_terminal() {
            return Ok(false);
        }
        if head.stopping.is_none() {
            sqlx::query("UPDATE runs SET stopping = 'cancel' WHERE id = $1")
                .bind(run_id)
                .execute(&mut **tx)
                .await?;
            head.stopping = Some("cancel".into());
        }
        self.settle(tx, &head, now).await?;
        Ok(true)
    }

    async fn canary_runs(tx: &mut Tx, id: &str, status: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM runs WHERE canary_id = $1 AND canary_arm = 'canary' AND status = $2
             AND pinned = $3 ORDER BY id",
        )
        .bind(id)
        .bind(status)
        .bind(false)
        .fetch_all(&mut **tx)
        .await?)
    }
}

#[async_trait]
impl CanaryStore for Adapter {
    async fn start_canary(&self, new: NewCanary<'_>, audit: AuditEvent) -> StoreResult<Started> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(&format!(
            "SELECT id FROM workflows WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(new.workflow_id)
        .fetch_one(&mut *tx)
        .await?;
        match Adapter::lock_request(&mut tx, new.request_id).await? {
            Some(PromotionState::Pending) => {}
            Some(other) => return Ok(Started::NotPending(other)),
            None => return Ok(Started::NotPending(PromotionState::Cancelled)),
        }
        let active: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM workflow_environments WHERE workflow_id = $1 AND environment = $2",
        )
        .bind(new.workflow_id)
        .bind(new.environment)
        .fetch_optional(&mut *tx)
        .await?;
        let active = active.map(|v| u32_of(v, "version")).transpose()?;
        if active != Some(new.stable_version) {
            return Ok(Started::Stale { active });
        }
        let live: Option<String> = sqlx::query_scalar(
            "SELECT id FROM canaries WHERE workflow_id = $1 AND environment = $2
             AND state IN ('running', 'paused')",
        )
        .bind(new.workflow_id)
        .bind(new.environment)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_some() {
            return Ok(Started::Busy);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let weight = new.policy.steps.first().map_or(0, |s| s.weight);
        sqlx::query(
            "INSERT INTO canaries (id, workflow_id, workflow, environment, stable_version,
                 canary_version, request_id, policy, step, weight, state, started_by_id,
                 started_by_name, started_at, step_started_at, step_clock_at, held)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 'running', $10, $11, $12, $12, $12, $13)",
        )
        .bind(&id)
        .bind(new.workflow_id)
        .bind(new.workflow)
        .bind(new.environment)
        .bind(db_int(new.stable_version))
        .bind(db_int(new.canary_version))
        .bind(new.request_id)
        .bind(serde_json::to_string(new.policy).map_err(corrupt)?)
        .bind(i32::from(weight))
        .bind(&new.started_by.id)
        .bind(&new.started_by.name)
        .bind(new.at)
        .bind(false)
        .execute(&mut *tx)
        .await?;
        let deployment = Deployment {
            id: uuid::Uuid::now_v7().to_string(),
            workflow: new.workflow.to_owned(),
            environment: new.environment.to_owned(),
            from_version: Some(new.stable_version),
            to_version: new.canary_version,
            kind: DeploymentKind::Canary,
            actor: new.started_by.clone(),
            at: new.at,
            reason: Some(format!(
                "canary started at {weight}% of runs: {}",
                new.reason
            )),
            request_id: Some(new.request_id.to_owned()),
            approvers: new.approvers.to_vec(),
            checklist: Some(new.checklist.clone()),
            freeze_break: super::freezes::ledger_break(&mut tx, new.request_id).await?,
        };
        insert_deployment(&mut tx, new.workflow_id, &deployment).await?;
        sqlx::query(
            "UPDATE promotion_requests SET state = 'promoted', decided_at = $2, deployment_id = $3
             WHERE id = $1",
        )
        .bind(new.request_id)
        .bind(new.at)
        .bind(&deployment.id)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            audit
                .detail("canary", id.clone())
                .detail("deployment", deployment.id.clone())
                .detail("stable_version", new.stable_version)
                .detail("canary_version", new.canary_version)
                .detail("weight", weight),
        )
        .await?;
        let canary = Self::canary_in(&mut tx, &id, false)
            .await?
            .ok_or_else(|| corrupt("the canary just written is missing"))?;
        tx.commit().await?;
        Ok(Started::Done(Box::new(canary)))
    }

    async fn live_canary(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<Canary>> {
        let row = sqlx::query(&format!(
            "SELECT {CANARY_COLUMNS} FROM canaries WHERE workflow_id = $1 AND environment = $2
             AND state IN ('running', 'paused')"
        ))
        .bind(workflow_id)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(canary_from_row).transpose()
    }

    async fn canary(&self, id: &str) -> StoreResult<Option<Canary>> {
        let row = sqlx::query(&format!(
            "SELECT {CANARY_COLUMNS} FROM canaries WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(canary_from_row).transpose()
    }

    async fn canaries(&self, query: CanaryQuery<'_>) -> StoreResult<Vec<Canary>> {
        let mut q =
            QueryBuilder::<Db>::new(format!("SELECT {CANARY_COLUMNS} FROM canaries WHERE 1 = 1"));
        if let Some(w) = query.workflow {
            q.push(" AND workflow = ").push_bind(w);
        }
        if let Some(e) = query.environment {
            q.push(" AND environment = ").push_bind(e);
        }
        if query.live_only {
            q.push(" AND state IN ('running', 'paused')");
        }
        if query.held_only {
            q.push(" AND held = ").push_bind(true);
        }
        if let Some(visible) = query.visible {
            push_environment_filter(&mut q, visible);
        }
        q.push(" ORDER BY started_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(canary_from_row).collect()
    }

    async fn canary_evaluations(&self, id: &str) -> StoreResult<Vec<CanaryEvaluation>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT evaluation FROM canary_evaluations WHERE canary_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|e| serde_json::from_str(e).map_err(corrupt))
            .collect()
    }

    async fn canary_hold(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM canaries WHERE workflow_id = $1 AND environment = $2 AND held = $3
             ORDER BY started_at DESC LIMIT 1",
        )
        .bind(workflow_id)
        .bind(environment)
        .bind(true)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn canary_facts(&self, canary: &Canary, since: DateTime<Utc>) -> StoreResult<StepFacts> {
        let rows = sqlx::query(
            "SELECT canary_arm, status, started_at, finished_at FROM runs
             WHERE canary_id = $1 AND pinned = $2 AND created_at >= $3
               AND status IN ('succeeded', 'failed', 'timed_out')
             ORDER BY created_at DESC LIMIT $4",
        )
        .bind(&canary.id)
        .bind(false)
        .bind(since)
        .bind(FACT_RUNS)
        .fetch_all(&self.pool)
        .await?;
        let mut facts = StepFacts::default();
        for row in &rows {
            let arm: Option<String> = row.try_get("canary_arm")?;
            let Some(arm) = arm.as_deref().and_then(Arm::parse) else {
                continue;
            };
            let status: String = row.try_get("status")?;
            let failed = status != "succeeded";
            let (counts, durations) = match arm {
                Arm::Canary => (&mut facts.canary, &mut facts.canary_durations),
                Arm::Stable => (&mut facts.stable, &mut facts.stable_durations),
            };
            *counts = ArmCounts {
                runs: counts.runs + 1,
                failures: counts.failures + u64::from(failed),
            };
            let started: Option<DateTime<Utc>> = row.try_get("started_at")?;
            let finished: Option<DateTime<Utc>> = row.try_get("finished_at")?;
            if !failed && let (Some(s), Some(f)) = (started, finished) {
                durations.push(u64::try_from((f - s).num_milliseconds()).unwrap_or(0));
            }
        }
        let critical = &canary.policy.critical_steps;
        if !critical.is_empty() {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT s.run_id, s.step_id FROM run_steps s JOIN runs r ON r.id = s.run_id
                 WHERE r.canary_id = ",
            );
            q.push_bind(&canary.id)
                .push(" AND r.canary_arm = 'canary' AND r.pinned = ")
                .push_bind(false)
                .push(" AND s.status IN ('failed', 'timed_out') AND s.step_id IN (");
            let mut list = q.separated(", ");
            for step in critical {
                list.push_bind(step.as_str());
            }
            q.push(") ORDER BY s.run_id LIMIT 1");
            if let Some(row) = q.build().fetch_optional(&self.pool).await? {
                facts.critical_failure = Some(CriticalFailure {
                    run_id: row.try_get("run_id")?,
                    step: row.try_get("step_id")?,
                });
            }
        }
        Ok(facts)
    }

    async fn record_evaluation(&self, id: &str, evaluation: &CanaryEvaluation) -> StoreResult<()> {
        let json = serde_json::to_string(evaluation).map_err(corrupt)?;
        let mut tx = begin_write(&self.writes).await?;
        let seq: Option<i32> =
            sqlx::query_scalar("SELECT max(seq) FROM canary_evaluations WHERE canary_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO canary_evaluations (canary_id, seq, at, evaluation) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(seq.unwrap_or(0) + 1)
        .bind(evaluation.at)
        .bind(&json)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE canaries SET last = $1 WHERE id = $2")
            .bind(&json)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn change_canary(
        &self,
        change: CanaryChange<'_>,
        audit: AuditEvent,
    ) -> StoreResult<Changed> {
        let mut tx = begin_write(&self.writes).await?;
        let workflow_id: Option<String> =
            sqlx::query_scalar("SELECT workflow_id FROM canaries WHERE id = $1")
                .bind(change.id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(workflow_id) = workflow_id else {
            return Ok(Changed::NotFound);
        };
        sqlx::query(&format!(
            "SELECT id FROM workflows WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(&workflow_id)
        .fetch_one(&mut *tx)
        .await?;
        let Some(canary) = Self::canary_in(&mut tx, change.id, true).await? else {
            return Ok(Changed::NotFound);
        };
        let fits = match change.what {
            ChangeKind::ClearHold => canary.held,
            _ => canary.state == change.expected && canary.step == change.step,
        };
        if !fits {
            return Ok(Changed::Stale(Box::new(canary)));
        }
        let mut readmitted = Vec::new();
        let mut stopped = Vec::new();
        let mut audit = audit
            .detail("canary", canary.id.clone())
            .detail("from_state", canary.state.as_str());
        match change.what {
            ChangeKind::Advance { to_step, weight } => {
                sqlx::query(
                    "UPDATE canaries SET step = $1, weight = $2, step_started_at = $3,
                            step_clock_at = $3, why = NULL
                     WHERE id = $4",
                )
                .bind(db_int(to_step))
                .bind(i32::from(weight))
                .bind(change.at)
                .bind(&canary.id)
                .execute(&mut *tx)
                .await?;
                audit = audit.detail("step", to_step).detail("weight", weight);
            }
            ChangeKind::Pause { why } => {
                sqlx::query("UPDATE canaries SET state = 'paused', why = $1 WHERE id = $2")
                    .bind(why)
                    .bind(&canary.id)
                    .execute(&mut *tx)
                    .await?;
                audit = audit.detail("why", why);
            }
            ChangeKind::Resume => {
                sqlx::query(
                    "UPDATE canaries SET state = 'running', why = NULL, step_clock_at = $1
                     WHERE id = $2",
                )
                .bind(change.at)
                .bind(&canary.id)
                .execute(&mut *tx)
                .await?;
            }
            ChangeKind::ClearHold => {
                sqlx::query("UPDATE canaries SET held = $1 WHERE id = $2")
                    .bind(false)
                    .bind(&canary.id)
                    .execute(&mut *tx)
                    .await?;
            }
            ChangeKind::Promote {
                actor,
                reason,
                next_fire_at,
            } => {
                let active: Option<i32> = sqlx::query_scalar(
                    "SELECT version FROM workflow_environments
                     WHERE workflow_id = $1 AND environment = $2",
                )
                .bind(&workflow_id)
                .bind(&canary.environment)
                .fetch_optional(&mut *tx)
                .await?;
                if active.map(|v| u32_of(v, "version")).transpose()? != Some(canary.stable_version)
                {
                    return Ok(Changed::Stale(Box::new(canary)));
                }
                sqlx::query(
                    "UPDATE workflow_environments SET version = $1,
                            next_fire_at = CASE WHEN schedule_enabled THEN $2 END,
                            activated_at = $3, activated_by = $4
                     WHERE workflow_id = $5 AND environment = $6",
                )
                .bind(db_int(canary.canary_version))
                .bind(next_fire_at)
                .bind(change.at)
                .bind(&actor.name)
                .bind(&workflow_id)
                .bind(&canary.environment)
                .execute(&mut *tx)
                .await?;
                // The promotion row carries the approvals and checklist
                // the canary started with.
                let start = sqlx::query(
                    "SELECT approvers, checklist FROM deployments
                     WHERE request_id = $1 AND kind = 'canary'",
                )
                .bind(&canary.request_id)
                .fetch_optional(&mut *tx)
                .await?;
                let (approvers, checklist) = match start {
                    Some(row) => {
                        let a: String = row.try_get("approvers")?;
                        let c: Option<String> = row.try_get("checklist")?;
                        (
                            serde_json::from_str::<Vec<Person>>(&a).map_err(corrupt)?,
                            c.map(|c| serde_json::from_str::<ChecklistSnapshot>(&c))
                                .transpose()
                                .map_err(corrupt)?,
                        )
                    }
                    None => (Vec::new(), None),
                };
                let deployment = Deployment {
                    id: uuid::Uuid::now_v7().to_string(),
                    workflow: canary.workflow.clone(),
                    environment: canary.environment.clone(),
                    from_version: Some(canary.stable_version),
                    to_version: canary.canary_version,
                    kind: DeploymentKind::Promotion,
                    actor: actor.clone(),
                    at: change.at,
                    reason: Some(reason.to_owned()),
                    request_id: Some(canary.request_id.clone()),
                    approvers,
                    checklist,
                    freeze_break: super::freezes::ledger_break(&mut tx, &canary.request_id).await?,
                };
                insert_deployment(&mut tx, &workflow_id, &deployment).await?;
                sqlx::query(
                    "UPDATE canaries SET state = 'promoted', weight = 100, ended_at = $1, why = $2
                     WHERE id = $3",
                )
                .bind(change.at)
                .bind(reason)
                .bind(&canary.id)
                .execute(&mut *tx)
                .await?;
                audit = audit
                    .detail("deployment", deployment.id)
                    .detail("to_version", canary.canary_version);
            }
            ChangeKind::End {
                state,
                actor,
                why,
                hold,
                cancel_running,
                stable,
            } => {
                sqlx::query(
                    "UPDATE canaries SET state = $1, weight = 0, ended_at = $2, why = $3, held = $4
                     WHERE id = $5",
                )
                .bind(state.as_str())
                .bind(change.at)
                .bind(why)
                .bind(hold)
                .bind(&canary.id)
                .execute(&mut *tx)
                .await?;
                let deployment = Deployment {
                    id: uuid::Uuid::now_v7().to_string(),
                    workflow: canary.workflow.clone(),
                    environment: canary.environment.clone(),
                    from_version: Some(canary.canary_version),
                    to_version: canary.stable_version,
                    kind: DeploymentKind::Rollback,
                    actor: actor.clone(),
                    at: change.at,
                    reason: Some(why.to_owned()),
                    request_id: Some(canary.request_id.clone()),
                    approvers: Vec::new(),
                    checklist: None,
                    freeze_break: None,
                };
                insert_deployment(&mut tx, &workflow_id, &deployment).await?;
                for run in Self::canary_runs(&mut tx, &canary.id, "queued").await? {
                    if self
                        .readmit_on_stable(&mut tx, &run, stable, change.at)
                        .await?
                    {
                        readmitted.push(run);
                    }
                }
                if cancel_running {
                    for run in Self::canary_runs(&mut tx, &canary.id, "running").await? {
                        if self.stop_run(&mut tx, &run, change.at).await? {
                            stopped.push(run);
                        }
                    }
                    notify_work(&mut tx, &self.signal).await?;
                }
                audit = audit
                    .detail("deployment", deployment.id)
                    .detail("to_state", state.as_str())
                    .detail("readmitted", readmitted.len())
                    .detail("stopped", stopped.len());
            }
        }
        append_in(&mut tx, audit).await?;
        let fresh = Self::canary_in(&mut tx, &canary.id, false)
            .await?
            .ok_or_else(|| corrupt("the canary just changed is missing"))?;
        tx.commit().await?;
        // Readmitted runs may have queued steps, stopped ones settle theirs.
        if !stopped.is_empty() || !readmitted.is_empty() {
            self.signal.notify();
        }
        Ok(Changed::Done {
            canary: Box::new(fresh),
            readmitted,
            stopped,
        })
    }
}
