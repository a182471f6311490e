//! Schedules' SQL for both databases, compiled once per adapter like the
//! rest of `portable/`. A slot fires by compare-and-set on its fire time,
//! so several schedulers (processes) fire it exactly once.

use super::audit::append_in;
use super::run_rows::{Tx, db_int, u32_of};
use super::{Adapter, begin_write};
use crate::store::StoreResult;
use crate::store::runs::NewRun;
use crate::store::schedules::{DueSchedule, ScheduleStore, ScheduleSwitch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::run::RunSummary;
use gantry_core::workflow::ActiveVersion;
use sqlx::Row;

#[async_trait]
impl ScheduleStore for Adapter {
    async fn set_schedule_enabled(
        &self,
        switch: ScheduleSwitch<'_>,
        audit: AuditEvent,
    ) -> StoreResult<Option<ActiveVersion>> {
        let ScheduleSwitch {
            workflow,
            environment,
            enabled,
            next_fire_at,
        } = switch;
        let mut tx = begin_write(&self.writes).await?;
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
        let mut tx = begin_write(&self.writes).await?;
        if !move_slot(&mut tx, due, next_fire_at).await? {
            return Ok(None);
        }
        let summary = self.insert_run(&mut tx, &run, now).await?;
        append_in(&mut tx, audit.detail("run_id", summary.id.clone())).await?;
        tx.commit().await?;
        Ok(Some(summary))
    }

    async fn skip_schedule(
        &self,
        due: &DueSchedule,
        next_fire_at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        if !move_slot(&mut tx, due, next_fire_at).await? {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Compare-and-set on the fire time: of several schedulers seeing the same
/// due slot, exactly one moves the schedule on (and fires or skips it).
async fn move_slot(
    tx: &mut Tx,
    due: &DueSchedule,
    next_fire_at: DateTime<Utc>,
) -> StoreResult<bool> {
    let moved = sqlx::query(
        "UPDATE workflow_environments SET next_fire_at = $1
         WHERE workflow_id = $2 AND environment = $3 AND version = $4 AND next_fire_at = $5",
    )
    .bind(next_fire_at)
    .bind(&due.workflow_id)
    .bind(&due.environment)
    .bind(db_int(due.version))
    .bind(due.next_fire_at)
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}
