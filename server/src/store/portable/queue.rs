//! The step queue's SQL for both databases, compiled once per adapter like
//! the rest of `portable/`: claims (`SKIP_LOCKED` on PostgreSQL, so
//! workers in several processes never wait on each other's rows), leases,
//! heartbeats, log lines and reports.

use super::run_rows::{RUN_COLUMNS, RunHead, Tx, corrupt, db_int, run_head, step_status, u32_of};
use super::{Adapter, Db, HANDS_OFF, SKIP_LOCKED, begin_write, notify_work};
use crate::store::StoreResult;
use crate::store::queue::{
    AttemptKey, AttemptResult, Beat, Claim, Handoff, NewLogLine, QueueGauges, QueueStore, Settled,
    StepFinished, epoch_ms,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::run::{AttemptEnd, AttemptStatus, StepNext, StepStatus, after_attempt};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::BTreeMap;
use std::time::Duration;

/// One step's outputs, by name.
type StepOutputs = BTreeMap<String, String>;
/// A run's outputs so far, by step.
type RunOutputs = BTreeMap<String, StepOutputs>;

/// Steps a finishing transaction just readied in its own run: a handoff
/// claim may take them although their `ready_at_ms`, rounded up, is still
/// ahead of the claim's own millisecond.
struct JustReadied<'a> {
    run_id: &'a str,
    steps: &'a [String],
}

impl Adapter {
    /// Leases up to `limit` ready steps, oldest first, inside `tx`: one
    /// statement each to take the rows, record their attempts, and read
    /// their runs and those runs' outputs so far, however many are taken.
    async fn claim_in(
        &self,
        tx: &mut Tx,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
        readied: Option<JustReadied<'_>>,
    ) -> StoreResult<Vec<Claim>> {
        let now_ms = epoch_ms(now);
        let until = now_ms + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        // `ready_at_ms` stays as it was (claims look at queued rows only):
        // when the step became claimable, for the time it waited.
        let mut update = QueryBuilder::<Db>::new(
            "UPDATE run_steps SET status = 'running', attempt = attempt + 1, lease_owner = ",
        );
        update
            .push_bind(worker)
            .push(", lease_until_ms = ")
            .push_bind(until)
            .push(", started_at = COALESCE(started_at, ")
            .push_bind(now)
            .push(
                ") WHERE (run_id, step_id) IN (
                 SELECT run_id, step_id FROM run_steps WHERE status = 'queued' AND (ready_at_ms <= ",
            )
            .push_bind(now_ms);
        if let Some(readied) = readied.filter(|r| !r.steps.is_empty()) {
            update
                .push(" OR (run_id = ")
                .push_bind(readied.run_id)
                .push(" AND step_id IN (");
            let mut ids = update.separated(", ");
            for step in readied.steps {
                ids.push_bind(step);
            }
            ids.push_unseparated("))");
        }
        update
            .push(") ORDER BY ready_at_ms LIMIT ")
            .push_bind(i64::from(limit))
            .push(format!(
                "{SKIP_LOCKED}) RETURNING run_id, step_id, attempt, ready_at_ms"
            ));
        let claimed: Vec<(String, String, i32, Option<i64>)> =
            update.build_query_as().fetch_all(&mut **tx).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut attempts = QueryBuilder::<Db>::new(
            "INSERT INTO step_attempts (run_id, step_id, attempt, status, worker, started_at) ",
        );
        attempts.push_values(&claimed, |mut row, (run_id, step_id, attempt, _)| {
            row.push_bind(run_id)
                .push_bind(step_id)
                .push_bind(*attempt)
                .push_bind("running")
                .push_bind(worker)
                .push_bind(now);
        });
        attempts.build().execute(&mut **tx).await?;
        let run_ids: std::collections::BTreeSet<&str> =
            claimed.iter().map(|(run_id, ..)| run_id.as_str()).collect();
        let runs = self.claimed_runs(tx, &run_ids).await?;
        let outputs = self.outputs_of(tx, &run_ids).await?;
        let mut claims = Vec::with_capacity(claimed.len());
        for (run_id, step_id, attempt, ready_at_ms) in claimed {
            let Some((head, inputs)) = runs.get(&run_id) else {
                return Err(corrupt(format!(
                    "claimed a step of run {run_id}, which has no row"
                )));
            };
            let waited = ready_at_ms.map_or(0, |ready| (now_ms - ready).max(0));
            claims.push(Claim {
                queue_wait: Duration::from_millis(u64::try_from(waited).unwrap_or(0)),
                outputs: outputs.get(&run_id).cloned().unwrap_or_default(),
                attempt: u32_of(attempt, "attempt")?,
                workflow_id: head.workflow_id.clone(),
                workflow: head.summary.workflow.clone(),
                version: head.summary.version,
                environment: head.summary.environment.clone(),
                inputs: inputs.clone(),
                deadline: head.deadline,
                traceparent: head.traceparent.clone(),
                run_id,
                step_id,
            });
        }
        Ok(claims)
    }

    /// The claimed steps' runs with their inputs, by id.
    async fn claimed_runs(
        &self,
        tx: &mut Tx,
        ids: &std::collections::BTreeSet<&str>,
    ) -> StoreResult<BTreeMap<String, (RunHead, BTreeMap<String, Value>)>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {RUN_COLUMNS}, inputs FROM runs WHERE id IN ("
        ));
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        let rows = q.build().fetch_all(&mut **tx).await?;
        rows.iter()
            .map(|row| {
                let Json(inputs): Json<BTreeMap<String, Value>> = row.try_get("inputs")?;
                let head = run_head(row)?;
                Ok((head.summary.id.clone(), (head, inputs)))
            })
            .collect()
    }

    /// Outputs of the steps that succeeded so far, per run.
    async fn outputs_of(
        &self,
        tx: &mut Tx,
        run_ids: &std::collections::BTreeSet<&str>,
    ) -> StoreResult<BTreeMap<String, RunOutputs>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT run_id, step_id, outputs FROM run_steps WHERE status = 'succeeded' AND run_id IN (",
        );
        let mut list = q.separated(", ");
        for id in run_ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        let rows: Vec<(String, String, Json<StepOutputs>)> =
            q.build_query_as().fetch_all(&mut **tx).await?;
        let mut by_run: BTreeMap<String, RunOutputs> = BTreeMap::new();
        for (run_id, step_id, Json(outputs)) in rows {
            by_run.entry(run_id).or_default().insert(step_id, outputs);
        }
        Ok(by_run)
    }

    /// Stores log lines inside `tx` (bounded batches keep under both
    /// databases' bind-parameter limits).
    async fn insert_logs(
        &self,
        conn: &mut <Db as sqlx::Database>::Connection,
        lines: &[NewLogLine],
    ) -> StoreResult<()> {
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
            insert.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl QueueStore for Adapter {
    async fn claim_steps(
        &self,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Vec<Claim>> {
        let mut tx = begin_write(&self.writes).await?;
        let claims = self
            .claim_in(&mut tx, worker, limit, now, lease, None)
            .await?;
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
        .execute(&mut *self.writes.connection().await?)
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

    async fn finish_and_hand_off(
        &self,
        result: AttemptResult,
        handoff: Handoff<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Settled> {
        let mut tx = begin_write(&self.writes).await?;
        let Some(mut run) = self.lock_run(&mut tx, &result.run_id).await? else {
            return Ok(Settled::default());
        };
        self.insert_logs(&mut tx, handoff.lines).await?;
        let row: Option<(String, i32, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT status, attempt, lease_owner, started_at FROM run_steps WHERE run_id = $1 AND step_id = $2",
        )
        .bind(&result.run_id)
        .bind(&result.step_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, attempt, owner, step_started)) = row else {
            return Ok(Settled::default());
        };
        let status = step_status(&status)?;
        // A report from a worker that no longer owns this attempt (its lease
        // was reaped, a newer attempt runs) must not touch anything.
        if status != StepStatus::Running
            || u32_of(attempt, "attempt")? != result.attempt
            || owner.as_deref() != Some(result.worker.as_str())
        {
            // Its log lines are kept, as a separate append would have.
            tx.commit().await?;
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
        let mut step_finished = None;
        match after_attempt(step, result.attempt, result.end, run.mode()) {
            StepNext::Finish(next) => {
                status.transition(next).map_err(corrupt)?;
                step_finished = Some(StepFinished {
                    status: next,
                    attempts: result.attempt,
                    started_at: step_started,
                });
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
                notify_work(&mut tx, &self.signal).await?;
                requeued = true;
            }
        }
        let (readied, run_finished) = self.settle(&mut tx, &run, now).await?;
        let next = match handoff.claim {
            0 => Vec::new(),
            _ if !HANDS_OFF => Vec::new(),
            n => {
                let readied = JustReadied {
                    run_id: &result.run_id,
                    steps: &readied,
                };
                self.claim_in(
                    &mut tx,
                    &result.worker,
                    n,
                    now,
                    handoff.lease,
                    Some(readied),
                )
                .await?
            }
        };
        tx.commit().await?;
        // Other workers need waking only for what this worker didn't take.
        let left_behind = readied.iter().any(|step| {
            !next
                .iter()
                .any(|c| c.run_id == result.run_id && c.step_id == *step)
        });
        if left_behind || requeued {
            self.signal.notify();
        }
        Ok(Settled {
            accepted: true,
            queued: !readied.is_empty() || requeued,
            run_finished,
            workflow_id: run.workflow_id.clone(),
            environment: run.summary.environment.clone(),
            traceparent: run.traceparent.clone(),
            step_finished,
            next,
        })
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.insert_logs(&mut *self.writes.connection().await?, lines)
            .await
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

    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let expired: Vec<(String, String, i32, String)> = sqlx::query_as(
            "SELECT run_id, step_id, attempt, lease_owner FROM run_steps
             WHERE status = 'running' AND lease_until_ms < $1 AND lease_owner IS NOT NULL",
        )
        .bind(epoch_ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut finished = Vec::new();
        for (run_id, step_id, attempt, worker) in expired {
            let settled = self
                .finish_attempt(
                    AttemptResult {
                        run_id: run_id.clone(),
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
            if settled.run_finished {
                finished.push(run_id);
            }
        }
        Ok(finished)
    }
    async fn queue_gauges(&self, now: DateTime<Utc>) -> StoreResult<QueueGauges> {
        let now_ms = epoch_ms(now);
        // Two reads, each matching one partial index's predicate exactly
        // (`run_steps_ready`, `run_steps_leases`): one filter on both
        // statuses matches neither and scans every step ever run.
        let (ready, waiting, oldest): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT
                 COALESCE(SUM(CASE WHEN ready_at_ms <= $1 THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN ready_at_ms > $1 THEN 1 ELSE 0 END), 0),
                 MIN(CASE WHEN ready_at_ms <= $1 THEN ready_at_ms END)
             FROM run_steps WHERE status = 'queued'",
        )
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        let running: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM run_steps WHERE status = 'running'")
                .fetch_one(&self.pool)
                .await?;
        let runs: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT environment, status, COUNT(*) FROM runs
             WHERE status IN ('queued', 'running') GROUP BY environment, status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(QueueGauges {
            ready,
            waiting,
            running,
            oldest_ready_ms: oldest.map(|t| (now_ms - t).max(0)),
            runs,
        })
    }

    async fn next_ready_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let ms: Option<i64> =
            sqlx::query_scalar("SELECT min(ready_at_ms) FROM run_steps WHERE status = 'queued'")
                .fetch_one(&self.pool)
                .await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }
}
