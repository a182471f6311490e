//! Break-glass passkeys' SQL for both databases. A registration counts the
//! owner's passkeys under the owner's row lock (PostgreSQL; SQLite's
//! writers take turns), so two at once can't both pass the cap; a
//! ceremony is taken by one `DELETE … RETURNING`, so a challenge counts
//! once however many finishes race for it.

use super::audit::append_in;
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::passkeys::{
    Ceremony, CeremonyPurpose, NewPasskey, PasskeyRefused, PasskeyStore, StoredPasskey,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::UserId;
use gantry_core::audit::AuditEvent;
use gantry_core::break_glass::PasskeyView;
use sqlx::Row;

type DbRow = <Db as sqlx::Database>::Row;

/// A passkey with its owner's names.
const VIEW: &str = "SELECT p.id, p.user_id, u.username, u.display_name, p.name, p.created_at,
                           p.last_used_at, p.credential_id, p.credential
                    FROM passkeys p JOIN users u ON u.id = p.user_id";

fn view_from_row(row: &DbRow) -> StoreResult<PasskeyView> {
    Ok(PasskeyView {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn stored_from_row(row: &DbRow) -> StoreResult<StoredPasskey> {
    Ok(StoredPasskey {
        view: view_from_row(row)?,
        credential_id: row.try_get("credential_id")?,
        credential: row.try_get("credential")?,
    })
}

#[async_trait]
impl PasskeyStore for Adapter {
    async fn passkeys(&self, owner: Option<&UserId>) -> StoreResult<Vec<PasskeyView>> {
        let rows = sqlx::query(&format!(
            "{VIEW} WHERE ($1 IS NULL OR p.user_id = $1) ORDER BY p.created_at DESC, p.id"
        ))
        .bind(owner.map(|o| o.0.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(view_from_row).collect()
    }

    async fn passkey_credentials(&self, owner: &UserId) -> StoreResult<Vec<StoredPasskey>> {
        let rows = sqlx::query(&format!(
            "{VIEW} WHERE p.user_id = $1 ORDER BY p.created_at, p.id"
        ))
        .bind(&owner.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_from_row).collect()
    }

    async fn begin_passkey_ceremony(
        &self,
        ceremony: &Ceremony,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO passkey_ceremonies (id, purpose, user_id, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&ceremony.id)
        .bind(ceremony.purpose.as_str())
        .bind(&ceremony.user_id.0)
        .bind(&ceremony.state)
        .bind(ceremony.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_passkey_ceremony(
        &self,
        id: &str,
        purpose: CeremonyPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Ceremony>> {
        let row = sqlx::query(
            "DELETE FROM passkey_ceremonies WHERE id = $1 AND purpose = $2
             RETURNING user_id, state, expires_at",
        )
        .bind(id)
        .bind(purpose.as_str())
        .fetch_optional(&mut *self.writes.connection().await?)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
        if expires_at <= now {
            return Ok(None);
        }
        Ok(Some(Ceremony {
            id: id.to_owned(),
            purpose,
            user_id: UserId(row.try_get("user_id")?),
            state: row.try_get("state")?,
            expires_at,
        }))
    }

    async fn add_passkey(
        &self,
        passkey: &NewPasskey,
        cap: u32,
        audit: AuditEvent,
    ) -> StoreResult<Result<PasskeyView, PasskeyRefused>> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(&format!("SELECT id FROM users WHERE id = $1{FOR_UPDATE}"))
            .bind(&passkey.user_id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(&passkey.user_id.0)
            .fetch_one(&mut *tx)
            .await?;
        if held >= i64::from(cap) {
            return Ok(Err(PasskeyRefused::AtCap));
        }
        let added = sqlx::query(
            "INSERT INTO passkeys (id, user_id, name, credential_id, credential, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(&passkey.id)
        .bind(&passkey.user_id.0)
        .bind(&passkey.name)
        .bind(&passkey.credential_id)
        .bind(&passkey.credential)
        .bind(passkey.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added == 0 {
            return Ok(Err(PasskeyRefused::Duplicate));
        }
        let row = sqlx::query(&format!("{VIEW} WHERE p.id = $1"))
            .bind(&passkey.id)
            .fetch_one(&mut *tx)
            .await?;
        let view = view_from_row(&row)?;
        append_in(&mut tx, audit.detail("passkey_id", view.id.clone())).await?;
        tx.commit().await?;
        Ok(Ok(view))
    }

    async fn passkey(&self, id: &str) -> StoreResult<Option<PasskeyView>> {
        let row = sqlx::query(&format!("{VIEW} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(view_from_row).transpose()
    }

    async fn revoke_passkey(
        &self,
        id: &str,
        audit: AuditEvent,
    ) -> StoreResult<Option<PasskeyView>> {
        let mut tx = begin_write(&self.writes).await?;
        let row = sqlx::query(&format!("{VIEW} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let view = view_from_row(&row)?;
        sqlx::query("DELETE FROM passkeys WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(view))
    }

    async fn passkey_used(
        &self,
        id: &str,
        credential: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let updated =
            sqlx::query("UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1")
                .bind(id)
                .bind(credential)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
