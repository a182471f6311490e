//! Remote workers' figures: a `gantry serve` on the benchmark's database
//! (no worker of its own) serving the execution API on loopback, and
//! workers leasing from it over HTTP with a worker token, as
//! `gantry worker --server` does.

use crate::harness::{Engine, RUN_TIMEOUT};
use crate::served::Served;
use crate::stats::Percentiles;
use crate::workload::{fanout_spec, shell_step};
use crate::{Args, CONCURRENCY, ENVIRONMENT};
use anyhow::Result;
use gantry_server::runtime::clock::Clock;
use std::path::Path;
use std::sync::Arc;

/// What the remote workers achieved.
pub struct RemoteFigures {
    /// No-op shell steps per second, per concurrency.
    pub shell: Vec<f64>,
    /// Trigger → first step start with only a remote worker.
    pub latency_start: Percentiles,
}

/// The throughput workload through the execution API, then trigger
/// latency with only a remote worker idle.
pub async fn measure(
    database_url: &str,
    dir: &Path,
    clock: Arc<dyn Clock>,
    args: &Args,
) -> Result<RemoteFigures> {
    let remote = Served::start(database_url, dir, ENVIRONMENT, &[]).await?;
    // Triggered through the server's own store, as a trigger reaching that
    // server would be: its long-poll claims wake on its work signal (on
    // SQLite the only one; PostgreSQL's NOTIFY reaches every process).
    let served = Engine::over(remote.store.clone(), clock, dir.join("work"))?;
    let worker_token = served.worker_token().await?;
    let mut shell = Vec::new();
    for slots in CONCURRENCY {
        let name = served
            .apply(fanout_spec(
                &format!("bench-remote-{slots}"),
                args.steps_per_run,
                &shell_step(),
            ))
            .await?;
        let rate = served
            .drain_rate(&name, args.runs(), args.total_steps(), || {
                served.start_remote_worker(slots, &name, &remote.url, &worker_token)
            })
            .await?;
        shell.push(rate);
    }
    let single = served
        .apply(fanout_spec("bench-single-remote", 1, &shell_step()))
        .await?;
    let worker =
        served.start_remote_worker(args.slots, "remote-latency", &remote.url, &worker_token)?;
    let to_start = served
        .start_latencies(&single, args.latency_samples, RUN_TIMEOUT)
        .await?
        .0;
    worker.stop().await;
    remote.stop().await;
    Ok(RemoteFigures {
        shell,
        latency_start: Percentiles::of(&to_start),
    })
}
