//! Freeze windows' SQL for both databases.

use super::audit::append_in;
use super::run_rows::{Tx, corrupt, push_environment_filter};
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::freezes::{BreakRecorded, BreakReview, FreezeDelete, FreezeStore};
use async_trait::async_trait;
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::freeze::{FreezeBreak, FreezeSchedule, FreezeWindow, LedgerFreezeBreak};
use gantry_core::promotion::duration::PolicyDuration;
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

const WINDOW_COLUMNS: &str = "id, environment, reason, kind, starts_at, ends_at, cron, \
    duration_secs, timezone, created_by_id, created_by_name, created_at";

const BREAK_COLUMNS: &str = "id, environment, window_id, freeze_reason, frozen_until, \
    request_id, by_id, by_name, reason, at, reviewed_by_id, reviewed_by_name, reviewed_at, \
    review_comment";

fn window_from_row(row: &DbRow) -> StoreResult<FreezeWindow> {
    let kind: String = row.try_get("kind")?;
    let schedule = match kind.as_str() {
        "one_off" => FreezeSchedule::OneOff {
            start: row
                .try_get::<Option<_>, _>("starts_at")?
                .ok_or_else(|| corrupt("one-off freeze without a start"))?,
            end: row
                .try_get::<Option<_>, _>("ends_at")?
                .ok_or_else(|| corrupt("one-off freeze without an end"))?,
        },
        "recurring" => {
            let secs: i64 = row
                .try_get::<Option<i64>, _>("duration_secs")?
                .ok_or_else(|| corrupt("recurring freeze without a duration"))?;
            FreezeSchedule::Recurring {
                cron: row
                    .try_get::<Option<String>, _>("cron")?
                    .ok_or_else(|| corrupt("recurring freeze without a cron"))?,
                duration: PolicyDuration::from_secs(u64::try_from(secs).map_err(corrupt)?),
                timezone: row
                    .try_get::<Option<String>, _>("timezone")?
                    .ok_or_else(|| corrupt("recurring freeze without a time zone"))?,
            }
        }
        other => return Err(corrupt(format!("freeze kind {other:?}"))),
    };
    Ok(FreezeWindow {
        id: row.try_get("id")?,
        environment: row.try_get("environment")?,
        reason: row.try_get("reason")?,
        schedule,
        created_by: Person {
            id: row.try_get("created_by_id")?,
            name: row.try_get("created_by_name")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

fn break_from_row(row: &DbRow) -> StoreResult<FreezeBreak> {
    let reviewed_by = match (
        row.try_get::<Option<String>, _>("reviewed_by_id")?,
        row.try_get::<Option<String>, _>("reviewed_by_name")?,
    ) {
        (Some(id), Some(name)) => Some(Person { id, name }),
        _ => None,
    };
    Ok(FreezeBreak {
        id: row.try_get("id")?,
        environment: row.try_get("environment")?,
        window_id: row.try_get("window_id")?,
        freeze_reason: row.try_get("freeze_reason")?,
        frozen_until: row.try_get("frozen_until")?,
        request_id: row.try_get("request_id")?,
        by: Person {
            id: row.try_get("by_id")?,
            name: row.try_get("by_name")?,
        },
        reason: row.try_get("reason")?,
        at: row.try_get("at")?,
        reviewed_by,
        reviewed_at: row.try_get("reviewed_at")?,
        review_comment: row.try_get("review_comment")?,
    })
}

/// The break recorded for `request`, as its ledger row shows it (read in
/// the transaction writing the row: pointer moves and canary starts).
pub(super) async fn ledger_break(
    tx: &mut Tx,
    request: &str,
) -> StoreResult<Option<LedgerFreezeBreak>> {
    sqlx::query(
        "SELECT id, by_id, by_name, reason, frozen_until FROM freeze_breaks WHERE request_id = $1",
    )
    .bind(request)
    .fetch_optional(&mut **tx)
    .await?
    .map(|row| {
        Ok(LedgerFreezeBreak {
            id: row.try_get("id")?,
            by: Person {
                id: row.try_get("by_id")?,
                name: row.try_get("by_name")?,
            },
            reason: row.try_get("reason")?,
            frozen_until: row.try_get("frozen_until")?,
        })
    })
    .transpose()
}

#[async_trait]
impl FreezeStore for Adapter {
    async fn freeze_windows(&self, environment: Option<&str>) -> StoreResult<Vec<FreezeWindow>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {WINDOW_COLUMNS} FROM freeze_windows WHERE deleted_at IS NULL"
        ));
        if let Some(env) = environment {
            q.push(" AND environment = ").push_bind(env);
        }
        q.push(" ORDER BY id");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(window_from_row).collect()
    }

    async fn create_freeze(&self, w: &FreezeWindow, audit: AuditEvent) -> StoreResult<()> {
        let (kind, start, end, cron, secs, tz) = match &w.schedule {
            FreezeSchedule::OneOff { start, end } => {
                ("one_off", Some(*start), Some(*end), None, None, None)
            }
            FreezeSchedule::Recurring {
                cron,
                duration,
                timezone,
            } => (
                "recurring",
                None,
                None,
                Some(cron.as_str()),
                Some(i64::try_from(duration.as_secs()).map_err(corrupt)?),
                Some(timezone.as_str()),
            ),
        };
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(&format!(
            "INSERT INTO freeze_windows ({WINDOW_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&w.id)
        .bind(&w.environment)
        .bind(&w.reason)
        .bind(kind)
        .bind(start)
        .bind(end)
        .bind(cron)
        .bind(secs)
        .bind(tz)
        .bind(&w.created_by.id)
        .bind(&w.created_by.name)
        .bind(w.created_at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_freeze(&self, d: FreezeDelete<'_>, audit: AuditEvent) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query(
            "UPDATE freeze_windows SET deleted_at = $3, deleted_by_id = $4, deleted_by_name = $5
             WHERE id = $1 AND environment = $2 AND deleted_at IS NULL",
        )
        .bind(d.id)
        .bind(d.environment)
        .bind(d.at)
        .bind(&d.by.id)
        .bind(&d.by.name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_freeze_break(
        &self,
        b: &FreezeBreak,
        audit: AuditEvent,
    ) -> StoreResult<BreakRecorded> {
        let mut tx = begin_write(&self.writes).await?;
        let state: Option<String> = sqlx::query_scalar(&format!(
            "SELECT state FROM promotion_requests WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(&b.request_id)
        .fetch_optional(&mut *tx)
        .await?;
        if state.as_deref() != Some("pending") {
            return Ok(BreakRecorded::NotPending);
        }
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM freeze_breaks WHERE request_id = $1")
                .bind(&b.request_id)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() {
            return Ok(BreakRecorded::AlreadyBroken);
        }
        sqlx::query(&format!(
            "INSERT INTO freeze_breaks ({BREAK_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL, NULL)"
        ))
        .bind(&b.id)
        .bind(&b.environment)
        .bind(&b.window_id)
        .bind(&b.freeze_reason)
        .bind(b.frozen_until)
        .bind(&b.request_id)
        .bind(&b.by.id)
        .bind(&b.by.name)
        .bind(&b.reason)
        .bind(b.at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(BreakRecorded::Done)
    }

    async fn freeze_break(&self, id: &str) -> StoreResult<Option<FreezeBreak>> {
        let row = sqlx::query(&format!(
            "SELECT {BREAK_COLUMNS} FROM freeze_breaks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(break_from_row).transpose()
    }

    async fn freeze_break_for_request(&self, request_id: &str) -> StoreResult<Option<FreezeBreak>> {
        let row = sqlx::query(&format!(
            "SELECT {BREAK_COLUMNS} FROM freeze_breaks WHERE request_id = $1"
        ))
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(break_from_row).transpose()
    }

    async fn unreviewed_freeze_breaks(
        &self,
        visible: Option<&[String]>,
    ) -> StoreResult<Vec<FreezeBreak>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {BREAK_COLUMNS} FROM freeze_breaks WHERE reviewed_at IS NULL"
        ));
        if let Some(visible) = visible {
            push_environment_filter(&mut q, visible);
        }
        q.push(" ORDER BY id DESC LIMIT 500");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(break_from_row).collect()
    }

    async fn review_freeze_break(
        &self,
        r: BreakReview<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query(
            "UPDATE freeze_breaks SET reviewed_by_id = $2, reviewed_by_name = $3,
                    reviewed_at = $4, review_comment = $5
             WHERE id = $1 AND reviewed_at IS NULL",
        )
        .bind(r.id)
        .bind(&r.by.id)
        .bind(&r.by.name)
        .bind(r.at)
        .bind(r.comment)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
