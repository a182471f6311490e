//! Secret leases' SQL for both databases.

use super::audit::append_in;
use super::run_rows::{db_int, u32_of};
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::secret_leases::{DueLease, SecretLeaseStore, StoredLease};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use sqlx::Row;

type DbRow = <Db as sqlx::Database>::Row;

const COLUMNS: &str = "l.lease_id, l.provider, l.environment, l.run_id, l.step_id, l.attempt, \
     l.reference, l.server_renews, l.duration_secs, l.expires_at";

fn lease_from_row(row: &DbRow) -> StoreResult<StoredLease> {
    let server_renews: bool = row.try_get("server_renews")?;
    Ok(StoredLease {
        lease_id: row.try_get("lease_id")?,
        provider: row.try_get("provider")?,
        environment: row.try_get("environment")?,
        run_id: row.try_get("run_id")?,
        step_id: row.try_get("step_id")?,
        attempt: u32_of(row.try_get("attempt")?, "secret_leases.attempt")?,
        reference: row.try_get("reference")?,
        server_renews,
        duration_secs: u32_of(row.try_get("duration_secs")?, "secret_leases.duration_secs")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait]
impl SecretLeaseStore for Adapter {
    async fn record_secret_fetches(
        &self,
        events: Vec<AuditEvent>,
        leases: Vec<StoredLease>,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        for event in events {
            append_in(&mut tx, event).await?;
        }
        for l in &leases {
            sqlx::query(
                "INSERT INTO secret_leases (lease_id, provider, environment, run_id, step_id, attempt,
                                            reference, server_renews, duration_secs, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&l.lease_id)
            .bind(&l.provider)
            .bind(&l.environment)
            .bind(&l.run_id)
            .bind(&l.step_id)
            .bind(db_int(l.attempt))
            .bind(&l.reference)
            .bind(l.server_renews)
            .bind(db_int(l.duration_secs))
            .bind(l.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn leases_due(
        &self,
        now: DateTime<Utc>,
        renew_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueLease>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, a.status AS attempt_status FROM secret_leases l
             LEFT JOIN step_attempts a
               ON a.run_id = l.run_id AND a.step_id = l.step_id AND a.attempt = l.attempt
             WHERE l.revoked_at IS NULL
               AND (l.retry_at IS NULL OR l.retry_at <= $1)
               AND (a.status IS NULL OR a.status <> 'running'
                    OR (l.server_renews AND l.expires_at > $1 AND l.expires_at < $2))
             ORDER BY l.expires_at
             LIMIT $3"
        ))
        .bind(now)
        .bind(renew_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: Option<String> = row.try_get("attempt_status")?;
                Ok(DueLease {
                    lease: lease_from_row(row)?,
                    attempt_running: status.as_deref() == Some("running"),
                })
            })
            .collect()
    }

    async fn lease_revoked(
        &self,
        lease_id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        let changed = sqlx::query(
            "UPDATE secret_leases SET revoked_at = $2, last_error = NULL, retry_at = NULL
             WHERE lease_id = $1 AND revoked_at IS NULL",
        )
        .bind(lease_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Another keeper (a second `serve`) got there first: one record.
        if changed == 1 {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn lease_renewed(&self, lease_id: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE secret_leases SET expires_at = $2, last_error = NULL, retry_at = NULL
             WHERE lease_id = $1 AND revoked_at IS NULL",
        )
        .bind(lease_id)
        .bind(expires_at)
        .execute(&mut *self.writes.connection().await?)
        .await?;
        Ok(())
    }

    async fn lease_failed(
        &self,
        lease_id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE secret_leases SET last_error = $2, retry_at = $3 WHERE lease_id = $1")
            .bind(lease_id)
            .bind(error)
            .bind(retry_at)
            .execute(&mut *self.writes.connection().await?)
            .await?;
        Ok(())
    }

    async fn run_leases(
        &self,
        run_id: &str,
    ) -> StoreResult<Vec<(StoredLease, Option<DateTime<Utc>>)>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, l.revoked_at FROM secret_leases l WHERE l.run_id = $1
             ORDER BY l.step_id, l.attempt, l.lease_id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((lease_from_row(row)?, row.try_get("revoked_at")?)))
            .collect()
    }
}
