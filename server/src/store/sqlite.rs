//! The embedded SQLite adapter (one file, WAL journal, foreign keys on),
//! and everything that differs on SQLite: the driver and its connection,
//! no row locks (a write transaction takes the whole file, so it begins
//! `IMMEDIATE`), a wake-up within the process only (one process owns the
//! file), and its migrations. The SQL itself is `portable/`'s.

use super::spec_cache::SpecCache;
use super::sqlite_checkpoint::{Checkpointer, FALLBACK_PAGES, WAL_LIMIT_BYTES};
use super::write_turn::{WriteTx, Writer};
use super::{
    MigrationStatus, SessionBackend, Store, StoreError, StoreResult, WorkSignal, compare_migrations,
};
use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

// Deliberate: one source folder, compiled once per database driver.
#[allow(clippy::duplicate_mod)]
#[path = "portable/mod.rs"]
mod portable;

pub(super) use portable::sessions::SessionTable;

/// What `portable/` is compiled against in this adapter.
type Db = sqlx::Sqlite;
type Adapter = SqliteStore;
/// Row locks: none needed, a write transaction locks the whole file.
const FOR_UPDATE: &str = "";
const SKIP_LOCKED: &str = "";
/// A row read that an update must wait for (none needed on SQLite).
const FOR_SHARE: &str = "";
/// A finished run's time from start to end in microseconds, counted in
/// whole milliseconds: SQLite's date functions read a timestamp to the
/// millisecond (`portable/slo.rs` compares it with a duration objective).
const RAN_MICROS: &str = "(CAST(ROUND((julianday(finished_at) - julianday(started_at)) * 86400000.0) AS INTEGER) * 1000)";
/// The UTC clock hour a run finished in, as `YYYY-MM-DDTHH`.
const FINISHED_HOUR: &str = "strftime('%Y-%m-%dT%H', finished_at)";
/// A finishing attempt's transaction leases its worker the next ready step
/// (`Handoff::claim`): writes take turns here, so the claim it saves is a
/// whole turn (no-op HTTP steps, 1 slot: 812–883 → 1,097–1,251 a second).
/// The database's size on disk, bytes (retention's status).
const DATABASE_BYTES: &str =
    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
const HANDS_OFF: bool = true;
/// The runs needing attention counted from their own partial index: left
/// to choose, SQLite takes `runs_status_id` and reads every failed run's
/// row (120 ms with 1,000,000 runs, against 4 ms).
const ATTENTION_INDEX: &str = " INDEXED BY runs_attention_environment";

async fn begin_write(w: &Writer<Db>) -> StoreResult<WriteTx<Db>> {
    // In the store's turn (`write_turn.rs`). IMMEDIATE takes the write
    // lock up front: a deferred transaction that reads and then writes can
    // fail with SQLITE_BUSY instead of waiting.
    Ok(w.begin_with("BEGIN IMMEDIATE").await?)
}

async fn notify_work(_tx: &mut WriteTx<Db>, _signal: &WorkSignal) -> StoreResult<()> {
    // One process owns an SQLite file; the in-process signal is enough.
    Ok(())
}

static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// Writes, taking turns (`write_turn.rs`).
    writes: Writer<Db>,
    specs: SpecCache,
    signal: WorkSignal,
    /// Audit records appended on their own, committed in groups.
    audit_batch: std::sync::Arc<super::audit_batch::AuditBatch>,
    /// WAL checkpoints, off the write path; they stop with the store.
    _checkpoints: Checkpointer,
}

/// The store's connection settings for the database at `url`, whose
/// folder this creates.
pub(super) fn connect_options(url: &str) -> StoreResult<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only
        // an OS crash can lose the last commits.
        .synchronous(SqliteSynchronous::Normal)
        // The store's own task checkpoints (`sqlite_checkpoint.rs`).
        .pragma("wal_autocheckpoint", FALLBACK_PAGES.to_string())
        .pragma("journal_size_limit", WAL_LIMIT_BYTES.to_string())
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
    Ok(options)
}

/// Opens a pool with the store's connection settings. The store opens its
/// own with it, and so do the benchmark's raw baselines, so that they
/// measure identically configured connections.
pub async fn open_sqlite_pool(url: &str, max_connections: u32) -> StoreResult<SqlitePool> {
    pool_with(connect_options(url)?, max_connections).await
}

async fn pool_with(options: SqliteConnectOptions, max_connections: u32) -> StoreResult<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(max_connections)
        .before_acquire(|conn, _| Box::pin(async move { Ok(no_transaction_left(conn)) }))
        .connect_with(options)
        .await?)
}

/// Whether a pooled connection may be handed out: not when sqlx still
/// counts a transaction open on it. SQLite rolls a transaction back by
/// itself on some errors (a full disk, an I/O error); sqlx's own rollback
/// then fails and its count stays at one, so every later `BEGIN` on that
/// connection would fail ("begin_with at non-zero transaction depth": the
/// disk-full drill saw 500s after space was freed). Such a connection is
/// closed instead; the pool opens a fresh one.
fn no_transaction_left(conn: &sqlx::SqliteConnection) -> bool {
    use sqlx::TransactionManager;
    let depth = <sqlx::Sqlite as sqlx::Database>::TransactionManager::get_transaction_depth(conn);
    if depth > 0 {
        tracing::warn!(
            depth,
            "closing a database connection left inside a transaction"
        );
    }
    depth == 0
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = connect_options(url)?;
        let pool = pool_with(options.clone(), max_connections).await?;
        Ok(Self {
            writes: Writer::taking_turns(pool.clone()),
            pool,
            _checkpoints: Checkpointer::spawn(options),
            specs: SpecCache::default(),
            signal: WorkSignal::default(),
            audit_batch: std::sync::Arc::default(),
        })
    }
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

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
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

    fn sessions(&self) -> SessionBackend {
        SessionBackend::Sqlite(SessionTable::new(self.pool.clone(), self.writes.clone()))
    }

    /// `VACUUM INTO` reads in one transaction, so the copy is the database
    /// at one moment, while writers go on (WAL).
    async fn backup_into(&self, path: &std::path::Path) -> StoreResult<()> {
        let target = path.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("the path {} is not UTF-8", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "sqlite_plan_tests.rs"]
mod plan_tests;

#[cfg(test)]
mod pool_tests {
    use super::open_sqlite_pool;

    /// SQLite ends a transaction by itself on some errors (a full disk, an
    /// I/O error), behind sqlx's back; here a `ROLLBACK` sent as a plain
    /// statement does the same. The next writer still gets a working
    /// connection.
    #[tokio::test]
    async fn a_transaction_sqlite_rolled_back_itself_leaves_no_broken_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = open_sqlite_pool(&url, 1).await.unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        for round in 0..3 {
            // As the store's writes begin.
            let mut tx = pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            sqlx::query("INSERT INTO t VALUES (x'01')")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
            // Commit fails (nothing to commit), and so does sqlx's rollback.
            assert!(tx.commit().await.is_err());
        }
        sqlx::query("INSERT INTO t VALUES (x'00')")
            .execute(&pool)
            .await
            .unwrap();
    }
}
