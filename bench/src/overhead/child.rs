//! One side of the overhead comparison, in a process of its own (a global
//! recorder and subscriber are installed once per process): the engine as
//! `gantry serve` wires it on a fresh database, with logs and traces from
//! `telemetry::init` (the `OTEL_*` variables the parent set decide whether
//! spans are exported) and, when on, the Prometheus recorder installed and
//! served as `serve` does it. It takes commands on stdin, one per line,
//! and answers each with one [`REPLY`]-prefixed JSON line on stderr
//! (stdout carries the JSON log lines):
//!
//! - `latency N`: N trigger → first step start samples (ms), idle worker;
//! - `chain`: one run of the sequential workflow (wall ms);
//! - `quit`: stop, drop the database, flush the exporter, report the runs
//!   triggered.

use super::REPLY;
use crate::database::Database;
use crate::engine::time_chain;
use crate::harness::{Engine, RUN_TIMEOUT};
use crate::workload::{chain_spec, fanout_spec, shell_step};
use crate::{BackendArg, POOL_CONNECTIONS};
use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Parser;
use gantry_server::engine::Scheduler;
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::runtime::metrics::{self, Metrics, MetricsSettings};
use gantry_server::runtime::telemetry::{self, LogFormat};
use gantry_server::store::{self, DatabaseUrl};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

/// The first argument that makes `gantry-bench` one side of the comparison.
pub const ARG: &str = "overhead-child";

#[derive(Debug, Parser)]
#[command(name = ARG)]
pub struct ChildArgs {
    /// The Prometheus recorder, installed and served as `serve` does.
    #[arg(long)]
    metrics: bool,
    /// Spans exported (the parent set the `OTEL_*` variables).
    #[arg(long)]
    tracing: bool,
    #[arg(long, value_enum)]
    backend: BackendArg,
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    slots: usize,
    #[arg(long)]
    chain: usize,
    #[arg(long)]
    log: String,
    #[arg(long, env = "GANTRY_TEST_POSTGRES_URL", hide_env_values = true)]
    postgres_admin_url: Option<String>,
}

/// `gantry-bench overhead-child …` (the parent starts it).
pub fn main() -> Result<()> {
    let args = ChildArgs::parse_from(std::env::args_os().skip(1));
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

fn reply(value: &Value) {
    eprintln!("{REPLY}{value}");
}

async fn run(args: ChildArgs) -> Result<()> {
    // What `serve` does first: logs (JSON lines on stdout) and traces.
    let telemetry = telemetry::init(LogFormat::Json, &args.log).map_err(|e| anyhow!(e))?;
    ensure!(
        telemetry.tracing() == args.tracing,
        "tracing is {} in a process meant to have it {} (OTEL_* variables)",
        if telemetry.tracing() { "on" } else { "off" },
        if args.tracing { "on" } else { "off" },
    );
    let metrics_settings = MetricsSettings {
        bind: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        ..MetricsSettings::default()
    };
    if args.metrics {
        // `Application::build`'s first step, before the database opens.
        metrics::install(&metrics_settings);
    }
    std::fs::create_dir_all(&args.dir)?;
    let db = Database::create(args.backend, args.postgres_admin_url.as_deref(), &args.dir).await?;
    let served = serve(&db, &args, &metrics_settings).await;
    if let Err(e) = db.drop_database().await {
        eprintln!("gantry-bench: could not remove the overhead database: {e:#}");
    }
    let runs = served?;
    // Flushes the spans still queued (bounded by the export timeout).
    drop(telemetry);
    reply(&json!({ "runs": runs }));
    Ok(())
}

/// The engine on `db`, answering commands until `quit`; the runs it
/// triggered.
async fn serve(db: &Database, args: &ChildArgs, settings: &MetricsSettings) -> Result<usize> {
    let url = DatabaseUrl::parse(&db.url).map_err(|e| anyhow!(e))?;
    let store = store::connect(&url, POOL_CONNECTIONS).await?;
    store.migrate().await?;
    store.listen_for_work().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stop = CancellationToken::new();
    let mut tasks = Vec::new();
    let mut metrics_addr = None;
    if args.metrics {
        // As `serve` (with `--metrics-bind 127.0.0.1:0`): the registry, the
        // build info, the upkeep and a listener the parent scrapes.
        let metrics = Metrics::bind(settings, store.clone(), clock.clone())
            .await
            .context("cannot listen for metrics")?;
        metrics_addr = metrics.addr().map(|a| a.to_string());
        tasks.extend(metrics.serve(stop.clone()));
    }
    tasks.push(tokio::spawn(
        Scheduler::new(store.clone(), clock.clone()).run(stop.clone()),
    ));
    let engine = Engine::over(store, clock, args.dir.join("work"))?;
    let single = engine
        .apply(fanout_spec("bench-single", 1, &shell_step()))
        .await?;
    let chain = engine.apply(chain_spec("bench-chain", args.chain)).await?;
    let worker = engine.start_worker(args.slots, "overhead");
    // One untimed chain, so the first timed one finds everything warm.
    time_chain(&engine, &chain).await?;
    let mut runs = 1;
    // Steps finished so far (every reply says), for the recorder's count.
    let mut steps = args.chain;
    reply(&json!({ "ready": true, "metrics": metrics_addr, "steps": steps }));

    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    let answered = async {
        while let Some(line) = commands.next_line().await? {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("latency"), Some(n)) => {
                    let n: usize = n.parse().context("latency N")?;
                    let (to_start, _) = engine.start_latencies(&single, n, RUN_TIMEOUT).await?;
                    // start_latencies adds one untimed run first.
                    runs += n + 1;
                    steps += n + 1;
                    reply(&json!({ "to_start_ms": to_start, "steps": steps }));
                }
                (Some("chain"), None) => {
                    let run = time_chain(&engine, &chain).await?;
                    runs += 1;
                    steps += args.chain;
                    reply(&json!({
                        "wall_ms": run.wall.as_secs_f64() * 1000.0,
                        "steps": steps,
                    }));
                }
                (Some("quit"), None) => return Ok(()),
                _ => bail!("unknown command {line:?}"),
            }
        }
        bail!("stdin closed without quit")
    }
    .await;
    worker.stop().await;
    stop.cancel();
    for task in tasks {
        let _ = task.await;
    }
    answered.map(|()| runs)
}
