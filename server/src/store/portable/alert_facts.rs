//! The alert facts' SQL for both databases (see `store/alert_facts.rs`).

use super::Adapter;
use crate::store::StoreResult;
use crate::store::alert_facts::{ActiveVersion, AlertFactStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::{
    AUTH_FAILURE_ACTIONS, DueSlot, LongTarget, Running, SourceFailures,
};

/// Workflow, environment, run id, the run's or step's status, step id,
/// started at.
type RunningRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
);

#[async_trait]
impl AlertFactStore for Adapter {
    async fn running_now(&self, target: LongTarget) -> StoreResult<Vec<Running>> {
        // Filtered on exactly the partial index `runs_active`'s predicate
        // and narrowed to running ones here: on a database of 100,000 runs
        // SQLite scanned them all for `status = 'running'` (the alerts
        // bench), even with the predicate's own term added. A step is
        // running only in a running run, so the steps' join starts there
        // too.
        let rows: Vec<RunningRow> = match target {
            LongTarget::Run => {
                sqlx::query_as(
                    "SELECT workflow_name, environment, id, status, NULL, started_at FROM runs
                         WHERE status IN ('queued', 'running')",
                )
                .fetch_all(&self.pool)
                .await?
            }
            LongTarget::Step => {
                sqlx::query_as(
                    "SELECT r.workflow_name, r.environment, r.id, s.status, s.step_id,
                                s.started_at
                         FROM runs r JOIN run_steps s ON s.run_id = r.id
                         WHERE r.status IN ('queued', 'running')",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .filter(|(_, _, _, status, _, _)| status == "running")
            .filter_map(|(workflow, environment, run_id, _, step, started_at)| {
                Some(Running {
                    workflow,
                    environment,
                    run_id,
                    step,
                    started_at: started_at?,
                })
            })
            .collect())
    }

    async fn due_slots(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueSlot>> {
        // A slot not fired yet is `next_fire_at` itself (the scheduler is
        // down or behind). Otherwise the latest slot is the newest
        // scheduled run's, started once it began running.
        let rows: Vec<(
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        )> = sqlx::query_as(
            "SELECT w.name, we.environment, we.next_fire_at, last.scheduled_for, last.started_at
                 FROM workflow_environments we
                 JOIN workflows w ON w.id = we.workflow_id
                 LEFT JOIN runs last ON last.id = (
                     SELECT r.id FROM runs r
                     WHERE r.workflow_id = we.workflow_id AND r.environment = we.environment
                       AND r.trigger_kind = 'schedule'
                     ORDER BY r.scheduled_for DESC, r.id DESC LIMIT 1)
                 WHERE we.next_fire_at IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(workflow, environment, next, scheduled_for, started_at)| {
                if next <= now {
                    return Some(DueSlot {
                        workflow,
                        environment,
                        slot: next,
                        started: false,
                    });
                }
                Some(DueSlot {
                    workflow,
                    environment,
                    slot: scheduled_for.filter(|s| *s <= now)?,
                    started: started_at.is_some(),
                })
            })
            .collect())
    }

    async fn auth_failures_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<SourceFailures>> {
        // The actions are written out (constants, not input) so that the
        // partial index `audit_log_auth_failures` serves the query.
        let [sign_in, rejected] = AUTH_FAILURE_ACTIONS;
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(&format!(
            "SELECT source_ip, COUNT(*) FROM audit_log
             WHERE action IN ('{sign_in}', '{rejected}') AND outcome <> 'succeeded' AND at >= $1
             GROUP BY source_ip ORDER BY source_ip"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(source, failures)| SourceFailures {
                source,
                failures: failures.max(0) as u64,
            })
            .collect())
    }

    async fn active_versions(&self) -> StoreResult<Vec<ActiveVersion>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT w.name, we.workflow_id, we.environment, CAST(we.version AS BIGINT)
             FROM workflow_environments we JOIN workflows w ON w.id = we.workflow_id
             ORDER BY w.name, we.environment",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(workflow, workflow_id, environment, version)| ActiveVersion {
                    workflow,
                    workflow_id,
                    environment,
                    version: u32::try_from(version).unwrap_or(0),
                },
            )
            .collect())
    }

    async fn alert_audit_cursor(&self) -> StoreResult<Option<u64>> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT audit_seq FROM alert_evaluator WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(seq.map(|s| s.max(0) as u64))
    }
}
