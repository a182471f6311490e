//! The in-process engine's figures: steps per second draining a queue of
//! no-op shell and HTTP steps, trigger latency on an idle worker, and the
//! wall times of sequential workflows, alone and several at once.

use crate::alerts::sql::RawPool;
use crate::database::Database;
use crate::harness::{Engine, RUN_TIMEOUT};
use crate::large::runs::seed;
use crate::stats::{Percentiles, mean, median, ms_between};
use crate::workload::{chain_spec, fanout_spec, noop_http_server, shell_step};
use crate::{Args, CONCURRENCY, ENVIRONMENT};
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Engine steps per second, per concurrency.
pub struct Throughput {
    pub shell: Vec<f64>,
    pub http: Vec<f64>,
}

/// Finished runs of the single-step workflow put in its history before
/// its latency is taken a second time: a read on the trigger's path that
/// walks a workflow's past runs shows as a slope (migration 0029 fixed one
/// that cost 0.3 ms per 1,000 runs).
pub const HISTORY_RUNS: usize = 20_000;

/// Latency and wall times with one worker of `--slots`.
pub struct Timings {
    /// Trigger → first step start of a single-step run.
    pub latency_start: Percentiles,
    /// The same once the workflow has [`HISTORY_RUNS`] more finished runs.
    pub latency_start_history: Percentiles,
    /// Trigger → that run finished.
    pub latency_finish: Percentiles,
    /// The sequential workflow's median wall time.
    pub chain: Duration,
    /// Of that run: mean ms from a step's claim to its report, and from
    /// one step's report to the next step's claim.
    pub chain_in_step_ms: f64,
    pub chain_between_ms: f64,
    /// Median wall time of `--parallel-runs` sequential workflows at once.
    pub parallel: Duration,
}

/// The queue is filled first, then a worker of each concurrency drains it.
pub async fn throughput(engine: &Engine, args: &Args) -> Result<Throughput> {
    let http_addr = noop_http_server().await?;
    let shell_step = shell_step();
    let http_step = json!({ "http": { "method": "GET", "url": format!("http://{http_addr}/") } });
    let mut shell = Vec::new();
    let mut http = Vec::new();
    for (kind, step, out) in [
        ("shell", &shell_step, &mut shell),
        ("http", &http_step, &mut http),
    ] {
        for slots in CONCURRENCY {
            let name = engine
                .apply(fanout_spec(
                    &format!("bench-{kind}-{slots}"),
                    args.steps_per_run,
                    step,
                ))
                .await?;
            let rate = engine
                .drain_rate(&name, args.runs(), args.total_steps(), || {
                    Ok(engine.start_worker(slots, &name))
                })
                .await?;
            out.push(rate);
        }
    }
    Ok(Throughput { shell, http })
}

/// Latency on an idle system (one single-step run at a time), again with
/// [`HISTORY_RUNS`] past runs of the workflow, then wall times of
/// sequential workflows, alone and `--parallel-runs` at once.
pub async fn timings(engine: Engine, db: &Database, args: &Args) -> Result<Timings> {
    let single = engine
        .apply(fanout_spec("bench-single", 1, &shell_step()))
        .await?;
    let worker = engine.start_worker(args.slots, "latency");
    let (to_start, to_finish) = engine
        .start_latencies(&single, args.latency_samples, RUN_TIMEOUT)
        .await?;
    seed_history(&engine, db, &single).await?;
    let (to_start_history, _) = engine
        .start_latencies(&single, args.latency_samples, RUN_TIMEOUT)
        .await?;

    let chain = engine.apply(chain_spec("bench-chain", args.chain)).await?;
    let mut chain_runs = Vec::new();
    for _ in 0..args.repeat {
        chain_runs.push(time_chain(&engine, &chain).await?);
    }
    chain_runs.sort_by_key(|r| r.wall);
    let ChainRun {
        wall: chain_wall,
        in_step_ms: chain_in_step_ms,
        between_ms: chain_between_ms,
    } = chain_runs
        .get(chain_runs.len() / 2)
        .copied()
        .ok_or_else(|| anyhow!("no sequential run measured"))?;

    let parallel_name = engine
        .apply(chain_spec("bench-parallel", args.chain))
        .await?;
    let engine = Arc::new(engine);
    let mut parallel_walls = Vec::new();
    for _ in 0..args.repeat {
        let t0 = engine.clock.now();
        let mut triggers = JoinSet::new();
        for _ in 0..args.parallel_runs {
            let engine = engine.clone();
            let name = parallel_name.clone();
            triggers.spawn(async move { engine.trigger(&name).await.map(|r| r.id) });
        }
        let mut ids = Vec::new();
        while let Some(id) = triggers.join_next().await {
            ids.push(id??);
        }
        let mut end = t0;
        for id in &ids {
            let detail = engine.finished(id, RUN_TIMEOUT).await?;
            if let Some(f) = detail.summary.finished_at {
                end = end.max(f);
            }
        }
        parallel_walls.push(Duration::from_secs_f64(ms_between(t0, end) / 1000.0));
    }
    worker.stop().await;
    Ok(Timings {
        latency_start: Percentiles::of(&to_start),
        latency_start_history: Percentiles::of(&to_start_history),
        latency_finish: Percentiles::of(&to_finish),
        chain: chain_wall,
        chain_in_step_ms,
        chain_between_ms,
        parallel: median(parallel_walls),
    })
}

/// [`HISTORY_RUNS`] finished runs of `workflow` over the last 90 days,
/// bulk-inserted beside the store as the large-database section does.
async fn seed_history(engine: &Engine, db: &Database, workflow: &str) -> Result<()> {
    let active = engine
        .store()
        .active_versions()
        .await?
        .into_iter()
        .find(|a| a.workflow == workflow && a.environment == ENVIRONMENT)
        .with_context(|| format!("{workflow} has no active version in {ENVIRONMENT}"))?;
    let pool = RawPool::open(db).await?;
    let mut rng = StdRng::seed_from_u64(29);
    let seeded = seed(&pool, &[active], HISTORY_RUNS, Utc::now(), &mut rng).await;
    pool.close().await;
    seeded.map(drop)
}

/// One run of a sequential workflow.
#[derive(Debug, Clone, Copy)]
pub struct ChainRun {
    /// From just before the trigger to the run's `finished_at`.
    pub wall: Duration,
    /// Mean ms from a step's claim to its report.
    pub in_step_ms: f64,
    /// Mean ms from one step's report to the next step's claim.
    pub between_ms: f64,
}

/// Triggers the sequential workflow `chain` and times it once.
pub async fn time_chain(engine: &Engine, chain: &str) -> Result<ChainRun> {
    let t0 = engine.clock.now();
    let run = engine.trigger(chain).await?;
    let detail = engine.finished(&run.id, RUN_TIMEOUT).await?;
    let end = detail
        .summary
        .finished_at
        .ok_or_else(|| anyhow!("run {} has no finish time", run.id))?;
    let attempts: Vec<(DateTime<Utc>, DateTime<Utc>)> = detail
        .steps
        .iter()
        .filter_map(|s| s.attempts.first())
        .filter_map(|a| Some((a.started_at, a.finished_at?)))
        .collect();
    let in_step: Vec<f64> = attempts.iter().map(|(s, f)| ms_between(*s, *f)).collect();
    let between: Vec<f64> = attempts
        .windows(2)
        .map(|w| ms_between(w[0].1, w[1].0))
        .collect();
    Ok(ChainRun {
        wall: Duration::from_secs_f64(ms_between(t0, end) / 1000.0),
        in_step_ms: mean(&in_step),
        between_ms: mean(&between),
    })
}
