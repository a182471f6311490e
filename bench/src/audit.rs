//! The audit log's appends: the store's hash-chained `append_audit` beside
//! the baseline, plain one-row INSERTs of the same records into the same
//! table, then a verification of the whole chain (a failure fails the
//! benchmark).

use crate::database::Database;
use crate::{BackendArg, CONCURRENCY, POOL_CONNECTIONS};
use anyhow::{Result, bail, ensure};
use chrono::{DateTime, Utc};
use gantry_core::audit::{Actor, AuditAction, AuditEvent, AuditRecord, canonical_json};
use gantry_server::audit::verify::verify_store;
use gantry_server::store::{SharedStore, open_postgres_pool, open_sqlite_pool};
use sqlx::sqlite::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The audit log's append rates and the verification of what they wrote.
pub struct AuditFigures {
    /// Rows per second of plain one-row INSERT transactions, per concurrency.
    pub plain: Vec<f64>,
    /// `append_audit` calls per second, per concurrency.
    pub chained: Vec<f64>,
    /// Records `verify_store` checked (the whole chain: the engine's records too).
    pub verified: u64,
    pub verify: Duration,
    pub time: Duration,
}

/// Chained appends first (so the plain rows, numbered far above the chain,
/// never sit in the indexes ahead of them), then the plain baseline, whose
/// rows are deleted again before the chain is verified.
pub async fn measure(db: &Database, store: &SharedStore, time: Duration) -> Result<AuditFigures> {
    let mut chained = Vec::new();
    let mut appended = 0;
    for c in CONCURRENCY {
        let (n, per_s) = chained_appends(store, c, time).await?;
        appended += n;
        chained.push(per_s);
    }
    let next = Arc::new(AtomicU64::new(PLAIN_SEQ_BASE));
    let mut plain = Vec::new();
    let mut inserted = 0;
    let deleted = match db.backend {
        BackendArg::Sqlite => {
            let pool = open_sqlite_pool(&db.url, POOL_CONNECTIONS).await?;
            for c in CONCURRENCY {
                let (n, per_s) = plain_sqlite(&pool, c, time, &next).await?;
                inserted += n;
                plain.push(per_s);
            }
            let deleted = sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
                .bind(i64::try_from(PLAIN_SEQ_BASE)?)
                .execute(&pool)
                .await?
                .rows_affected();
            pool.close().await;
            deleted
        }
        BackendArg::Postgres => {
            let pool = open_postgres_pool(&db.url, POOL_CONNECTIONS).await?;
            for c in CONCURRENCY {
                let (n, per_s) = plain_postgres(&pool, c, time, &next).await?;
                inserted += n;
                plain.push(per_s);
            }
            let deleted = sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
                .bind(i64::try_from(PLAIN_SEQ_BASE)?)
                .execute(&pool)
                .await?
                .rows_affected();
            pool.close().await;
            deleted
        }
    };
    ensure!(
        deleted == inserted,
        "the audit baseline inserted {inserted} rows but {deleted} were deleted"
    );
    let (verified, verify) = verify_chain(store, appended).await?;
    Ok(AuditFigures {
        plain,
        chained,
        verified,
        verify,
        time,
    })
}

/// The plain rows' first sequence number: far above any chained record,
/// so the two never collide.
const PLAIN_SEQ_BASE: u64 = 1_000_000_000_000;

/// Stand-ins for the plain rows' hashes: as long as real ones (hex
/// SHA-256), but never computed.
const PLAIN_HASH: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The store's own statement (`store/portable/audit.rs`).
const INSERT: &str = "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, \
    action, resource, environment, outcome, request_id, trace_id, source_ip, user_agent, \
    details, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// A `run.trigger` record as the control plane writes one.
fn event(at: DateTime<Utc>) -> AuditEvent {
    let mut event = AuditEvent::new(
        at,
        Actor::system("bench"),
        AuditAction::RunTrigger,
        "workflow/bench",
    );
    event.environment = Some(crate::ENVIRONMENT.into());
    event.request_id = Some(uuid::Uuid::new_v4().to_string());
    event.source_ip = Some("127.0.0.1".into());
    event.user_agent = Some(concat!("gantry-bench/", env!("CARGO_PKG_VERSION")).into());
    event
        .detail("trigger", "api")
        .detail("inputs", vec!["region", "version"])
        .detail("run_id", uuid::Uuid::new_v4().to_string())
}

/// The row a plain insert writes: what `AuditEvent::sequence` makes of
/// the event, with constant hashes instead of the chain's.
fn plain_record(event: AuditEvent, seq: u64) -> AuditRecord {
    AuditRecord {
        seq,
        at: event.at,
        actor: event.actor,
        action: event.action,
        resource: event.resource,
        environment: event.environment,
        outcome: event.outcome,
        request_id: event.request_id,
        trace_id: event.trace_id,
        source_ip: event.source_ip,
        user_agent: event.user_agent,
        details: event.details,
        prev_hash: PLAIN_HASH.to_owned(),
        hash: PLAIN_HASH.to_owned(),
        // A system's record has no personal fields to seal apart.
        format: gantry_core::audit::personal::FORMAT_ERASABLE,
        personal: Default::default(),
        legacy_hash: None,
    }
}

/// Binds a record to [`INSERT`], as the store binds it.
macro_rules! bind_record {
    ($r:expr) => {
        sqlx::query(INSERT)
            .bind(i64::try_from($r.seq)?)
            .bind($r.at)
            .bind($r.actor.kind.as_str())
            .bind(&$r.actor.id)
            .bind(&$r.actor.name)
            .bind(&$r.action)
            .bind(&$r.resource)
            .bind(&$r.environment)
            .bind($r.outcome.as_str())
            .bind(&$r.request_id)
            .bind(&$r.trace_id)
            .bind(&$r.source_ip)
            .bind(&$r.user_agent)
            .bind(canonical_json(&$r.details))
            .bind(&$r.prev_hash)
            .bind(&$r.hash)
    };
}

/// Adds up the loops' counts: (records, records per second).
async fn total(mut loops: JoinSet<Result<u64>>, start: Instant) -> Result<(u64, f64)> {
    let mut n = 0;
    while let Some(done) = loops.join_next().await {
        n += done??;
    }
    Ok((n, n as f64 / start.elapsed().as_secs_f64()))
}

/// `tasks` writers calling `append_audit` for `time`.
async fn chained_appends(store: &SharedStore, tasks: usize, time: Duration) -> Result<(u64, f64)> {
    let start = Instant::now();
    let until = start + time;
    let mut loops = JoinSet::new();
    for _ in 0..tasks {
        let store = store.clone();
        loops.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                store.append_audit(event(Utc::now())).await?;
                n += 1;
            }
            anyhow::Ok(n)
        });
    }
    total(loops, start).await
}

/// `tasks` writers inserting one row per `BEGIN IMMEDIATE` transaction
/// (the store's write transaction) for `time`.
async fn plain_sqlite(
    pool: &SqlitePool,
    tasks: usize,
    time: Duration,
    next: &Arc<AtomicU64>,
) -> Result<(u64, f64)> {
    let start = Instant::now();
    let until = start + time;
    let mut loops = JoinSet::new();
    for _ in 0..tasks {
        let (pool, next) = (pool.clone(), next.clone());
        loops.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let record = plain_record(event(Utc::now()), next.fetch_add(1, Ordering::Relaxed));
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                bind_record!(record).execute(&mut *tx).await?;
                tx.commit().await?;
                n += 1;
            }
            anyhow::Ok(n)
        });
    }
    total(loops, start).await
}

/// As [`plain_sqlite`], one row per ordinary transaction.
async fn plain_postgres(
    pool: &sqlx::PgPool,
    tasks: usize,
    time: Duration,
    next: &Arc<AtomicU64>,
) -> Result<(u64, f64)> {
    let start = Instant::now();
    let until = start + time;
    let mut loops = JoinSet::new();
    for _ in 0..tasks {
        let (pool, next) = (pool.clone(), next.clone());
        loops.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let record = plain_record(event(Utc::now()), next.fetch_add(1, Ordering::Relaxed));
                let mut tx = pool.begin().await?;
                bind_record!(record).execute(&mut *tx).await?;
                tx.commit().await?;
                n += 1;
            }
            anyhow::Ok(n)
        });
    }
    total(loops, start).await
}

/// Verifies the database's whole chain, which must hold at least the
/// `appended` records: (records checked, time taken).
async fn verify_chain(store: &SharedStore, appended: u64) -> Result<(u64, Duration)> {
    let start = Instant::now();
    let status = verify_store(store.as_ref(), None, Utc::now()).await?;
    let took = start.elapsed();
    if let Some(problem) = status.problem {
        bail!("the audit chain the benchmark wrote does not verify: {problem}");
    }
    ensure!(
        status.records >= appended,
        "verify_store checked {} audit records, but the benchmark appended {appended}",
        status.records
    );
    Ok((status.records, took))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_audit_rows_are_the_size_of_chained_ones() {
        let at = "2026-11-23T09:00:00.123456Z".parse().unwrap();
        let event = event(at);
        let chained = event
            .clone()
            .sequence(7, gantry_core::audit::GENESIS_HASH, &mut || [7; 16]);
        let plain = plain_record(event, 7);
        assert_eq!(plain.hash.len(), chained.hash.len());
        assert_eq!(plain.prev_hash.len(), chained.prev_hash.len());
        assert_eq!(
            serde_json::to_string(&plain).unwrap().len(),
            serde_json::to_string(&chained).unwrap().len()
        );
        assert_ne!(plain.hash, chained.hash);
        // The realistic fields are there.
        assert_eq!(chained.action, "run.trigger");
        assert!(chained.request_id.is_some() && chained.source_ip.is_some());
        assert_eq!(chained.details["inputs"], json!(["region", "version"]));
    }
}
