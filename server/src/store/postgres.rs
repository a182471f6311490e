//! The PostgreSQL adapter, for several Gantry processes sharing one database.

use super::spec_cache::SpecCache;
use super::{
    DEV_SEED_SOURCE, MigrationStatus, SeedUser, SessionBackend, Store, StoreResult, UserRecord,
    WorkSignal, compare_migrations, grant_from_row,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::{Preferences, RoleGrant, UserId};
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::Json;
use std::time::Duration;

// Deliberate: one source file, compiled once per database driver.
#[allow(clippy::duplicate_mod)]
#[path = "portable.rs"]
mod portable;

/// What `portable.rs` is compiled against in this adapter.
type Db = sqlx::Postgres;
type Adapter = PgStore;
/// Row locks: real ones, several processes share the database.
const FOR_UPDATE: &str = " FOR UPDATE";
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

async fn begin_write(pool: &sqlx::Pool<Db>) -> StoreResult<sqlx::Transaction<'static, Db>> {
    Ok(pool.begin().await?)
}

async fn notify_work(tx: &mut sqlx::Transaction<'static, Db>) -> StoreResult<()> {
    // Delivered to every listening process when the transaction commits.
    sqlx::query("SELECT pg_notify('gantry_work', '')")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    specs: SpecCache,
    signal: WorkSignal,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            specs: SpecCache::default(),
            signal: WorkSignal::default(),
        })
    }
}

fn user_from_row(row: &sqlx::postgres::PgRow) -> StoreResult<UserRecord> {
    let Json(preferences): Json<Preferences> = row.try_get("preferences")?;
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        source: row.try_get("source")?,
        disabled: row.try_get("disabled")?,
        preferences,
    })
}

/// One user query's text, built at compile time (never from runtime input).
macro_rules! select_user_where {
    ($cond:literal) => {
        concat!(
            "SELECT id, username, display_name, email, source, disabled, preferences FROM users WHERE ",
            $cond
        )
    };
}

#[async_trait]
impl Store for PgStore {
    fn work_signal(&self) -> WorkSignal {
        self.signal.clone()
    }

    async fn listen_for_work(&self) -> StoreResult<()> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("gantry_work").await?;
        let signal = self.signal.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => signal.notify(),
                    // The connection dropped; sqlx reconnects on the next
                    // call. Wake workers in case we missed a notification.
                    Ok(None) => signal.notify(),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN gantry_work failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }

    fn backend(&self) -> super::Backend {
        super::Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx takes an advisory lock, so concurrent starts apply each
        // migration exactly once.
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        let applied: Vec<(i64, bool)> = if exists {
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await?
        } else {
            Vec::new()
        };
        Ok(compare_migrations(&MIGRATOR, &applied))
    }

    async fn upsert_seed_user(&self, seed: &SeedUser, now: DateTime<Utc>) -> StoreResult<UserId> {
        let mut tx = self.pool.begin().await?;
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
        let row = sqlx::query(select_user_where!("username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(select_user_where!("id = $1"))
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
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

    async fn set_preferences(
        &self,
        id: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET preferences = $1, updated_at = $2 WHERE id = $3")
            .bind(Json(preferences))
            .bind(now)
            .bind(&id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    fn sessions(&self) -> SessionBackend {
        SessionBackend::Postgres(tower_sessions_sqlx_store::PostgresStore::new(
            self.pool.clone(),
        ))
    }
}
