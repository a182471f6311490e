//! Rate limits' SQL for both databases. A check is one upsert that moves
//! the bucket's TAT only when the request fits (the GCRA step of
//! `gantry_core::ratelimit::admit`), so concurrent processes can't both
//! spend the last request.

use super::audit::append_in;
use super::run_rows::corrupt;
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::rate_limits::{RateLimitStore, Taken};
use async_trait::async_trait;
use gantry_core::audit::AuditEvent;
use gantry_core::ratelimit::{OverrideSubject, Quota, RateLimitOverride, RouteClass};
use sqlx::Row;

type DbRow = <Db as sqlx::Database>::Row;

const COLUMNS: &str = "id, subject_kind, subject, class, quota, note, created_by, created_at";

/// `max(tat, now) + interval` without a function both databases spell alike.
const NEXT: &str =
    "(CASE WHEN rate_limit_buckets.tat > $2 THEN rate_limit_buckets.tat ELSE $2 END) + $3";

fn override_from_row(row: &DbRow) -> StoreResult<RateLimitOverride> {
    let kind: String = row.try_get("subject_kind")?;
    let class: String = row.try_get("class")?;
    let quota: String = row.try_get("quota")?;
    Ok(RateLimitOverride {
        id: row.try_get("id")?,
        subject_kind: OverrideSubject::parse(&kind)
            .ok_or_else(|| corrupt(format!("rate limit subject kind {kind:?}")))?,
        subject: row.try_get("subject")?,
        class: RouteClass::parse(&class)
            .ok_or_else(|| corrupt(format!("rate limit class {class:?}")))?,
        quota: Quota::parse(&quota).map_err(corrupt)?,
        note: row.try_get("note")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn quota_text(quota: Option<Quota>) -> String {
    quota.map_or_else(|| "off".to_owned(), |q| q.to_string())
}

#[async_trait]
impl RateLimitStore for Adapter {
    async fn take_rate_limit(&self, key: &str, quota: Quota, now: i64) -> StoreResult<Taken> {
        let interval = i64::try_from(quota.emission_interval_micros()).unwrap_or(i64::MAX);
        let burst = interval.saturating_mul(i64::from(quota.requests));
        let moved: Option<i64> = sqlx::query_scalar(&format!(
            "INSERT INTO rate_limit_buckets (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = {NEXT}
             WHERE {NEXT} - $4 <= $2
             RETURNING tat"
        ))
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(burst)
        .fetch_optional(&mut *self.writes.connection().await?)
        .await?;
        if let Some(tat) = moved {
            return Ok(Taken { allowed: true, tat });
        }
        let tat: Option<i64> =
            sqlx::query_scalar("SELECT tat FROM rate_limit_buckets WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(Taken {
            allowed: false,
            tat: tat.unwrap_or(now),
        })
    }

    async fn purge_rate_limit_buckets(&self, before: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM rate_limit_buckets WHERE tat < $1")
            .bind(before)
            .execute(&mut *self.writes.connection().await?)
            .await?
            .rows_affected())
    }

    async fn rate_limit_overrides(&self) -> StoreResult<Vec<RateLimitOverride>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM rate_limit_overrides ORDER BY class, subject_kind, subject"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(override_from_row).collect()
    }

    async fn put_rate_limit_override(
        &self,
        rule: &RateLimitOverride,
        audit: AuditEvent,
    ) -> StoreResult<RateLimitOverride> {
        let mut tx = begin_write(&self.writes).await?;
        // The same subject and class replace the earlier override (and
        // keep its id, so links to it stay good).
        let row = sqlx::query(&format!(
            "INSERT INTO rate_limit_overrides ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (subject_kind, subject, class) DO UPDATE
             SET quota = excluded.quota, note = excluded.note,
                 created_by = excluded.created_by, created_at = excluded.created_at
             RETURNING {COLUMNS}"
        ))
        .bind(&rule.id)
        .bind(rule.subject_kind.as_str())
        .bind(&rule.subject)
        .bind(rule.class.as_str())
        .bind(quota_text(rule.quota))
        .bind(&rule.note)
        .bind(&rule.created_by)
        .bind(rule.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let stored = override_from_row(&row)?;
        append_in(&mut tx, audit.detail("override_id", stored.id.clone())).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn delete_rate_limit_override(
        &self,
        id: &str,
        audit: AuditEvent,
    ) -> StoreResult<Option<RateLimitOverride>> {
        let mut tx = begin_write(&self.writes).await?;
        let row = sqlx::query(&format!(
            "DELETE FROM rate_limit_overrides WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let gone = override_from_row(&row)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(gone))
    }
}
