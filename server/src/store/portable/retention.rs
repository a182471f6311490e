//! Retention's SQL: each batch picks up to N finished runs (or
//! notifications) past their cutoff by index, deletes them and their
//! children, and appends its audit record in the same transaction, so a
//! purge is never half-recorded and never holds a lock for long.

use super::audit::append_in;
use super::{Adapter, DATABASE_BYTES, Db, begin_write};
use crate::store::StoreResult;
use crate::store::retention::{PurgeKind, RetentionStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::retention::Purged;
use sqlx::QueryBuilder;

type Tx = crate::store::write_turn::WriteTx<Db>;

/// Finished runs, by the index on (environment, finished_at).
const FINISHED_BEFORE: &str = "SELECT id FROM runs
     WHERE environment = $1 AND finished_at IS NOT NULL AND finished_at < $2
       AND status NOT IN ('queued', 'running')";

/// Narrows [`FINISHED_BEFORE`] to runs that still have their logs.
const LOGS_KEPT: &str = " AND logs_purged_at IS NULL";

/// Up to `batch` ids of runs due, oldest first (`and`: a further condition).
async fn due_runs(
    tx: &mut Tx,
    and: &str,
    environment: &str,
    before: DateTime<Utc>,
    batch: u32,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(&format!(
        "{FINISHED_BEFORE}{and} ORDER BY finished_at LIMIT $3"
    ))
    .bind(environment)
    .bind(before)
    .bind(i64::from(batch))
    .fetch_all(&mut **tx)
    .await?)
}

/// `DELETE FROM table WHERE column IN (ids)`, rows removed.
async fn delete_in(tx: &mut Tx, table: &str, column: &str, ids: &[String]) -> StoreResult<u64> {
    let mut q = QueryBuilder::<Db>::new(format!("DELETE FROM {table} WHERE {column} IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    q.push(")");
    Ok(q.build().execute(&mut **tx).await?.rows_affected())
}

async fn purge_runs(
    tx: &mut Tx,
    environment: &str,
    before: DateTime<Utc>,
    batch: u32,
) -> StoreResult<Purged> {
    let ids = due_runs(tx, "", environment, before, batch).await?;
    if ids.is_empty() {
        return Ok(Purged::default());
    }
    // Children first: the foreign keys point at run_steps and runs.
    let log_lines = delete_in(tx, "step_logs", "run_id", &ids).await?;
    delete_in(tx, "step_attempts", "run_id", &ids).await?;
    delete_in(tx, "run_steps", "run_id", &ids).await?;
    delete_in(tx, "alert_run_inbox", "run_id", &ids).await?;
    let runs = delete_in(tx, "runs", "id", &ids).await?;
    Ok(Purged {
        runs,
        log_lines,
        ..Purged::default()
    })
}

async fn purge_logs(
    tx: &mut Tx,
    environment: &str,
    before: DateTime<Utc>,
    batch: u32,
    now: DateTime<Utc>,
) -> StoreResult<Purged> {
    let ids = due_runs(tx, LOGS_KEPT, environment, before, batch).await?;
    if ids.is_empty() {
        return Ok(Purged::default());
    }
    let log_lines = delete_in(tx, "step_logs", "run_id", &ids).await?;
    let mut q = QueryBuilder::<Db>::new("UPDATE runs SET logs_purged_at = ");
    q.push_bind(now).push(" WHERE id IN (");
    let mut list = q.separated(", ");
    for id in &ids {
        list.push_bind(id.as_str());
    }
    q.push(")");
    let runs = q.build().execute(&mut **tx).await?.rows_affected();
    Ok(Purged {
        runs_logs_purged: runs,
        log_lines,
        ..Purged::default()
    })
}

async fn purge_notifications(
    tx: &mut Tx,
    before: DateTime<Utc>,
    batch: u32,
) -> StoreResult<Purged> {
    let notifications: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM alert_notifications
         WHERE status <> 'pending' AND finished_at IS NOT NULL AND finished_at < $1
         ORDER BY finished_at LIMIT $2",
    )
    .bind(before)
    .bind(i64::from(batch))
    .fetch_all(&mut **tx)
    .await?;
    let transitions: Vec<String> =
        sqlx::query_scalar("SELECT id FROM alert_transitions WHERE at < $1 ORDER BY at LIMIT $2")
            .bind(before)
            .bind(i64::from(batch))
            .fetch_all(&mut **tx)
            .await?;
    let mut purged = Purged::default();
    if !notifications.is_empty() {
        purged.notifications = delete_in(tx, "alert_notifications", "id", &notifications).await?;
    }
    if !transitions.is_empty() {
        purged.alert_transitions = delete_in(tx, "alert_transitions", "id", &transitions).await?;
    }
    Ok(purged)
}

#[async_trait]
impl RetentionStore for Adapter {
    async fn purge_batch(
        &self,
        kind: &PurgeKind,
        batch: u32,
        now: DateTime<Utc>,
        event: AuditEvent,
    ) -> StoreResult<Purged> {
        let mut tx = begin_write(&self.writes).await?;
        let purged = match kind {
            PurgeKind::Runs {
                environment,
                before,
            } => purge_runs(&mut tx, environment, *before, batch).await?,
            PurgeKind::StepLogs {
                environment,
                before,
            } => purge_logs(&mut tx, environment, *before, batch, now).await?,
            PurgeKind::Notifications { before } => {
                purge_notifications(&mut tx, *before, batch).await?
            }
        };
        if purged.is_empty() {
            // Nothing was due: no change, no record.
            return Ok(purged);
        }
        let counts = serde_json::to_value(&purged).unwrap_or_default();
        let mut event = event.detail("purged", counts);
        match kind {
            PurgeKind::Runs {
                environment,
                before,
            }
            | PurgeKind::StepLogs {
                environment,
                before,
            } => {
                event.environment = Some(environment.clone());
                event.set_detail("finished_before", before.to_rfc3339());
            }
            PurgeKind::Notifications { before } => {
                event.set_detail("finished_before", before.to_rfc3339());
            }
        }
        append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(purged)
    }

    async fn purge_due(&self, kind: &PurgeKind) -> StoreResult<Purged> {
        Ok(match kind {
            PurgeKind::Runs {
                environment,
                before,
            } => {
                let runs: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({FINISHED_BEFORE}) due"))
                        .bind(environment)
                        .bind(*before)
                        .fetch_one(&self.pool)
                        .await?;
                Purged {
                    runs: u64::try_from(runs).unwrap_or(0),
                    ..Purged::default()
                }
            }
            PurgeKind::StepLogs {
                environment,
                before,
            } => {
                let runs: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM ({FINISHED_BEFORE}{LOGS_KEPT}) due"
                ))
                .bind(environment)
                .bind(*before)
                .fetch_one(&self.pool)
                .await?;
                Purged {
                    runs_logs_purged: u64::try_from(runs).unwrap_or(0),
                    ..Purged::default()
                }
            }
            PurgeKind::Notifications { before } => {
                let notifications: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM alert_notifications
                     WHERE status <> 'pending' AND finished_at IS NOT NULL AND finished_at < $1",
                )
                .bind(*before)
                .fetch_one(&self.pool)
                .await?;
                let transitions: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM alert_transitions WHERE at < $1")
                        .bind(*before)
                        .fetch_one(&self.pool)
                        .await?;
                Purged {
                    notifications: u64::try_from(notifications).unwrap_or(0),
                    alert_transitions: u64::try_from(transitions).unwrap_or(0),
                    ..Purged::default()
                }
            }
        })
    }

    async fn database_bytes(&self) -> StoreResult<u64> {
        let bytes: i64 = sqlx::query_scalar(DATABASE_BYTES)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}
