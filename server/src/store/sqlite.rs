//! The embedded SQLite adapter: one file, WAL journal, foreign keys on.

use super::spec_cache::SpecCache;
use super::{
    DEV_SEED_SOURCE, MigrationStatus, SeedUser, SessionBackend, Store, StoreError, StoreResult,
    UserRecord, WorkSignal, compare_migrations, grant_from_row,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::{Preferences, RoleGrant, UserId};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

// Deliberate: one source file, compiled once per database driver.
#[allow(clippy::duplicate_mod)]
#[path = "portable.rs"]
mod portable;

/// What `portable.rs` is compiled against in this adapter.
type Db = sqlx::Sqlite;
type Adapter = SqliteStore;
/// Row locks: none needed, a write transaction locks the whole file.
const FOR_UPDATE: &str = "";
const SKIP_LOCKED: &str = "";

async fn begin_write(pool: &sqlx::Pool<Db>) -> StoreResult<sqlx::Transaction<'static, Db>> {
    // IMMEDIATE takes the write lock up front: a deferred transaction that
    // reads and then writes can fail with SQLITE_BUSY instead of waiting.
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

async fn notify_work(_tx: &mut sqlx::Transaction<'static, Db>) -> StoreResult<()> {
    // One process owns an SQLite file; the in-process signal is enough.
    Ok(())
}

static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    specs: SpecCache,
    signal: WorkSignal,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; only
            // an OS crash can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // `create_if_missing` makes the file, not the folder it lives in.
        let path = options.get_filename();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(sqlx::Error::Configuration(
                    format!("cannot create database folder {}: {e}", dir.display()).into(),
                ))
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            specs: SpecCache::default(),
            signal: WorkSignal::default(),
        })
    }
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<UserRecord> {
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
impl Store for SqliteStore {
    fn work_signal(&self) -> WorkSignal {
        self.signal.clone()
    }

    async fn listen_for_work(&self) -> StoreResult<()> {
        Ok(())
    }

    fn backend(&self) -> super::Backend {
        super::Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await?;
        let applied: Vec<(i64, bool)> = if exists == 0 {
            Vec::new()
        } else {
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await?
        };
        Ok(compare_migrations(&MIGRATOR, &applied))
    }

    async fn upsert_seed_user(&self, seed: &SeedUser, now: DateTime<Utc>) -> StoreResult<UserId> {
        let mut tx = self.pool.begin().await?;
        let id: String = sqlx::query_scalar(
            "INSERT INTO users (id, username, display_name, source, created_at, updated_at)
             VALUES (?, ?, ?, 'dev', ?, ?)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
                                                  updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&seed.username)
        .bind(&seed.display_name)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM role_grants WHERE user_id = ? AND source = ?")
            .bind(&id)
            .bind(DEV_SEED_SOURCE)
            .execute(&mut *tx)
            .await?;
        for (role, env) in &seed.grants {
            sqlx::query(
                "INSERT INTO role_grants (user_id, role, environment, source) VALUES (?, ?, ?, ?)",
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
        let row = sqlx::query(select_user_where!("username = ?"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(select_user_where!("id = ?"))
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn grants_for(&self, id: &UserId) -> StoreResult<Vec<RoleGrant>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT role, environment, source FROM role_grants WHERE user_id = ?
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
        let done = sqlx::query("UPDATE users SET preferences = ?, updated_at = ? WHERE id = ?")
            .bind(Json(preferences))
            .bind(now)
            .bind(&id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    fn sessions(&self) -> SessionBackend {
        SessionBackend::Sqlite(tower_sessions_sqlx_store::SqliteStore::new(
            self.pool.clone(),
        ))
    }
}
