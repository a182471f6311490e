//! Delegations' SQL for both databases, compiled once per adapter like the
//! rest of `portable/`.

use super::audit::append_in;
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::delegations::{DelegationQuery, DelegationStore, Revoked, StoredDelegation};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::Delegation;
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

const DELEGATION_COLUMNS: &str =
    "id, from_id, from_name, to_id, to_name, environment, from_time, until, created_at, revoked_at";

fn delegation_from_row(row: &DbRow) -> StoreResult<StoredDelegation> {
    Ok(StoredDelegation {
        id: row.try_get("id")?,
        delegation: Delegation {
            from: Person {
                id: row.try_get("from_id")?,
                name: row.try_get("from_name")?,
            },
            to: Person {
                id: row.try_get("to_id")?,
                name: row.try_get("to_name")?,
            },
            environment: row.try_get("environment")?,
            from_time: row.try_get("from_time")?,
            until: row.try_get("until")?,
        },
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl DelegationStore for Adapter {
    async fn delegations(
        &self,
        environment: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Delegation>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM approval_delegations
             WHERE environment = $1 AND revoked_at IS NULL AND from_time <= $2 AND until > $2
             ORDER BY from_time"
        ))
        .bind(environment)
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| delegation_from_row(row).map(|d| d.delegation))
            .collect()
    }

    async fn create_delegation(
        &self,
        stored: &StoredDelegation,
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let d = &stored.delegation;
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(
            "INSERT INTO approval_delegations (id, from_id, from_name, to_id, to_name, environment,
                                               from_time, until, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&stored.id)
        .bind(&d.from.id)
        .bind(&d.from.name)
        .bind(&d.to.id)
        .bind(&d.to.name)
        .bind(&d.environment)
        .bind(d.from_time)
        .bind(d.until)
        .bind(stored.created_at)
        .bind(stored.revoked_at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delegation(&self, id: &str) -> StoreResult<Option<StoredDelegation>> {
        sqlx::query(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM approval_delegations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(delegation_from_row)
        .transpose()
    }

    async fn delegation_list(
        &self,
        query: DelegationQuery<'_>,
    ) -> StoreResult<Vec<StoredDelegation>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {DELEGATION_COLUMNS} FROM approval_delegations WHERE 1 = 1"
        ));
        if let Some(e) = query.environment {
            q.push(" AND environment = ").push_bind(e);
        }
        if let Some(visible) = query.visible {
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
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        q.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(delegation_from_row)
            .collect()
    }

    async fn revoke_delegation(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Revoked> {
        let mut tx = begin_write(&self.writes).await?;
        // Locked, so two revocations record one revoke and one conflict.
        let row = sqlx::query(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM approval_delegations WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(mut stored) = row.as_ref().map(delegation_from_row).transpose()? else {
            return Ok(Revoked::NotFound);
        };
        if let Some(when) = stored.revoked_at {
            return Ok(Revoked::Already(when));
        }
        sqlx::query("UPDATE approval_delegations SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        stored.revoked_at = Some(at);
        Ok(Revoked::Done(Box::new(stored)))
    }
}
