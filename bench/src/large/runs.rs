//! Reads on a database holding a million runs: the runs list, filtered
//! and paged, a run's detail and the two dashboard pages that show them,
//! first with a small history and then with `--large-runs` (1,000,000)
//! runs in the same database. The history is bulk-inserted in batches
//! beside the store (how runs got there is not what is measured);
//! PostgreSQL's tables are vacuumed and analyzed after each insert, as
//! autovacuum would. The API is read with a viewer token, the pages with
//! a dev session. The goal: every p99 on the large database within twice
//! the small database's.

use super::{Auth, Client, Goal, LargeFigures, Request, Row};
use crate::alerts::sql::{RawPool, SeedRun};
use crate::database::Database;
use crate::harness::Engine;
use crate::served::Served;
use crate::{Args, ENVIRONMENT};
use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, Utc};
use gantry_server::store::alert_facts::ActiveVersion;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Workflows the history is spread over.
const WORKFLOWS: usize = 100;
/// The small database's history.
const SMALL: usize = 1_000;
/// Runs generated and inserted per batch (bounds the memory seeding uses).
const BATCH: usize = 50_000;
/// How far back the history goes.
const HISTORY_DAYS: i64 = 90;
/// What the dashboard or a CI script asks for: label, path and query
/// (`{run}` is a run in the middle of the history), and whether it is a
/// page (read with the session) or the API (with the token).
const KINDS: [(&str, &str, Auth); 11] = [
    ("API runs list, newest 50", "/api/v1/runs", Auth::Bearer),
    (
        "API runs list, one workflow",
        "/api/v1/runs?workflow=large-007",
        Auth::Bearer,
    ),
    (
        "API runs list, failed only",
        "/api/v1/runs?status=failed",
        Auth::Bearer,
    ),
    (
        "API runs list, needing attention",
        "/api/v1/runs?attention=true",
        Auth::Bearer,
    ),
    (
        "API runs list, a page from the middle",
        "/api/v1/runs?before={run}",
        Auth::Bearer,
    ),
    ("API run detail", "/api/v1/runs/{run}", Auth::Bearer),
    ("Runs page (HTML)", "/runs", Auth::Cookie),
    ("run page (HTML)", "/runs/{run}", Auth::Cookie),
    (
        "API workflows list (with each one's last run)",
        "/api/v1/workflows",
        Auth::Bearer,
    ),
    ("Workflows page (HTML)", "/workflows", Auth::Cookie),
    ("Overview page (HTML)", "/", Auth::Cookie),
];

/// The kinds with `{run}` filled in.
fn requests(run: &str) -> Vec<Request> {
    KINDS
        .iter()
        .map(|(label, path, auth)| Request {
            label,
            path: path.replace("{run}", run),
            auth: *auth,
        })
        .collect()
}

/// The section on `db` (see the module comment).
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<LargeFigures> {
    ensure!(
        args.large_runs > SMALL,
        "--large-runs must be more than {SMALL}"
    );
    let served = Served::start(
        &db.url,
        dir,
        ENVIRONMENT,
        &["--dev", "--no-demo", "--rate-limit", "read=off"],
    )
    .await?;
    let engine = served.engine(dir)?;
    let active = workflows(&engine, &served).await?;
    let token = engine.role_token("bench-large", "viewer").await?;
    let client = Client::signed_in(&served.url, token, Some("viewer")).await?;
    let pool = RawPool::open(db).await?;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(20);

    let small_ids = seed(&pool, &active, SMALL, now, &mut rng).await?;
    let small = client
        .sample_all(&requests(&middle(&small_ids)), args.large_samples)
        .await?;

    let started = Instant::now();
    let mut large_ids = small_ids;
    while large_ids.len() < args.large_runs {
        let n = BATCH.min(args.large_runs - large_ids.len());
        large_ids.extend(seed(&pool, &active, n, now, &mut rng).await?);
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let large = client
        .sample_all(&requests(&middle(&large_ids)), args.large_samples)
        .await?;
    pool.close().await;
    served.stop().await;

    let rows = KINDS
        .iter()
        .zip(small.into_iter().zip(large))
        .map(|((label, _, _), (small, large))| Row {
            label: (*label).to_owned(),
            small,
            large,
        })
        .collect();
    Ok(LargeFigures {
        title: "Reads on a large database",
        database: db.version().await?,
        unit: "runs",
        small: SMALL,
        large: large_ids.len(),
        samples: args.large_samples,
        seed_seconds,
        reader: "API: a viewer token; pages: a dev session",
        goal: Goal::WithinRatio(2.0),
        rows,
    })
}

/// Applies the workflows through the port; their active versions.
pub(crate) async fn workflows(engine: &Engine, served: &Served) -> Result<Vec<ActiveVersion>> {
    for i in 0..WORKFLOWS {
        engine
            .apply(json!({ "name": format!("large-{i:03}"), "steps": [{ "id": "go", "run": "true" }] }))
            .await?;
    }
    let active: Vec<ActiveVersion> = served
        .store
        .active_versions()
        .await?
        .into_iter()
        .filter(|a| a.environment == ENVIRONMENT && a.workflow.starts_with("large-"))
        .collect();
    ensure!(
        active.len() == WORKFLOWS,
        "{} workflows are active",
        active.len()
    );
    Ok(active)
}

/// `n` finished runs at random over the history (one in 20 failed, one in
/// 1,000 cancelled), inserted in one transaction; their ids.
pub(crate) async fn seed(
    pool: &RawPool,
    active: &[ActiveVersion],
    n: usize,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<Vec<String>> {
    let span_ms = HISTORY_DAYS * 24 * 3600 * 1000;
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n {
        let workflow = &active[rng.random_range(0..active.len())];
        let finished = now - Duration::milliseconds(rng.random_range(60_000..span_ms));
        let started = finished - Duration::milliseconds(rng.random_range(1_000..600_000));
        let created = started - Duration::milliseconds(rng.random_range(1..1_000));
        let status = match rng.random_range(0..1_000) {
            0 => "cancelled",
            1..50 => "failed",
            _ => "succeeded",
        };
        runs.push(SeedRun {
            id: run_id(created, rng)?,
            workflow_id: workflow.workflow_id.clone(),
            workflow: workflow.workflow.clone(),
            version: i32::try_from(workflow.version)?,
            status,
            step_status: status,
            scheduled_for: None,
            created_at: created,
            started_at: started,
            finished_at: Some(finished),
        });
    }
    pool.insert_runs(&runs).await?;
    pool.vacuum_analyze().await?;
    Ok(runs.into_iter().map(|r| r.id).collect())
}

/// A time-ordered id like the engine's (UUIDv7 of the creation time).
fn run_id(created: DateTime<Utc>, rng: &mut StdRng) -> Result<String> {
    let micros = u64::try_from(created.timestamp_micros()).context("a run before 1970")?;
    let bytes: [u8; 10] = rng.random();
    let mut id = uuid::Builder::from_unix_timestamp_millis(micros / 1_000, &bytes);
    id.set_variant(uuid::Variant::RFC4122);
    Ok(id.into_uuid().to_string())
}

/// The run in the middle of the history by id (time) order.
fn middle(ids: &[String]) -> String {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted[sorted.len() / 2].clone()
}
