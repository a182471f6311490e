//! The PostgreSQL adapter, for several Gantry processes sharing one
//! database, and everything that differs on PostgreSQL: the driver and its
//! connection, real row locks (`FOR UPDATE`, and `SKIP LOCKED` for claims),
//! the wake-up across processes (`NOTIFY` in the writing transaction,
//! `LISTEN` in every process), and its migrations. The SQL itself is
//! `portable/`'s.

use super::spec_cache::SpecCache;
use super::write_turn::{WriteTx, Writer};
use super::{MigrationStatus, SessionBackend, Store, StoreResult, WorkSignal, compare_migrations};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

// Deliberate: one source folder, compiled once per database driver.
#[allow(clippy::duplicate_mod)]
#[path = "portable/mod.rs"]
mod portable;

pub(super) use portable::sessions::SessionTable;

/// What `portable/` is compiled against in this adapter.
type Db = sqlx::Postgres;
type Adapter = PgStore;
/// Row locks: real ones, several processes share the database. `NO KEY`:
/// no key is ever updated, and a plain `FOR UPDATE` would also block the
/// key-share lock a foreign key check takes. A run's insert checks its
/// workflow's and canary's rows, so a trigger holding its lane's row then
/// waited for a promotion holding the workflow's row, which waited for the
/// lane's: a deadlock, and the trigger answered 500.
const FOR_UPDATE: &str = " FOR NO KEY UPDATE";
const SKIP_LOCKED: &str = " FOR NO KEY UPDATE SKIP LOCKED";
/// A row read that an update of the row waits for.
const FOR_SHARE: &str = " FOR SHARE";
/// A finished run's time from start to end in microseconds, PostgreSQL's
/// timestamp precision (`portable/slo.rs` compares it with a duration
/// objective).
const RAN_MICROS: &str = "(EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000000)";
/// The UTC clock hour a run finished in, as `YYYY-MM-DDTHH`.
const FINISHED_HOUR: &str = "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')";
/// No claims inside a finishing attempt's transaction: it holds the run's
/// row lock, and with 4 slots finishing steps of one run a longer hold
/// serialized them (measured: no-op shell steps 335–372 → 243–292 a
/// second, HTTP 949–952 → 744–869). Claims run in their own transactions,
/// with `SKIP LOCKED`.
/// The database's size on disk, bytes (retention's status).
const DATABASE_BYTES: &str = "SELECT pg_database_size(current_database())";
const HANDS_OFF: bool = false;
/// PostgreSQL picks the runs-needing-attention index by itself.
const ATTENTION_INDEX: &str = "";

async fn begin_write(w: &Writer<Db>) -> StoreResult<WriteTx<Db>> {
    // Writers wait for the rows they lock, not for a turn.
    Ok(w.begin().await?)
}

/// Delivered to every listening process when the transaction commits;
/// the writer's own signal wakes its own workers (after the commit), so
/// its listener skips what it sent.
async fn notify_work(tx: &mut WriteTx<Db>, signal: &WorkSignal) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify('gantry_work', $1)")
        .bind(signal.tag())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    /// Writes, at once (`write_turn.rs`: PostgreSQL locks rows).
    writes: Writer<Db>,
    specs: SpecCache,
    signal: WorkSignal,
    /// Audit records appended on their own, committed in groups.
    audit_batch: std::sync::Arc<super::audit_batch::AuditBatch>,
}

/// Opens a pool with the store's connection settings. The store opens its
/// own with it, and so do the benchmark's raw baselines, so that they
/// measure identically configured connections.
pub async fn open_postgres_pool(url: &str, max_connections: u32) -> StoreResult<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await?)
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = open_postgres_pool(url, max_connections).await?;
        Ok(Self {
            writes: Writer::concurrent(pool.clone()),
            pool,
            specs: SpecCache::default(),
            signal: WorkSignal::default(),
            audit_batch: std::sync::Arc::default(),
        })
    }
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
                    Ok(Some(n)) if n.payload() == signal.tag() => {}
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

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
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

    fn sessions(&self) -> SessionBackend {
        SessionBackend::Postgres(SessionTable::new(self.pool.clone(), self.writes.clone()))
    }

    async fn backup_into(&self, _path: &std::path::Path) -> StoreResult<()> {
        Err(super::StoreError::Unsupported(
            "a PostgreSQL database is backed up with PostgreSQL's own tools: `pg_dump -Fc` for a \
             copy, WAL archiving for point-in-time recovery (docs/ops/backup.md)",
        ))
    }
}
