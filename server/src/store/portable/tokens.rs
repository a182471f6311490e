//! Service tokens' SQL for both databases, compiled once per adapter like
//! the rest of `portable/`.

use super::audit::append_in;
use super::{Adapter, Db, begin_write};
use crate::store::tokens::{Created, NewTokenRecord, SystemToken, TokenRecord, TokenStore};
use crate::store::{StoreResult, grant_from_row};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::token::{ServiceToken, TokenKind};
use sqlx::Row;
use std::collections::BTreeMap;

/// The kinds of token this version knows (`TokenKind`); a row of any
/// other kind (written by a newer version) is neither shown nor accepted.
const KNOWN_KINDS: &str = "kind IN ('service', 'scim', 'worker', 'metrics')";

/// A token with one of its grants (none: the token has no grant).
type TokenGrantRow = (
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

const TOKEN_COLUMNS: &str = "id, name, kind, hint, created_at, created_by, expires_at, \
     last_used_at, revoked_at, made_by_person, made_by_person_name, can_create_tokens";

/// Tokens with their grants, in the order the query gave them. (Token
/// counts are small: one query for every grant beats one per token.)
async fn with_grants(
    pool: &sqlx::Pool<Db>,
    rows: Vec<<Db as sqlx::Database>::Row>,
) -> StoreResult<Vec<ServiceToken>> {
    let grants: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT token_id, role, environment FROM api_token_grants ORDER BY role, environment",
    )
    .fetch_all(pool)
    .await?;
    let mut by_token: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, role, env) in grants {
        by_token
            .entry(id)
            .or_default()
            .push(format!("{role}@{env}"));
    }
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let maker = match (
                row.try_get::<Option<String>, _>("made_by_person")?,
                row.try_get::<Option<String>, _>("made_by_person_name")?,
            ) {
                (Some(id), name) => Some(Person {
                    name: name.unwrap_or_else(|| id.clone()),
                    id,
                }),
                (None, _) => None,
            };
            Ok(ServiceToken {
                maker,
                can_create_tokens: row.try_get("can_create_tokens")?,
                kind: TokenKind::parse(&kind).unwrap_or_default(),
                roles: by_token.remove(&id).unwrap_or_default(),
                id,
                name: row.try_get("name")?,
                hint: row.try_get("hint")?,
                created_at: row.try_get("created_at")?,
                created_by: row.try_get("created_by")?,
                expires_at: row.try_get("expires_at")?,
                last_used_at: row.try_get("last_used_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

#[async_trait]
impl TokenStore for Adapter {
    async fn upsert_token(
        &self,
        token: SystemToken<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        let id: String = sqlx::query_scalar(
            // The same secret configured again does not undo a revocation;
            // a new one replaces it. It is the system's own token: it may
            // make tokens, and acts for the system in four-eyes.
            "INSERT INTO api_tokens (id, name, token_hash, created_at, hint, made_by_person,
                 made_by_person_name, can_create_tokens)
             VALUES ($1, $2, $3, $4, $5, 'system', 'system', TRUE)
             ON CONFLICT (name) DO UPDATE SET
                token_hash = excluded.token_hash, hint = excluded.hint,
                revoked_at = CASE WHEN api_tokens.token_hash = excluded.token_hash
                                  THEN api_tokens.revoked_at ELSE NULL END
             RETURNING id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(token.name)
        .bind(token.token_hash)
        .bind(now)
        .bind(token.hint)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM api_token_grants WHERE token_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for (role, env) in token.grants {
            sqlx::query(
                "INSERT INTO api_token_grants (token_id, role, environment) VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(role.as_str())
            .bind(env)
            .execute(&mut *tx)
            .await?;
        }
        let granted: Vec<String> = token
            .grants
            .iter()
            .map(|(r, e)| format!("{r}@{e}"))
            .collect();
        append_in(&mut tx, audit.detail("grants", granted)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token_exists(&self, name: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TokenRecord>> {
        // The token and its grants in one read (one row per grant; one
        // with no grant when it has none): every authenticated API request
        // makes this lookup.
        let rows: Vec<TokenGrantRow> = sqlx::query_as(&format!(
            "SELECT t.id, t.name, t.kind, t.last_used_at, g.role, g.environment
             FROM api_tokens t LEFT JOIN api_token_grants g ON g.token_id = t.id
             WHERE t.token_hash = $1 AND t.{KNOWN_KINDS} AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > $2)",
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let Some((id, name, kind, last_used_at, _, _)) = rows.first().cloned() else {
            return Ok(None);
        };
        let grants: Vec<(String, String)> = rows
            .into_iter()
            .filter_map(|(.., role, environment)| role.zip(environment))
            .collect();
        // Last use to the minute: a busy worker or CI token would otherwise
        // cost a write on every request. Checked here first, so a request
        // within the minute doesn't even wait for SQLite's writer turn.
        let stale = now - chrono::Duration::minutes(1);
        if last_used_at.is_none_or(|at| at < stale) {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now)
            .bind(&id)
            .bind(stale)
            .execute(&mut *self.writes.connection().await?)
            .await?;
        }
        let grants = grants
            .into_iter()
            .map(|(role, env)| grant_from_row(&role, &env, format!("token {name}")))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(TokenRecord {
            id,
            name,
            kind: TokenKind::parse(&kind).unwrap_or_default(),
            grants,
        }))
    }

    async fn create_token(
        &self,
        new: NewTokenRecord<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Created> {
        let mut tx = begin_write(&self.writes).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at, expires_at, created_by, hint,
                 kind, made_by_person, made_by_person_name, can_create_tokens)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id)
        .bind(new.name)
        .bind(new.token_hash)
        .bind(now)
        .bind(new.expires_at)
        .bind(new.created_by)
        .bind(new.hint)
        .bind(new.kind.as_str())
        .bind(new.maker.map(|p| p.id.as_str()))
        .bind(new.maker.map(|p| p.name.as_str()))
        .bind(new.can_create_tokens)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Created::NameTaken);
        }
        for (role, env) in new.grants {
            sqlx::query(
                "INSERT INTO api_token_grants (token_id, role, environment) VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(role.as_str())
            .bind(env)
            .execute(&mut *tx)
            .await?;
        }
        let roles: Vec<String> = new.grants.iter().map(|(r, e)| format!("{r}@{e}")).collect();
        append_in(
            &mut tx,
            audit
                .detail("token_id", id.clone())
                .detail("kind", new.kind.as_str())
                .detail("grants", roles.clone())
                .detail("expires_at", new.expires_at.map(|e| e.to_rfc3339()))
                .detail("maker", new.maker.map(|p| p.id.clone()))
                .detail("may_make_tokens", new.can_create_tokens),
        )
        .await?;
        tx.commit().await?;
        Ok(Created::Token(Box::new(ServiceToken {
            id,
            name: new.name.to_owned(),
            kind: new.kind,
            roles,
            hint: new.hint.to_owned(),
            created_at: now,
            created_by: new.created_by.to_owned(),
            maker: new.maker.cloned(),
            can_create_tokens: new.can_create_tokens,
            expires_at: new.expires_at,
            last_used_at: None,
            revoked_at: None,
        })))
    }

    async fn list_tokens(&self) -> StoreResult<Vec<ServiceToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {KNOWN_KINDS} ORDER BY created_at DESC, name"
        ))
        .fetch_all(&self.pool)
        .await?;
        with_grants(&self.pool, rows).await
    }

    async fn find_token(&self, id_or_name: &str) -> StoreResult<Option<ServiceToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {KNOWN_KINDS} AND (id = $1 OR name = $1)"
        ))
        .bind(id_or_name)
        .fetch_all(&self.pool)
        .await?;
        Ok(with_grants(&self.pool, rows).await?.into_iter().next())
    }

    async fn revoke_token(
        &self,
        id_or_name: &str,
        by: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<ServiceToken>> {
        let mut tx = begin_write(&self.writes).await?;
        let row: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(&format!(
            "SELECT id, revoked_at FROM api_tokens WHERE {KNOWN_KINDS} AND (id = $1 OR name = $1)",
        ))
        .bind(id_or_name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, revoked_at)) = row else {
            return Ok(None);
        };
        if revoked_at.is_none() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
                .bind(now)
                .bind(by)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        append_in(
            &mut tx,
            audit
                .detail("token_id", id.clone())
                .detail("already_revoked", revoked_at.is_some()),
        )
        .await?;
        tx.commit().await?;
        self.find_token(&id).await
    }
}
