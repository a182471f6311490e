//! The raw baseline: a scratch queue table and the bare transaction(s) a
//! queue needs per job, with nothing else around them, over pools the
//! store's own `open_sqlite_pool` / `open_postgres_pool` open, so raw SQL
//! and the engine talk to identically configured connections.

use crate::database::Database;
use crate::{BackendArg, CONCURRENCY};
use anyhow::{Context, Result};
use gantry_server::store;
use sqlx::Connection;
use sqlx::sqlite::SqlitePool;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The database measured and the baseline's jobs per second.
pub struct RawFigures {
    /// Which database and version, e.g. "SQLite 3.46.1".
    pub database: String,
    /// The connection or server settings that shape commit costs.
    pub settings: String,
    /// Jobs per second of the bare queue transaction(s), per concurrency.
    pub one_tx: Vec<f64>,
    pub two_tx: Vec<f64>,
}

/// Both baselines at each concurrency, for `time` each, on the (still
/// empty) database; the scratch table is dropped again.
pub async fn measure(db: &Database, time: Duration) -> Result<RawFigures> {
    let connections = u32::try_from(CONCURRENCY[1])? + 1;
    let mut one_tx = Vec::new();
    let mut two_tx = Vec::new();
    match db.backend {
        BackendArg::Sqlite => {
            let pool = store::open_sqlite_pool(&db.url, connections).await?;
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&pool)
                .await?;
            let settings = sqlite_settings(&pool).await?;
            for c in CONCURRENCY {
                one_tx.push(sqlite(&pool, c, time, false).await?);
                two_tx.push(sqlite(&pool, c, time, true).await?);
            }
            sqlite_drop(&pool).await?;
            pool.close().await;
            Ok(RawFigures {
                database: format!("SQLite {version}"),
                settings,
                one_tx,
                two_tx,
            })
        }
        BackendArg::Postgres => {
            let pool = store::open_postgres_pool(&db.url, connections).await?;
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&pool)
                .await?;
            let mut show = Vec::new();
            for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
                let v: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                    .fetch_one(&pool)
                    .await?;
                show.push(format!("{setting}={v}"));
            }
            for c in CONCURRENCY {
                one_tx.push(postgres(&pool, c, time, false).await?);
                two_tx.push(postgres(&pool, c, time, true).await?);
            }
            sqlx::raw_sql("DROP TABLE IF EXISTS bench_jobs")
                .execute(&pool)
                .await?;
            pool.close().await;
            Ok(RawFigures {
                database: format!("PostgreSQL {version}"),
                settings: show.join(", "),
                one_tx,
                two_tx,
            })
        }
    }
}

/// The settings the store's pool gave its connections, read back from
/// SQLite ("WAL, synchronous=NORMAL, busy_timeout 5 s"), so the report
/// says what was measured rather than what a copy claims.
async fn sqlite_settings(pool: &SqlitePool) -> Result<String> {
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await?;
    let busy_ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await?;
    Ok(format!(
        "{}, synchronous={}, busy_timeout {}",
        journal.to_uppercase(),
        synchronous_name(synchronous),
        if busy_ms % 1000 == 0 {
            format!("{} s", busy_ms / 1000)
        } else {
            format!("{busy_ms} ms")
        }
    ))
}

/// `PRAGMA synchronous`'s number as its name.
fn synchronous_name(level: i64) -> String {
    match level {
        0 => "OFF".into(),
        1 => "NORMAL".into(),
        2 => "FULL".into(),
        3 => "EXTRA".into(),
        other => other.to_string(),
    }
}

/// Enough queued rows that no loop runs dry (it stops early if one does).
const ROWS: i64 = 200_000;

async fn sqlite_drop(pool: &SqlitePool) -> Result<()> {
    sqlx::raw_sql("DROP TABLE IF EXISTS bench_jobs")
        .execute(pool)
        .await?;
    Ok(())
}

// DDL goes through `raw_sql` (never prepared, so never cached): a cached
// `DROP TABLE IF EXISTS` compiled while the table was absent stays a no-op.
async fn sqlite_fill(pool: &SqlitePool) -> Result<()> {
    sqlx::raw_sql(&format!(
        "DROP TABLE IF EXISTS bench_jobs;
         CREATE TABLE bench_jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
         INSERT INTO bench_jobs (id, state) SELECT i, 'queued' FROM n;
         CREATE INDEX bench_jobs_queued ON bench_jobs (id) WHERE state = 'queued';"
    ))
    .execute(pool)
    .await
    .context("creating the scratch queue")?;
    Ok(())
}

/// Jobs per second with `tasks` concurrent loops, each claiming the
/// oldest queued row and marking it done; in one transaction, or
/// (`split`) a committed claim and then a committed completion.
async fn sqlite(pool: &SqlitePool, tasks: usize, time: Duration, split: bool) -> Result<f64> {
    sqlite_fill(pool).await?;
    const CLAIM: &str = "UPDATE bench_jobs SET state = 'running'
         WHERE id = (SELECT id FROM bench_jobs WHERE state = 'queued' ORDER BY id LIMIT 1)
         RETURNING id";
    const DONE: &str = "UPDATE bench_jobs SET state = 'done' WHERE id = $1";
    let start = Instant::now();
    let until = start + time;
    let mut loops = JoinSet::new();
    for _ in 0..tasks {
        let pool = pool.clone();
        loops.spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut jobs = 0u64;
            while Instant::now() < until {
                // IMMEDIATE, as the store's write transactions.
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                let Some(id) = sqlx::query_scalar::<_, i64>(CLAIM)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    break;
                };
                if split {
                    tx.commit().await?;
                    tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                }
                sqlx::query(DONE).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                jobs += 1;
            }
            anyhow::Ok(jobs)
        });
    }
    let mut jobs = 0;
    while let Some(n) = loops.join_next().await {
        jobs += n??;
    }
    Ok(jobs as f64 / start.elapsed().as_secs_f64())
}

async fn postgres_fill(pool: &sqlx::PgPool) -> Result<()> {
    // The partial index keeps the claim from walking past claimed rows
    // (/work/shared/BASELINES.md: 3× faster than a (state, id) index).
    sqlx::raw_sql(&format!(
        "DROP TABLE IF EXISTS bench_jobs;
         CREATE TABLE bench_jobs (id BIGINT PRIMARY KEY, state TEXT NOT NULL);
         INSERT INTO bench_jobs (id, state) SELECT i, 'queued' FROM generate_series(1, {ROWS}) i;
         CREATE INDEX bench_jobs_queued ON bench_jobs (id) WHERE state = 'queued';
         ANALYZE bench_jobs;"
    ))
    .execute(pool)
    .await
    .context("creating the scratch queue")?;
    Ok(())
}

/// As [`sqlite`], with `FOR UPDATE SKIP LOCKED` so loops never wait on
/// each other's rows.
async fn postgres(pool: &sqlx::PgPool, tasks: usize, time: Duration, split: bool) -> Result<f64> {
    postgres_fill(pool).await?;
    const CLAIM: &str = "UPDATE bench_jobs SET state = 'running'
         WHERE id = (SELECT id FROM bench_jobs WHERE state = 'queued' ORDER BY id
                     LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id";
    const DONE: &str = "UPDATE bench_jobs SET state = 'done' WHERE id = $1";
    let start = Instant::now();
    let until = start + time;
    let mut loops = JoinSet::new();
    for _ in 0..tasks {
        let pool = pool.clone();
        loops.spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut jobs = 0u64;
            while Instant::now() < until {
                let mut tx = conn.begin().await?;
                let Some(id) = sqlx::query_scalar::<_, i64>(CLAIM)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    break;
                };
                if split {
                    tx.commit().await?;
                    tx = conn.begin().await?;
                }
                sqlx::query(DONE).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                jobs += 1;
            }
            anyhow::Ok(jobs)
        });
    }
    let mut jobs = 0;
    while let Some(n) = loops.join_next().await {
        jobs += n??;
    }
    Ok(jobs as f64 / start.elapsed().as_secs_f64())
}
