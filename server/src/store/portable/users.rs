//! The people half of the store (users, role grants, preferences): one SQL
//! source for both databases, compiled once per adapter like the rest of `portable/`.

use super::audit::append_in;
use super::{Adapter, Db, begin_write};
use crate::store::users::{OidcUpsert, SignInRecord, UserStore};
use crate::store::{DEV_SEED_SOURCE, SeedUser, StoreResult, UserRecord, grant_from_row};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::{Preferences, RoleGrant, UserId, VerifiedIdentity};
use sqlx::Row;
use sqlx::types::Json;
use std::collections::HashMap;

fn user_from_row(row: &<Db as sqlx::Database>::Row) -> StoreResult<UserRecord> {
    let Json(preferences): Json<Preferences> = row.try_get("preferences")?;
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        source: row.try_get("source")?,
        disabled: row.try_get("disabled")?,
        preferences,
        created_at: row.try_get("created_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        session_epoch: row.try_get("session_epoch")?,
        scim_managed: row.try_get("scim_managed")?,
        provisioned_at: row.try_get("provisioned_at")?,
    })
}

/// One user query's text, built at compile time (never from runtime input).
macro_rules! select_user_where {
    ($cond:literal) => {
        concat!(
            "SELECT id, username, display_name, email, source, disabled, preferences, created_at, \
             last_sign_in_at, session_epoch, \
             scim_resource IS NOT NULL AS scim_managed, provisioned_at FROM users WHERE ",
            $cond
        )
    };
}

/// Runs an UPDATE meant for exactly one row and, when it found its row,
/// appends `audit` in the same transaction. False (nothing changed) when
/// the row is not there.
async fn update_one_then_record<'q>(
    pool: &crate::store::write_turn::Writer<Db>,
    update: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
    audit: AuditEvent,
) -> StoreResult<bool> {
    let mut tx = begin_write(pool).await?;
    if update.execute(&mut *tx).await?.rows_affected() != 1 {
        return Ok(false);
    }
    append_in(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

#[async_trait]
impl UserStore for Adapter {
    async fn upsert_seed_user(&self, seed: &SeedUser, now: DateTime<Utc>) -> StoreResult<UserId> {
        let mut tx = begin_write(&self.writes).await?;
        let id: String = sqlx::query_scalar(
            "INSERT INTO users (id, username, display_name, source, created_at, updated_at)
             VALUES ($1, $2, $3, 'dev', $4, $4)
             ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name,
                                                  updated_at = EXCLUDED.updated_at
             RETURNING id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&seed.username)
        .bind(&seed.display_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND source = $2")
            .bind(&id)
            .bind(DEV_SEED_SOURCE)
            .execute(&mut *tx)
            .await?;
        for (role, env) in &seed.grants {
            sqlx::query(
                "INSERT INTO role_grants (user_id, role, environment, source) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(role.as_str())
            .bind(env)
            .bind(DEV_SEED_SOURCE)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(UserId(id))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        // No username holds a NUL (PostgreSQL's text can't): nobody, rather
        // than the database refusing the query.
        if username.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(select_user_where!("username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        if id.0.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(select_user_where!("id = $1"))
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_with_grants(
        &self,
        id: &UserId,
    ) -> StoreResult<Option<(UserRecord, Vec<RoleGrant>)>> {
        // One row per grant (one with NULLs for a user without any): a
        // session's every request reads this, so one round trip, not two.
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.email, u.source, u.disabled,
                    u.preferences, u.created_at, u.last_sign_in_at, u.session_epoch,
                    u.scim_resource IS NOT NULL AS scim_managed, u.provisioned_at,
                    g.role AS grant_role, g.environment AS grant_environment,
                    g.source AS grant_source
             FROM users u LEFT JOIN role_grants g ON g.user_id = u.id
             WHERE u.id = $1
             ORDER BY g.role, g.environment, g.source",
        )
        .bind(&id.0)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let user = user_from_row(first)?;
        let mut grants = Vec::with_capacity(rows.len());
        for row in &rows {
            let role: Option<String> = row.try_get("grant_role")?;
            let environment: Option<String> = row.try_get("grant_environment")?;
            let source: Option<String> = row.try_get("grant_source")?;
            if let (Some(role), Some(environment), Some(source)) = (role, environment, source) {
                grants.push(grant_from_row(&role, &environment, source)?);
            }
        }
        Ok(Some((user, grants)))
    }

    async fn grants_for(&self, id: &UserId) -> StoreResult<Vec<RoleGrant>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT role, environment, source FROM role_grants WHERE user_id = $1
             ORDER BY role, environment, source",
        )
        .bind(&id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(role, env, source)| grant_from_row(&role, &env, source))
            .collect()
    }

    async fn upsert_oidc_user(
        &self,
        identity: &VerifiedIdentity,
        grants: &[RoleGrant],
        now: DateTime<Utc>,
        audit: SignInRecord,
    ) -> StoreResult<OidcUpsert> {
        let mut tx = begin_write(&self.writes).await?;
        let mut existing: Option<(String, bool, bool)> = sqlx::query_as(
            "SELECT id, disabled, scim_resource IS NOT NULL FROM users
             WHERE oidc_issuer = $1 AND oidc_subject = $2",
        )
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .fetch_optional(&mut *tx)
        .await?;
        if existing.is_none() {
            // A person provisioned over SCIM before their first sign-in:
            // their externalId is the subject, else their username, else
            // their e-mail matches (case aside), in that order.
            existing = sqlx::query_as(
                "SELECT id, disabled, TRUE FROM users
                 WHERE scim_resource IS NOT NULL AND oidc_subject IS NULL
                   AND (external_id = $1 OR lower(username) = lower($2)
                        OR (email IS NOT NULL AND lower(email) = lower($3)))
                 ORDER BY CASE WHEN external_id = $1 THEN 0
                               WHEN lower(username) = lower($2) THEN 1 ELSE 2 END
                 LIMIT 1",
            )
            .bind(&identity.subject)
            .bind(&identity.username)
            .bind(identity.email.as_deref().unwrap_or(""))
            .fetch_optional(&mut *tx)
            .await?;
        }
        if let Some((id, true, _)) = existing {
            return Ok(OidcUpsert::Disabled(UserId(id)));
        }
        if let Some((id, false, true)) = existing {
            // The provider provisions this person: their profile and their
            // group grants come from SCIM, not from the ID token.
            sqlx::query(
                "UPDATE users SET oidc_issuer = $1, oidc_subject = $2, last_sign_in_at = $3
                 WHERE id = $4",
            )
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            let id = UserId(id);
            append_in(&mut tx, audit(&id)).await?;
            tx.commit().await?;
            return Ok(OidcUpsert::SignedIn(id));
        }
        let existing = existing.map(|(id, disabled, _)| (id, disabled));
        let id = existing.map_or_else(|| uuid::Uuid::new_v4().to_string(), |(id, _)| id);
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1 AND id <> $2")
                .bind(&identity.username)
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(OidcUpsert::UsernameTaken);
        }
        sqlx::query(
            "INSERT INTO users (id, username, display_name, email, source, oidc_issuer, oidc_subject,
                                created_at, updated_at, last_sign_in_at)
             VALUES ($1, $2, $3, $4, 'oidc', $5, $6, $7, $7, $7)
             ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username,
                                            display_name = EXCLUDED.display_name,
                                            email = EXCLUDED.email,
                                            updated_at = EXCLUDED.updated_at,
                                            last_sign_in_at = EXCLUDED.last_sign_in_at",
        )
        .bind(&id)
        .bind(&identity.username)
        .bind(&identity.display_name)
        .bind(&identity.email)
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND source LIKE 'group:%'")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for grant in grants {
            sqlx::query(
                "INSERT INTO role_grants (user_id, role, environment, source) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(grant.role.as_str())
            .bind(grant.scope.to_string())
            .bind(&grant.source)
            .execute(&mut *tx)
            .await?;
        }
        let id = UserId(id);
        append_in(&mut tx, audit(&id)).await?;
        tx.commit().await?;
        Ok(OidcUpsert::SignedIn(id))
    }

    async fn set_preferences(
        &self,
        id: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let update =
            sqlx::query("UPDATE users SET preferences = $1, updated_at = $2 WHERE id = $3")
                .bind(Json(preferences))
                .bind(now)
                .bind(&id.0);
        update_one_then_record(&self.writes, update, audit).await
    }

    async fn record_sign_in(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let update =
            sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2 AND NOT disabled")
                .bind(now)
                .bind(&id.0);
        update_one_then_record(&self.writes, update, audit).await
    }

    async fn list_users(&self) -> StoreResult<Vec<(UserRecord, Vec<RoleGrant>)>> {
        let rows = sqlx::query(select_user_where!("TRUE ORDER BY display_name, username"))
            .fetch_all(&self.pool)
            .await?;
        let users = rows
            .iter()
            .map(user_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let grant_rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT user_id, role, environment, source FROM role_grants
             ORDER BY user_id, role, environment, source",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut grants: HashMap<String, Vec<RoleGrant>> = HashMap::new();
        for (user, role, env, source) in grant_rows {
            grants
                .entry(user)
                .or_default()
                .push(grant_from_row(&role, &env, source)?);
        }
        Ok(users
            .into_iter()
            .map(|u| {
                let held = grants.remove(&u.id.0).unwrap_or_default();
                (u, held)
            })
            .collect())
    }

    async fn set_user_disabled(
        &self,
        id: &UserId,
        disabled: bool,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        // Disabling also moves the session generation on, so sessions
        // started before stay ended even once the account is enabled again.
        let update = sqlx::query(
            "UPDATE users SET disabled = $1, updated_at = $2,
                    session_epoch = CASE WHEN $1 THEN session_epoch + 1 ELSE session_epoch END
             WHERE id = $3",
        )
        .bind(disabled)
        .bind(now)
        .bind(&id.0);
        update_one_then_record(&self.writes, update, audit).await
    }
}
