//! The raw baselines: the bare reads a pass or a backtest must at least
//! make, as plain SQL decoded into tuples, with no rule, state machine or
//! commit around them. Each figure of the section is printed beside one.

use super::sql::{RawPool, with_pool};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Rows of the inbox as the evaluator reads them (run id, workflow,
/// environment, status, finished).
type InboxRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// A pass's least reads: the inbox joined with its runs, every alert
/// instance with its state, the active versions, and a COUNT over runs.
/// Returns the time and the inbox's distinct workflow × environment pairs.
async fn pass_reads(pool: &RawPool) -> Result<(Duration, BTreeSet<(String, String)>)> {
    let started = Instant::now();
    let inbox: Vec<InboxRow> = with_pool!(pool, p => {
        let inbox: Vec<InboxRow> = sqlx::query_as(
            "SELECT i.run_id, r.workflow_name, r.environment, r.status, r.finished_at
             FROM alert_run_inbox i LEFT JOIN runs r ON r.id = i.run_id
             ORDER BY r.finished_at, i.run_id LIMIT 500",
        )
        .fetch_all(p)
        .await?;
        let _: Vec<(String, String)> =
            sqlx::query_as("SELECT fingerprint, state FROM alert_instances")
                .fetch_all(p)
                .await?;
        let _: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT w.name, we.workflow_id, we.environment, CAST(we.version AS BIGINT)
             FROM workflow_environments we JOIN workflows w ON w.id = we.workflow_id",
        )
        .fetch_all(p)
        .await?;
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
            .fetch_one(p)
            .await?;
        inbox
    });
    let pairs = inbox
        .into_iter()
        .filter_map(|(_, w, e, _, _)| Some((w?, e?)))
        .collect();
    Ok((started.elapsed(), pairs))
}

/// The steady-state baseline: [`pass_reads`] over an empty inbox.
pub async fn steady(pool: &RawPool) -> Result<Duration> {
    Ok(pass_reads(pool).await?.0)
}

/// The batch baseline: [`pass_reads`] over the full inbox, then each of
/// its workflow × environment pairs' last 10 finished runs (one indexed
/// read per pair, the least a run-based rule needs).
pub async fn batch(pool: &RawPool) -> Result<Duration> {
    let started = Instant::now();
    let (_, pairs) = pass_reads(pool).await?;
    with_pool!(pool, p => {
        for (workflow, environment) in &pairs {
            let _: Vec<(DateTime<Utc>, String)> = sqlx::query_as(
                "SELECT finished_at, status FROM runs
                 WHERE workflow_name = $1 AND environment = $2 AND finished_at IS NOT NULL
                 ORDER BY finished_at DESC LIMIT 10",
            )
            .bind(workflow)
            .bind(environment)
            .fetch_all(p)
            .await?;
        }
    });
    Ok(started.elapsed())
}

/// The backtest baseline: one SELECT of every run finished since `since`,
/// ordered by workflow, environment and time (all a backtest of every
/// workflow replays). Returns the time and the rows read.
pub async fn backtest(pool: &RawPool, since: DateTime<Utc>) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let rows = with_pool!(pool, p => {
        let rows: Vec<(String, String, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT workflow_name, environment, finished_at, status FROM runs
             WHERE finished_at > $1 AND status IN ('succeeded', 'failed', 'timed_out')
             ORDER BY workflow_name, environment, finished_at",
        )
        .bind(since)
        .fetch_all(p)
        .await?;
        rows.len()
    });
    Ok((started.elapsed(), rows))
}
