//! `gantry-bench`: the engine's step throughput, trigger latency and
//! workflow wall times on SQLite and PostgreSQL, each printed beside a raw
//! baseline measured in the same run on the same database. `make bench` runs
//! it; `docs/benchmarks.md` records and explains the figures.
//!
//! Everything goes through the real code paths: specs are applied and runs
//! triggered through the control-plane port (as an admin), and in-process
//! workers and the scheduler execute them exactly as `gantry serve` does
//! ([`harness`]). Timings come from the run views (attempt `started_at`, run
//! `finished_at`), which the engine stamps from the same system clock the
//! benchmark reads.
//!
//! Remote workers are measured the same way against a `gantry serve` built
//! in this process (no worker of its own), leasing over its execution API
//! on loopback with a worker token, as `gantry worker --server` does
//! ([`remote`]).
//!
//! Last come the audit log's appends: the store's hash-chained
//! `append_audit` beside plain INSERTs into the same table, then a
//! verification of the whole chain the run wrote, a failure failing the
//! benchmark ([`audit`]).
//!
//! Then, per backend, what metrics and tracing cost: trigger latency and
//! the sequential workflow in two processes of this binary, one with the
//! Prometheus recorder and OTLP export to a live receiver, one without,
//! taking turns; an overhead of 5 % or more beyond the noise fails the
//! benchmark ([`overhead`]).
//!
//! Last, per backend on a fresh database of its own, what alert
//! evaluation costs with 1,000 workflows and 100,000 runs: a steady-state
//! pass, a pass judging a full batch of finished runs, and a 30-day
//! backtest, each beside the bare reads it must make ([`alerts`]).
//! `--only alerts` measures just that section.
//!
//! Then, per backend on a fresh database of its own, what a live canary
//! adds to a run's start: trigger → first step start of a workflow with a
//! canary at 50 % beside one without, alternating ([`canary`]).
//! `--only canary` measures just that section.
//!
//! Last, what the edge adds to a request: the always-on layers in process,
//! then per backend four servers with different edge settings (rate limits
//! off, buckets in memory, in the database, HTTPS) answering the same read
//! in turn ([`edge`]). `--only edge` measures just that section.
//!
//! And per backend on a fresh database of its own, reads on a large
//! database: the runs list, a run and their pages with a small history
//! and then with 1,000,000 runs; and SCIM's lists and lookups with 1,000
//! people and then 100,000 ([`large`]). `--only large` and `--only scim`
//! measure just those sections. Then requests under load: 50 connections
//! on the runs list, the Runs page and triggers, beside a bare handler
//! ([`load`], `--only load`).
//!
//! This file holds the arguments and the order of the measurements.

mod alerts;
mod audit;
mod canary;
mod database;
mod edge;
mod engine;
mod harness;
mod large;
mod load;
mod overhead;
mod raw;
mod remote;
mod report;
mod secrets;
mod served;
mod stats;
mod table;
mod workload;

use anyhow::{Context, Result, anyhow, ensure};
use clap::{Parser, ValueEnum};
use database::Database;
use gantry_server::engine::Scheduler;
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::store::{self, DatabaseUrl};
use harness::Engine;
use report::Report;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The allocator `gantry` runs with (`server/src/main.rs`), so the servers
/// this binary builds in-process measure as the real one does.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The worker concurrencies every throughput figure is measured at.
const CONCURRENCY: [usize; 2] = [1, 4];
const ENVIRONMENT: &str = "dev";
/// Connections in the store's pool (the `serve` default); the audit
/// baseline's pool gets the same number.
const POOL_CONNECTIONS: u32 = 10;

#[derive(Debug, Parser)]
#[command(
    name = "gantry-bench",
    about = "Measures Gantry's engine against a raw queue baseline on SQLite and PostgreSQL"
)]
struct Args {
    /// Database to measure (repeatable). Default: SQLite, plus PostgreSQL when an admin URL is set.
    #[arg(long = "backend", value_enum)]
    backends: Vec<BackendArg>,

    /// A PostgreSQL URL allowed to CREATE DATABASE; each run creates a fresh database there and
    /// drops it afterwards. `scripts/with-postgres.sh` sets the variable.
    #[arg(
        long,
        env = "GANTRY_TEST_POSTGRES_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    postgres_admin_url: Option<String>,

    /// Folder for the SQLite file and the steps' working directories (a fresh subfolder is made
    /// and removed). Pick one on the disk you want to measure.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// No-op steps per throughput measurement.
    #[arg(long, value_name = "N", default_value_t = 200)]
    steps: usize,

    /// Independent steps per run in the throughput workload (runs = steps / this).
    #[arg(long, value_name = "N", default_value_t = 10)]
    steps_per_run: usize,

    /// Sequential single-step runs for the latency percentiles.
    #[arg(long, value_name = "N", default_value_t = 100)]
    latency_samples: usize,

    /// Steps in the sequential workflow.
    #[arg(long, value_name = "N", default_value_t = 40)]
    chain: usize,

    /// Sequential workflows triggered at once for the parallel wall time.
    #[arg(long, value_name = "N", default_value_t = 10)]
    parallel_runs: usize,

    /// Worker slots for the latency and wall-time figures (`gantry serve` defaults to 4).
    #[arg(long, value_name = "N", default_value_t = 4)]
    slots: usize,

    /// Times each wall-time figure is measured; the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    repeat: usize,

    /// How long each raw baseline loop runs.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    baseline_time: Duration,

    /// How long each audit-append loop (hash-chained, and the plain-INSERT baseline) runs.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    audit_time: Duration,

    /// Trigger → first step start samples per side (metrics and tracing off, on) for the
    /// overhead comparison; 0 skips it.
    #[arg(long, value_name = "N", default_value_t = 3200)]
    overhead_samples: usize,

    /// Sequential workflows timed per side for the overhead comparison.
    #[arg(long, value_name = "N", default_value_t = 200)]
    overhead_chains: usize,

    /// Samples each side takes in its turn of the overhead comparison before the other side
    /// takes its own: small turns put a burst of load from elsewhere on both sides.
    #[arg(long, value_name = "N", default_value_t = 2)]
    overhead_batch: usize,

    /// What the overhead comparison's "on" side turns on: all (the figure that counts),
    /// metrics or tracing alone (what each costs), or nothing (an A/A run: the comparison's
    /// own bias).
    #[arg(long, value_enum, value_name = "PARTS", default_value = "all")]
    overhead_on: overhead::Parts,

    /// Also write the overhead comparison's raw figures (each side's samples per round and
    /// workflow wall times, ms) as JSON to this file, one per database (`FILE.sqlite.json`…).
    #[arg(long, value_name = "FILE")]
    overhead_raw: Option<std::path::PathBuf>,

    /// Log filter of both overhead processes' JSON log lines (spans at info are on regardless).
    #[arg(long, value_name = "FILTER", default_value = "info")]
    overhead_log: String,

    /// Measure only this section (default: all).
    #[arg(long, value_enum, value_name = "SECTION")]
    only: Option<Section>,

    /// Workflows in the alert evaluation section.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    alert_workflows: usize,

    /// Finished runs over the last 30 days in the alert evaluation section.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    alert_runs: usize,

    /// Steady-state passes, and batch passes, timed in the alert evaluation section.
    #[arg(long, value_name = "N", default_value_t = 20)]
    alert_samples: usize,

    /// Trigger → first step start samples per side (no canary, canary live) in the canary
    /// admission section.
    #[arg(long, value_name = "N", default_value_t = 200)]
    canary_samples: usize,

    /// Blocks of alternating samples the canary section's bootstrap intervals resample.
    #[arg(long, value_name = "N", default_value_t = 20)]
    canary_blocks: usize,

    /// Requests to each of the edge section's servers (rate limits off, in memory, in the
    /// database, HTTPS).
    #[arg(long, value_name = "N", default_value_t = 3_000)]
    edge_samples: usize,

    /// Blocks of the edge section's requests the bootstrap intervals resample.
    #[arg(long, value_name = "N", default_value_t = 20)]
    edge_blocks: usize,

    /// In-process calls per layer stack in the edge section.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    edge_layer_requests: usize,

    /// Rounds the in-process layer calls are taken in.
    #[arg(long, value_name = "N", default_value_t = 20)]
    edge_layer_rounds: usize,

    /// Runs in the large database of the large-database section.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    large_runs: usize,

    /// Concurrent kept-alive connections in the load section.
    #[arg(long, value_name = "N", default_value_t = 50)]
    load_connections: usize,

    /// Seconds each phase of the load section lasts.
    #[arg(long, value_name = "S", default_value_t = 10)]
    load_seconds: u64,

    /// People in the large database of the SCIM section.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    scim_people: usize,

    /// Requests of each kind, per database size, in the large-database and SCIM sections.
    #[arg(long, value_name = "N", default_value_t = 300)]
    large_samples: usize,

    /// Backtests timed in the alert evaluation section.
    #[arg(long, value_name = "N", default_value_t = 5)]
    alert_backtests: usize,

    /// Also print the tables as Markdown (for docs/benchmarks.md).
    #[arg(long)]
    markdown: bool,

    /// Log filter for the engine's own messages. (PostgreSQL's notice that a rollback found no
    /// transaction comes from attempts abandoned when a worker stops between figures.)
    #[arg(
        long,
        value_name = "FILTER",
        default_value = "warn,sqlx::postgres::notice=error"
    )]
    log: String,
}

impl Args {
    /// Runs in the throughput workload.
    fn runs(&self) -> usize {
        self.steps.div_ceil(self.steps_per_run)
    }

    /// Steps in the throughput workload (`--steps`, rounded up to whole runs).
    fn total_steps(&self) -> usize {
        self.runs() * self.steps_per_run
    }
}

/// The sections `--only` picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    /// Throughput, latency, wall times, audit appends, metrics and tracing overhead, secrets.
    Engine,
    /// Alert evaluation passes and backtests over 1,000 workflows and 100,000 runs.
    Alerts,
    /// Trigger → first step start with a canary live versus none.
    Canary,
    /// Request latency the edge adds: rate limits, HTTPS, headers, CSRF, CORS.
    Edge,
    /// The runs list, a run and their pages with 1,000 runs and with 1,000,000.
    Large,
    /// SCIM lists and the lookups Okta and Entra ID make, with 1,000 people and with 100,000.
    Scim,
    /// 50 connections: the runs list, the Runs page and triggers, beside a bare handler.
    Load,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

fn main() -> Result<()> {
    // The bench's in-process workers re-execute this binary as each shell
    // step's supervisor.
    if std::env::args_os().nth(1).is_some_and(|a| a == "step-exec") {
        std::process::exit(i32::from(gantry_server::engine::sandbox::supervisor::run()));
    }
    // The two sides of the metrics-and-tracing overhead comparison.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == overhead::child::ARG)
    {
        return overhead::child::main();
    }
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    ensure!(
        args.steps_per_run > 0 && args.steps >= args.steps_per_run,
        "--steps must be at least --steps-per-run (> 0)"
    );
    ensure!(
        args.latency_samples > 0 && args.chain > 0 && args.parallel_runs > 0 && args.repeat > 0,
        "counts must be positive"
    );
    ensure!(args.slots > 0, "--slots must be positive");
    ensure!(
        args.alert_workflows > 0
            && args.alert_runs > 0
            && args.alert_samples > 0
            && args.alert_backtests > 0,
        "the alert section's counts must be positive"
    );
    let engine_sections = args.only.is_none_or(|s| s == Section::Engine);
    let alert_section = args.only.is_none_or(|s| s == Section::Alerts);
    let canary_section = args.only.is_none_or(|s| s == Section::Canary);
    let edge_section = args.only.is_none_or(|s| s == Section::Edge);
    let large_section = args.only.is_none_or(|s| s == Section::Large);
    let scim_section = args.only.is_none_or(|s| s == Section::Scim);
    let load_section = args.only.is_none_or(|s| s == Section::Load);
    ensure!(args.large_samples > 0, "--large-samples must be positive");
    ensure!(
        args.edge_samples > 0
            && args.edge_blocks > 0
            && args.edge_layer_requests > 0
            && args.edge_layer_rounds > 0,
        "the edge section's counts must be positive"
    );
    ensure!(
        args.canary_samples > 0 && args.canary_blocks > 0,
        "--canary-samples and --canary-blocks must be positive"
    );
    ensure!(
        args.overhead_batch > 0 && args.overhead_chains > 0,
        "--overhead-batch and --overhead-chains must be positive"
    );
    let mut backends = args.backends.clone();
    if backends.is_empty() {
        backends.push(BackendArg::Sqlite);
        if args.postgres_admin_url.is_some() {
            backends.push(BackendArg::Postgres);
        } else {
            eprintln!(
                "gantry-bench: no PostgreSQL admin URL (GANTRY_TEST_POSTGRES_URL); measuring SQLite only"
            );
        }
    }
    let root = args
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("gantry-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    if engine_sections {
        println!(
            "gantry-bench: {cpus} CPUs, {}; {} no-op steps per throughput figure, {} latency samples, median of {} for wall times",
            os_name(),
            args.steps,
            args.latency_samples,
            args.repeat,
        );
    } else {
        println!("gantry-bench: {cpus} CPUs, {}", os_name());
    }
    let workload = format!(
        "{} runs of {} independent no-op steps",
        args.runs(),
        args.steps_per_run
    );
    let mut reports = Vec::new();
    let mut alert_figures = Vec::new();
    let mut canary_figures = Vec::new();
    let mut failure = None;
    for &backend in backends.iter().filter(|_| engine_sections) {
        match measure_backend(backend, &args, &root) {
            Ok(report) => {
                report.print_text(&workload);
                if let Err(e) = report.history_verdict() {
                    eprintln!("gantry-bench: {backend:?}: FAILED: {e:#}");
                    failure = Some(e);
                }
                if let Some(o) = &report.overhead {
                    if let Err(e) = o.verdict() {
                        eprintln!("gantry-bench: {backend:?}: FAILED: {e:#}");
                        failure = Some(e);
                    } else if [o.p99, o.chain]
                        .iter()
                        .any(|v| v.verdict() == overhead::Verdict::Unresolved)
                    {
                        eprintln!(
                            "gantry-bench: {backend:?}: the metrics and tracing overhead is not resolved: \
                             its interval spans {} % on this machine's noise (rerun when it is quiet)",
                            overhead::LIMIT_PERCENT
                        );
                    }
                }
                reports.push(report);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?} failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    // What secrets add to a step's start (needs the harness's OpenBao).
    if engine_sections {
        let secrets = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(secrets::measure(&root));
        if let Err(e) = secrets {
            eprintln!("gantry-bench: secrets failed: {e:#}");
            failure = Some(e);
        }
    }
    for &backend in backends.iter().filter(|_| alert_section) {
        match on_fresh_database(backend, &args, &root, "alerts", |db, args, dir| {
            Box::pin(alerts::measure(db, args, dir))
        }) {
            Ok(figures) => {
                alerts::print_text(&figures);
                alert_figures.push(figures);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: alert evaluation failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    for &backend in backends.iter().filter(|_| canary_section) {
        match on_fresh_database(backend, &args, &root, "canary", |db, args, dir| {
            Box::pin(canary::measure(db, args, dir))
        }) {
            Ok(figures) => {
                canary::print_text(&figures);
                if let Err(e) = figures.verdict() {
                    eprintln!("gantry-bench: {backend:?}: FAILED: {e:#}");
                    failure = Some(e);
                }
                canary_figures.push(figures);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: canary admission failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    let mut edge_layers = None;
    let mut edge_figures = Vec::new();
    if edge_section {
        let layers = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(edge::layers::measure(
                args.edge_layer_requests,
                args.edge_layer_rounds,
            ));
        match layers {
            Ok(l) => edge_layers = Some(l),
            Err(e) => {
                eprintln!("gantry-bench: edge layers failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    for &backend in backends.iter().filter(|_| edge_section) {
        match on_fresh_database(backend, &args, &root, "edge", |db, args, dir| {
            Box::pin(edge::measure(db, args, dir))
        }) {
            Ok(figures) => edge_figures.push(figures),
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: edge settings failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    if edge_section {
        edge::print_text(edge_layers.as_ref(), &edge_figures);
    }
    let mut large_figures = Vec::new();
    for &backend in backends.iter().filter(|_| large_section) {
        match on_fresh_database(backend, &args, &root, "large", |db, args, dir| {
            Box::pin(large::measure_runs(db, args, dir))
        }) {
            Ok(figures) => {
                large::print_text(&figures);
                large_figures.push(figures);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: large database failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    for &backend in backends.iter().filter(|_| scim_section) {
        match on_fresh_database(backend, &args, &root, "scim", |db, args, dir| {
            Box::pin(large::measure_people(db, args, dir))
        }) {
            Ok(figures) => {
                large::print_text(&figures);
                large_figures.push(figures);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: SCIM with many people failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    let mut load_figures = Vec::new();
    for &backend in backends.iter().filter(|_| load_section) {
        match on_fresh_database(backend, &args, &root, "load", |db, args, dir| {
            Box::pin(load::measure(db, args, dir))
        }) {
            Ok(figures) => {
                load::print_text(&figures);
                if let Err(e) = load::checked(&figures) {
                    eprintln!("gantry-bench: {backend:?}: under load: {e:#}");
                    failure = Some(e);
                }
                load_figures.push(figures);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?}: under load failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    if args.markdown {
        for r in &reports {
            r.print_markdown(&workload);
        }
        for f in &alert_figures {
            alerts::print_markdown(f);
        }
        for f in &canary_figures {
            canary::print_markdown(f);
        }
        if edge_section {
            edge::print_markdown(edge_layers.as_ref(), &edge_figures);
        }
        for f in &large_figures {
            large::print_markdown(f);
        }
        for f in &load_figures {
            load::print_markdown(f);
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

/// One backend from a fresh database to teardown. Each backend gets its own
/// runtime, so nothing it spawned (workers, LISTEN task) outlives it.
fn measure_backend(backend: BackendArg, args: &Args, root: &Path) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = root.join(backend_name(backend));
    std::fs::create_dir_all(&dir)?;
    let db = runtime.block_on(Database::create(
        backend,
        args.postgres_admin_url.as_deref(),
        &dir,
    ))?;
    let result = runtime.block_on(run_all(&db, args, &dir));
    // Stops the workers, the scheduler and the LISTEN task before the
    // database goes away.
    runtime.shutdown_background();
    let cleanup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Err(e) = cleanup.block_on(db.drop_database()) {
        eprintln!("gantry-bench: could not remove the benchmark database: {e:#}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut report = result?;
    if args.overhead_samples > 0 {
        let dir = root.join(format!("overhead-{}", backend_name(backend)));
        let figures = overhead::measure(backend, args, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        report.overhead = Some(figures?);
    }
    Ok(report)
}

/// A section on a fresh database of its own, in a runtime of its own
/// (whatever it started, a receiver, workers, servers, goes with it);
/// `label` names its folder and its complaints.
fn on_fresh_database<T>(
    backend: BackendArg,
    args: &Args,
    root: &Path,
    label: &str,
    section: impl for<'a> FnOnce(
        &'a Database,
        &'a Args,
        &'a Path,
    ) -> Pin<Box<dyn Future<Output = Result<T>> + 'a>>,
) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = root.join(format!("{label}-{}", backend_name(backend)));
    std::fs::create_dir_all(&dir)?;
    let db = runtime.block_on(Database::create(
        backend,
        args.postgres_admin_url.as_deref(),
        &dir,
    ))?;
    let result = runtime.block_on(section(&db, args, &dir));
    runtime.shutdown_background();
    let cleanup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Err(e) = cleanup.block_on(db.drop_database()) {
        eprintln!("gantry-bench: could not remove the {label} benchmark database: {e:#}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn backend_name(backend: BackendArg) -> &'static str {
    match backend {
        BackendArg::Sqlite => "sqlite",
        BackendArg::Postgres => "postgres",
    }
}

/// Every figure of one backend, in an order that keeps them apart: the raw
/// baselines on the still empty database, the engine's throughput, remote
/// workers, latency and wall times, and the audit appends last, with the
/// engine quiet.
async fn run_all(db: &Database, args: &Args, dir: &Path) -> Result<Report> {
    let url = DatabaseUrl::parse(&db.url).map_err(|e| anyhow!(e))?;
    let raw = raw::measure(db, args.baseline_time).await?;

    let store = store::connect(&url, POOL_CONNECTIONS).await?;
    store.migrate().await?;
    store.listen_for_work().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::over(store.clone(), clock.clone(), dir.join("work"))?;
    // The scheduler runs throughout, as in `gantry serve`.
    let scheduler_stop = CancellationToken::new();
    let scheduler =
        tokio::spawn(Scheduler::new(store.clone(), clock.clone()).run(scheduler_stop.clone()));

    let throughput = engine::throughput(&engine, args).await?;
    let remote = remote::measure(&db.url, dir, clock, args).await?;
    let timings = engine::timings(engine, db, args).await?;
    scheduler_stop.cancel();
    let _ = scheduler.await;

    // The chain verified at the end then also holds every record the
    // engine figures wrote.
    let audit = audit::measure(db, &store, args.audit_time).await?;

    Ok(Report {
        raw,
        throughput,
        remote,
        timings,
        audit,
        latency_samples: args.latency_samples,
        latency_target_ms: (db.backend == BackendArg::Postgres).then_some(50.0),
        chain_steps: args.chain,
        parallel_runs: args.parallel_runs,
        slots: args.slots,
        repeat: args.repeat,
        overhead: None,
    })
}
