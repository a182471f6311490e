//! Plain SQL beside the store, over a pool the store's own
//! `open_sqlite_pool` / `open_postgres_pool` opens: seeding run history in
//! batches (what is measured is the evaluator, not how runs got there) and
//! the bare reads the raw baselines time.

use crate::database::Database;
use crate::{BackendArg, POOL_CONNECTIONS};
use anyhow::Result;
use chrono::{DateTime, Utc};
use gantry_server::store::{open_postgres_pool, open_sqlite_pool};
use sqlx::QueryBuilder;
use sqlx::types::Json;

/// A pool of either database; [`with_pool!`] runs the same code on each.
pub enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// `$body` with `$p` bound to the concrete pool, compiled once per
/// database (sqlx's types differ, the SQL doesn't).
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            RawPool::Sqlite($p) => $body,
            RawPool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Rows per INSERT statement: 15 binds each stays under SQLite's 32,766.
const CHUNK: usize = 1_000;

/// A run as the engine leaves it (`store/portable/runs.rs` inserts it
/// queued; the queue marks it running and finished).
pub struct SeedRun {
    pub id: String,
    pub workflow_id: String,
    pub workflow: String,
    pub version: i32,
    /// `succeeded`, `failed` or `running`.
    pub status: &'static str,
    /// The run's one step's status.
    pub step_status: &'static str,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RawPool {
    pub async fn open(db: &Database) -> Result<Self> {
        Ok(match db.backend {
            BackendArg::Sqlite => Self::Sqlite(open_sqlite_pool(&db.url, POOL_CONNECTIONS).await?),
            BackendArg::Postgres => {
                Self::Postgres(open_postgres_pool(&db.url, POOL_CONNECTIONS).await?)
            }
        })
    }

    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// "SQLite 3.46.0", "PostgreSQL 15.18 (…)".
    pub async fn version(&self) -> Result<String> {
        Ok(match self {
            RawPool::Sqlite(p) => {
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(p)
                    .await?;
                format!("SQLite {v}")
            }
            RawPool::Postgres(p) => {
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(p)
                    .await?;
                format!("PostgreSQL {v}")
            }
        })
    }

    /// Runs (with their one step) in one transaction, in batches.
    pub async fn insert_runs(&self, runs: &[SeedRun]) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in runs.chunks(CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO runs (id, workflow_id, workflow_name, version, environment, status, \
                     trigger_kind, triggered_by, triggered_by_id, inputs, scheduled_for, created_at, \
                     started_at, finished_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    let (kind, by) = match r.scheduled_for {
                        Some(_) => ("schedule", "scheduler"),
                        None => ("api", "gantry-bench"),
                    };
                    b.push_bind(&r.id)
                        .push_bind(&r.workflow_id)
                        .push_bind(&r.workflow)
                        .push_bind(r.version)
                        .push_bind(crate::ENVIRONMENT)
                        .push_bind(r.status)
                        .push_bind(kind)
                        .push_bind(by)
                        .push_bind(by)
                        .push_bind(Json(serde_json::json!({})))
                        .push_bind(r.scheduled_for)
                        .push_bind(r.created_at)
                        .push_bind(r.started_at)
                        .push_bind(r.finished_at);
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::new(
                    "INSERT INTO run_steps (run_id, step_id, position, status, attempt, \
                     started_at, finished_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.id)
                        .push_bind("go")
                        .push_bind(0i32)
                        .push_bind(r.step_status)
                        .push_bind(1i32)
                        .push_bind(r.started_at)
                        .push_bind(r.finished_at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Finishes running runs as the queue does (`UPDATE runs SET status,
    /// finished_at`), so the database's trigger puts them in the alert
    /// inbox: `(id, status)` pairs, all finished at `at`.
    pub async fn finish_runs(
        &self,
        runs: &[(String, &'static str)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for status in ["succeeded", "failed"] {
                let ids: Vec<&String> = runs.iter().filter(|r| r.1 == status).map(|r| &r.0).collect();
                for chunk in ids.chunks(CHUNK) {
                    let mut q = QueryBuilder::new("UPDATE runs SET status = ");
                    q.push_bind(status).push(", finished_at = ").push_bind(at);
                    q.push(" WHERE status = 'running' AND id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// PostgreSQL: what autovacuum does after a bulk insert (since version
    /// 13 it vacuums insert-only tables too): statistics for the planner
    /// and the visibility map that lets index-only scans skip the rows.
    pub async fn vacuum_analyze(&self) -> Result<()> {
        if let RawPool::Postgres(p) = self {
            sqlx::query("VACUUM ANALYZE runs").execute(p).await?;
            sqlx::query("VACUUM ANALYZE run_steps").execute(p).await?;
        }
        Ok(())
    }

    /// PostgreSQL: refreshes the planner's statistics after the bulk
    /// insert, as autovacuum would within a minute of it. (SQLite keeps
    /// none unless told to, and Gantry doesn't, so it is left as it runs.)
    pub async fn analyze(&self) -> Result<()> {
        if let RawPool::Postgres(p) = self {
            sqlx::query("ANALYZE").execute(p).await?;
        }
        Ok(())
    }
}
