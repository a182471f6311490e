//! `gantry-bench`: the engine's step throughput, trigger latency and
//! workflow wall times on SQLite and PostgreSQL, each printed beside a raw
//! baseline measured in the same run on the same database. `make bench` runs
//! it; `docs/benchmarks.md` records and explains the figures.
//!
//! Everything goes through the real code paths: specs are applied and runs
//! triggered through the control-plane port (as an admin), and in-process
//! [`Worker`]s and the [`Scheduler`] execute them exactly as `gantry serve`
//! does. Timings come from the run views (attempt `started_at`, run
//! `finished_at`), which the engine stamps from the same system clock the
//! benchmark reads.
//!
//! Remote workers are measured the same way against a `gantry serve` built
//! in this process (no worker of its own), leasing over its execution API
//! on loopback with a worker token, as `gantry worker --server` does.
//!
//! Last come the audit log's appends: the store's hash-chained
//! `append_audit` beside plain INSERTs into the same table, then a
//! verification of the whole chain the run wrote (a failure fails the
//! benchmark).

use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{DateTime, Utc};
use clap::{Parser, ValueEnum};
use gantry_core::port::RequestContext;
use gantry_core::port::prelude::*;
use gantry_core::run::{RunFilter, RunStatus, RunSummary, Trigger, TriggerOutcome, TriggerRequest};
use gantry_core::token::NewToken;
use gantry_core::{EnvScope, Environments, Principal, PrincipalKind, Role, RoleGrant, UserId};
use gantry_server::cli::{Cli, Command};
use gantry_server::config::Config;
use gantry_server::engine::egress::{AllowEntry, EgressPolicy};
use gantry_server::engine::remote::RemoteSource;
use gantry_server::engine::{Scheduler, Worker, WorkerSettings};
use gantry_server::plane::{GantryPlane, PlaneSettings};
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::startup::Application;
use gantry_server::store::{self, DatabaseUrl, SharedStore};
use serde_json::json;
use sqlx::Connection;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

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
    println!(
        "gantry-bench: {} CPUs, {}; {} no-op steps per throughput figure, {} latency samples, median of {} for wall times",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        os_name(),
        args.steps,
        args.latency_samples,
        args.repeat,
    );
    let runs = args.steps.div_ceil(args.steps_per_run);
    let workload = format!(
        "{runs} runs of {} independent no-op steps",
        args.steps_per_run
    );
    let mut reports = Vec::new();
    let mut failure = None;
    for backend in backends {
        match measure_backend(backend, &args, &root) {
            Ok(report) => {
                report.print_text(&workload);
                reports.push(report);
            }
            Err(e) => {
                eprintln!("gantry-bench: {backend:?} failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    if args.markdown {
        for r in &reports {
            r.print_markdown(&workload);
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
fn measure_backend(backend: BackendArg, args: &Args, root: &std::path::Path) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = root.join(match backend {
        BackendArg::Sqlite => "sqlite",
        BackendArg::Postgres => "postgres",
    });
    std::fs::create_dir_all(&dir)?;
    let db = runtime.block_on(Database::create(backend, args, &dir))?;
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
    result
}

/// A fresh database for one backend.
struct Database {
    backend: BackendArg,
    url: String,
    /// PostgreSQL: the admin URL and the database to drop afterwards.
    admin: Option<(String, String)>,
}

impl Database {
    async fn create(backend: BackendArg, args: &Args, dir: &std::path::Path) -> Result<Self> {
        match backend {
            BackendArg::Sqlite => Ok(Self {
                backend,
                url: format!("sqlite://{}", dir.join("bench.db").display()),
                admin: None,
            }),
            BackendArg::Postgres => {
                let admin = args.postgres_admin_url.clone().ok_or_else(|| {
                    anyhow!("PostgreSQL needs --postgres-admin-url or GANTRY_TEST_POSTGRES_URL (scripts/with-postgres.sh sets it)")
                })?;
                let name = format!("gantry_bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .context("cannot connect to the PostgreSQL admin URL")?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let (base, query) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), ""), |(b, q)| (b, q));
                let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
                let url = if query.is_empty() {
                    format!("{base}/{name}")
                } else {
                    format!("{base}/{name}?{query}")
                };
                Ok(Self {
                    backend,
                    url,
                    admin: Some((admin, name)),
                })
            }
        }
    }

    async fn drop_database(&self) -> Result<()> {
        if let Some((admin, name)) = &self.admin {
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }
}

/// Nearest-rank percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Percentiles {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Percentiles {
    fn of(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = (p * s.len() as f64).ceil() as usize;
            s.get(i.saturating_sub(1)).copied().unwrap_or(f64::NAN)
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: s.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// Everything measured on one backend.
struct Report {
    title: String,
    settings: String,
    /// Jobs per second of the bare queue transaction(s), per concurrency.
    raw_one_tx: Vec<f64>,
    raw_two_tx: Vec<f64>,
    /// Engine steps per second, per concurrency.
    shell: Vec<f64>,
    http: Vec<f64>,
    /// No-op shell steps through the execution API (`gantry worker
    /// --server`), per concurrency.
    remote_shell: Vec<f64>,
    latency_start: Percentiles,
    /// Trigger → first step start with only a remote worker.
    remote_latency_start: Percentiles,
    latency_finish: Percentiles,
    latency_samples: usize,
    /// The goal for p99 trigger → first step start, if any.
    latency_target_ms: Option<f64>,
    chain_steps: usize,
    chain: Duration,
    /// Of the sequential workflow: mean ms from a step's claim to its
    /// report, and from one step's report to the next step's claim.
    chain_in_step_ms: f64,
    chain_between_ms: f64,
    parallel_runs: usize,
    parallel: Duration,
    slots: usize,
    repeat: usize,
    audit: AuditFigures,
}

/// The audit log's append rates and the verification of what they wrote.
struct AuditFigures {
    /// Rows per second of plain one-row INSERT transactions, per concurrency.
    plain: Vec<f64>,
    /// `append_audit` calls per second, per concurrency.
    chained: Vec<f64>,
    /// Records `verify_store` checked (the whole chain: the engine's records too).
    verified: u64,
    verify: Duration,
    time: Duration,
}

/// 12345.6 → "12,346"; small rates keep a decimal.
fn rate(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    grouped(&format!("{v:.0}"))
}

/// 1234567 → "1,234,567".
fn count(n: u64) -> String {
    grouped(&n.to_string())
}

fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(engine: f64, raw: f64) -> String {
    format!("{:.1} %", 100.0 * engine / raw)
}

impl Report {
    /// Figure, unit, then one column per concurrency.
    fn throughput_rows(&self) -> Vec<[String; 4]> {
        let row = |figure: &str, unit: &str, v: [String; 2]| {
            let [a, b] = v;
            [figure.to_owned(), unit.to_owned(), a, b]
        };
        let per = |v: &[f64]| [rate(v[0]), rate(v[1])];
        let ratio = |e: &[f64]| {
            [
                percent(e[0], self.raw_one_tx[0]),
                percent(e[1], self.raw_one_tx[1]),
            ]
        };
        vec![
            row(
                "raw claim+complete, 1 tx per job (baseline)",
                "jobs/s",
                per(&self.raw_one_tx),
            ),
            row(
                "raw claim tx, then complete tx",
                "jobs/s",
                per(&self.raw_two_tx),
            ),
            row(
                "engine, no-op shell step (`true`)",
                "steps/s",
                per(&self.shell),
            ),
            row("  ratio to baseline", "", ratio(&self.shell)),
            row(
                "remote worker over the execution API, no-op shell step",
                "steps/s",
                per(&self.remote_shell),
            ),
            row("  ratio to baseline", "", ratio(&self.remote_shell)),
            row(
                "engine, no-op HTTP step (local server)",
                "steps/s",
                per(&self.http),
            ),
            row("  ratio to baseline", "", ratio(&self.http)),
            row(
                "audit: plain INSERT, 1 tx per row (baseline)",
                "rows/s",
                per(&self.audit.plain),
            ),
            row(
                "audit: append_audit, hash-chained",
                "appends/s",
                per(&self.audit.chained),
            ),
            row(
                "  ratio to baseline",
                "",
                [
                    percent(self.audit.chained[0], self.audit.plain[0]),
                    percent(self.audit.chained[1], self.audit.plain[1]),
                ],
            ),
        ]
    }

    /// Figure, value, detail.
    fn timing_rows(&self) -> Vec<[String; 3]> {
        let pct = |p: &Percentiles| {
            [
                format!("p50 {:.1} ms, p99 {:.1} ms", p.p50, p.p99),
                format!("max {:.1} ms, {} runs", p.max, self.latency_samples),
            ]
        };
        let [a, mut b] = pct(&self.latency_start);
        if let Some(target) = self.latency_target_ms {
            let verdict = if self.latency_start.p99 < target {
                "met"
            } else {
                "NOT MET"
            };
            b.push_str(&format!("; target p99 < {target:.0} ms: {verdict}"));
        }
        let [c, d] = pct(&self.latency_finish);
        let [e, f] = pct(&self.remote_latency_start);
        let chain_ms = self.chain.as_secs_f64() * 1000.0 / self.chain_steps as f64;
        let parallel_steps = (self.chain_steps * self.parallel_runs) as f64;
        vec![
            ["trigger → first step start, idle".into(), a, b],
            ["trigger → 1-step run finished, idle".into(), c, d],
            [
                "trigger → first step start, remote worker (execution API), idle".into(),
                e,
                f,
            ],
            [
                format!("one {}-step sequential workflow", self.chain_steps),
                format!("{:.2} s", self.chain.as_secs_f64()),
                format!(
                    "{chain_ms:.1} ms/step: {:.1} claim → report, {:.1} report → next claim",
                    self.chain_in_step_ms, self.chain_between_ms
                ),
            ],
            [
                format!(
                    "{} parallel {}-step workflows",
                    self.parallel_runs, self.chain_steps
                ),
                format!("{:.2} s", self.parallel.as_secs_f64()),
                format!(
                    "{} steps/s",
                    rate(parallel_steps / self.parallel.as_secs_f64())
                ),
            ],
            [
                "verify the audit chain (verify_store)".into(),
                format!("{:.0} ms", self.audit.verify.as_secs_f64() * 1000.0),
                format!(
                    "{} records, {} records/s; intact",
                    count(self.audit.verified),
                    rate(self.audit.verified as f64 / self.audit.verify.as_secs_f64())
                ),
            ],
        ]
    }

    fn notes(&self) -> String {
        format!(
            "Throughput: raw loops with {c0} and {c1} concurrent tasks; the engine with one worker of {c0} and {c1} \
             slots draining a queue of {{runs}} × {{steps}}; the remote worker the same through the execution API \
             of a `gantry serve` in this process (HTTP on loopback, a worker token, long-poll claims). \
             Latency and wall times: one worker of {slots} slots; \
             wall times are the median of {repeat}. Audit: {c0} and {c1} concurrent writers for {audit} each, \
             through `append_audit` (one transaction per record, chain head locked) and, as the baseline, \
             plain one-row INSERT transactions of the same records with constant hashes into the same \
             table, over a pool of the store's settings ({pool} connections); the chain is then verified.",
            c0 = CONCURRENCY[0],
            c1 = CONCURRENCY[1],
            slots = self.slots,
            repeat = self.repeat,
            audit = humantime::format_duration(self.audit.time),
            pool = POOL_CONNECTIONS,
        )
    }

    fn print_text(&self, workload: &str) {
        println!();
        println!("== {} ({})", self.title, self.settings);
        let header = [
            String::new(),
            String::new(),
            format!("{} slot/task", CONCURRENCY[0]),
            format!("{} slots/tasks", CONCURRENCY[1]),
        ];
        let rows = self.throughput_rows();
        let timing = self.timing_rows();
        let w0 = rows
            .iter()
            .map(|r| r[0].chars().count())
            .chain(timing.iter().map(|r| r[0].chars().count()))
            .max()
            .unwrap_or(0);
        let w2 = rows
            .iter()
            .chain([&header])
            .map(|r| r[2].chars().count())
            .max()
            .unwrap_or(0);
        let w3 = rows
            .iter()
            .chain([&header])
            .map(|r| r[3].chars().count())
            .max()
            .unwrap_or(0);
        let wu = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        for r in [&header].into_iter().chain(rows.iter()) {
            println!(
                "  {:<w0$}  {:<wu$}  {:>w2$}  {:>w3$}",
                r[0], r[1], r[2], r[3]
            );
        }
        let w1 = timing
            .iter()
            .map(|r| r[1].chars().count())
            .max()
            .unwrap_or(0);
        for r in &timing {
            println!("  {:<w0$}  {:<w1$}  ({})", r[0], r[1], r[2]);
        }
        println!("  {}", self.notes().replace("{runs} × {steps}", workload));
    }

    fn print_markdown(&self, workload: &str) {
        println!();
        println!("#### {} ({})", self.title, self.settings);
        println!();
        println!(
            "| throughput | unit | {} slot / task | {} slots / tasks |",
            CONCURRENCY[0], CONCURRENCY[1]
        );
        println!("|---|---|---:|---:|");
        for r in self.throughput_rows() {
            println!("| {} | {} | {} | {} |", r[0].trim(), r[1], r[2], r[3]);
        }
        println!();
        println!("| latency and wall time | value | detail |");
        println!("|---|---:|---|");
        for r in self.timing_rows() {
            println!("| {} | {} | {} |", r[0], r[1], r[2]);
        }
        println!();
        println!("{}", self.notes().replace("{runs} × {steps}", workload));
    }
}

/// The admin the benchmark acts as (like the `--dev` demo seeding).
/// A `gantry serve` on the benchmark's database serving the execution API
/// on loopback, with no worker of its own.
struct RemoteServer {
    url: String,
    store: SharedStore,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RemoteServer {
    async fn start(database_url: &str, dir: &std::path::Path) -> Result<Self> {
        let site = dir.join("site");
        let work = dir.join("server-work");
        let argv = [
            "gantry",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--worker-slots",
            "0",
            "--environments",
            ENVIRONMENT,
            "--log",
            "warn",
            "--site-root",
            site.to_str().unwrap_or("site"),
            "--work-dir",
            work.to_str().unwrap_or("work"),
        ];
        let Command::Serve(args) = Cli::try_parse_from(argv)?.command else {
            bail!("not a serve command");
        };
        let config = Config::from_args(*args).map_err(|e| anyhow!("{e}"))?;
        let app = Application::build(config).await?;
        let url = format!("http://{}", app.local_addr());
        let store = app.store();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(app.run_until_stopped(async move { stopped.cancelled().await }));
        Ok(Self {
            url,
            store,
            stop,
            task,
        })
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

fn admin_context() -> RequestContext {
    RequestContext {
        principal: Some(Principal {
            id: UserId("gantry-bench".into()),
            kind: PrincipalKind::System,
            username: "gantry-bench".into(),
            display_name: "gantry-bench".into(),
            email: None,
            grants: vec![RoleGrant {
                role: Role::Admin,
                scope: EnvScope::All,
                source: "gantry-bench".into(),
            }],
            signed_in_at: None,
        }),
        request_id: "gantry-bench".into(),
        trace_id: None,
        source_ip: None,
        user_agent: Some("gantry-bench".into()),
    }
}

/// The engine of one backend, as `gantry serve` wires it.
struct Engine {
    store: SharedStore,
    plane: Arc<GantryPlane>,
    clock: Arc<dyn Clock>,
    ctx: RequestContext,
    work_root: PathBuf,
}

/// A worker task and the token that stops it.
struct RunningWorker {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl Engine {
    /// The engine on `store`, driven through the port as the admin.
    fn over(store: SharedStore, clock: Arc<dyn Clock>, work_root: PathBuf) -> Result<Self> {
        let plane = Arc::new(GantryPlane::new(
            store.clone(),
            clock.clone(),
            PlaneSettings {
                dev_mode: false,
                audit_key: None,
                environments: Environments::parse_list(ENVIRONMENT)?,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                sso: None,
                public_url: "http://127.0.0.1".to_owned(),
                role_mapping: Default::default(),
                step_up_max_age: std::time::Duration::from_secs(15 * 60),
                token_approvals: Vec::new(),
            },
        ));
        Ok(Self {
            store,
            plane,
            clock,
            ctx: admin_context(),
            work_root,
        })
    }

    async fn apply(&self, spec: serde_json::Value) -> Result<String> {
        let name = spec["name"].as_str().unwrap_or_default().to_owned();
        self.plane
            .apply_workflow(&self.ctx, &spec.to_string())
            .await
            .with_context(|| format!("applying workflow {name}"))?;
        Ok(name)
    }

    async fn trigger(&self, workflow: &str) -> Result<RunSummary> {
        self.plane
            .trigger_run(
                &self.ctx,
                TriggerRequest {
                    workflow: workflow.to_owned(),
                    environment: ENVIRONMENT.into(),
                    inputs: Default::default(),
                    reason: None,
                },
                Trigger::Api,
            )
            .await
            .with_context(|| format!("triggering {workflow}"))
            .and_then(|outcome| match outcome {
                TriggerOutcome::Started { run } => Ok(run),
                TriggerOutcome::AwaitingApproval { .. } => {
                    anyhow::bail!("{workflow} unexpectedly awaits approval")
                }
            })
    }

    fn start_worker(&self, slots: usize, label: &str) -> RunningWorker {
        let mut settings = WorkerSettings::new(format!("bench:{label}"), self.work_root.clone());
        settings.slots = slots;
        // The HTTP steps' target listens on loopback, which steps may not
        // reach by default (the operator's --http-step-allow, here).
        settings.http_egress = Arc::new(EgressPolicy::new(&[AllowEntry {
            net: IpAddr::from(Ipv4Addr::LOCALHOST).into(),
            environment: None,
        }]));
        let worker = Arc::new(Worker::new(
            self.store.clone(),
            self.clock.clone(),
            settings,
        ));
        let stop = CancellationToken::new();
        let task = tokio::spawn(worker.run(stop.clone()));
        RunningWorker { stop, task }
    }

    /// A worker of `slots` that leases over the execution API at `url`.
    fn start_remote_worker(
        &self,
        slots: usize,
        label: &str,
        url: &str,
        token: &str,
    ) -> Result<RunningWorker> {
        let mut settings = WorkerSettings::new(format!("bench-{label}"), self.work_root.clone());
        settings.slots = slots;
        let source = RemoteSource::new(url, token.to_owned(), settings.id.clone())?;
        let worker = Arc::new(Worker::with_source(
            Arc::new(source),
            self.clock.clone(),
            settings,
        ));
        let stop = CancellationToken::new();
        let task = tokio::spawn(worker.run(stop.clone()));
        Ok(RunningWorker { stop, task })
    }

    /// A worker token, made through the port as the admin.
    async fn worker_token(&self) -> Result<String> {
        let created = self
            .plane
            .create_token(
                &self.ctx,
                NewToken {
                    name: "bench-workers".into(),
                    worker: true,
                    ..Default::default()
                },
            )
            .await
            .context("making a worker token")?;
        Ok(created.secret)
    }

    /// Trigger → first step start and trigger → finish (ms) of `samples`
    /// single-step runs of `workflow`, one at a time, with a worker idle.
    async fn start_latencies(
        &self,
        workflow: &str,
        samples: usize,
        timeout: Duration,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut to_start = Vec::with_capacity(samples);
        let mut to_finish = Vec::with_capacity(samples);
        // One untimed run first, so every timed one finds the worker idle and
        // warmed up (spec cache, connections).
        let warm = self.trigger(workflow).await?;
        self.finished(&warm.id, timeout).await?;
        for _ in 0..samples {
            // A pause between samples, so each trigger finds the worker waiting.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t0 = self.clock.now();
            let run = self.trigger(workflow).await?;
            let detail = self.finished(&run.id, timeout).await?;
            let started = detail
                .steps
                .first()
                .and_then(|s| s.attempts.first())
                .map(|a| a.started_at)
                .ok_or_else(|| anyhow!("run {} has no attempt", run.id))?;
            let finished = detail
                .summary
                .finished_at
                .ok_or_else(|| anyhow!("run {} has no finish time", run.id))?;
            to_start.push(ms_between(t0, started));
            to_finish.push(ms_between(t0, finished));
        }
        Ok((to_start, to_finish))
    }

    /// Every run of `workflow`, once none is queued or running (polled).
    async fn settled_runs(&self, workflow: &str, timeout: Duration) -> Result<Vec<RunSummary>> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut busy = false;
            for status in [RunStatus::Queued, RunStatus::Running] {
                let filter = RunFilter {
                    workflow: Some(workflow.to_owned()),
                    status: Some(status),
                    limit: Some(1),
                    ..Default::default()
                };
                busy |= !self
                    .plane
                    .list_runs(&self.ctx, filter)
                    .await?
                    .runs
                    .is_empty();
            }
            if !busy {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "runs of {workflow} did not finish within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut runs = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .plane
                .list_runs(
                    &self.ctx,
                    RunFilter {
                        workflow: Some(workflow.to_owned()),
                        before: before.take(),
                        limit: Some(RunFilter::MAX_LIMIT),
                        ..Default::default()
                    },
                )
                .await?;
            runs.extend(page.runs);
            match page.next_before {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        if let Some(bad) = runs.iter().find(|r| r.status != RunStatus::Succeeded) {
            let detail = self.plane.run(&self.ctx, &bad.id).await?;
            bail!(
                "run {} of {workflow} ended {} ({:?}); steps: {:?}",
                bad.id,
                bad.status,
                detail.error,
                detail
                    .steps
                    .iter()
                    .map(|s| (
                        s.id.clone(),
                        s.status,
                        s.attempts.last().and_then(|a| a.error.clone())
                    ))
                    .collect::<Vec<_>>()
            );
        }
        Ok(runs)
    }

    /// Waits for one run to end (polled every few ms).
    async fn finished(&self, id: &str, timeout: Duration) -> Result<gantry_core::run::RunDetail> {
        let deadline = Instant::now() + timeout;
        loop {
            let summary = self
                .store
                .run_summary(id)
                .await?
                .ok_or_else(|| anyhow!("run {id} vanished"))?;
            if summary.status.is_terminal() {
                let detail = self.plane.run(&self.ctx, id).await?;
                ensure!(
                    detail.summary.status == RunStatus::Succeeded,
                    "run {id} ended {}: {:?}",
                    detail.summary.status,
                    detail.error
                );
                return Ok(detail);
            }
            ensure!(
                Instant::now() < deadline,
                "run {id} did not finish within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn fanout_spec(name: &str, steps: usize, step: &serde_json::Value) -> serde_json::Value {
    let steps: Vec<_> = (1..=steps)
        .map(|i| {
            let mut s = step.clone();
            s["id"] = json!(format!("s{i:03}"));
            s
        })
        .collect();
    json!({ "name": name, "steps": steps })
}

fn chain_spec(name: &str, steps: usize) -> serde_json::Value {
    let steps: Vec<_> = (1..=steps)
        .map(|i| {
            let mut s = json!({ "id": format!("s{i:03}"), "run": "true" });
            if i > 1 {
                s["needs"] = json!([format!("s{:03}", i - 1)]);
            }
            s
        })
        .collect();
    json!({ "name": name, "steps": steps })
}

/// A local HTTP endpoint answering 204 at once: the cheapest step there is.
async fn noop_http_server() -> Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "no-op HTTP server stopped");
        }
    });
    Ok(addr)
}

fn ms_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from)
        .num_microseconds()
        .map_or(f64::NAN, |us| us as f64 / 1000.0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

async fn run_all(db: &Database, args: &Args, dir: &std::path::Path) -> Result<Report> {
    let url = DatabaseUrl::parse(&db.url).map_err(|e| anyhow!(e))?;
    // Raw baselines first, on the same (still empty) database.
    let (title, settings, raw_one_tx, raw_two_tx) = match db.backend {
        BackendArg::Sqlite => {
            let pool = store::open_sqlite_pool(&db.url, u32::try_from(CONCURRENCY[1])? + 1).await?;
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&pool)
                .await?;
            let mut one = Vec::new();
            let mut two = Vec::new();
            for c in CONCURRENCY {
                one.push(raw::sqlite(&pool, c, args.baseline_time, false).await?);
                two.push(raw::sqlite(&pool, c, args.baseline_time, true).await?);
            }
            raw::sqlite_drop(&pool).await?;
            pool.close().await;
            (
                format!("SQLite {version}"),
                "WAL, synchronous=NORMAL, busy_timeout 5 s".to_owned(),
                one,
                two,
            )
        }
        BackendArg::Postgres => {
            let pool =
                store::open_postgres_pool(&db.url, u32::try_from(CONCURRENCY[1])? + 1).await?;
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
            let mut one = Vec::new();
            let mut two = Vec::new();
            for c in CONCURRENCY {
                one.push(raw::postgres(&pool, c, args.baseline_time, false).await?);
                two.push(raw::postgres(&pool, c, args.baseline_time, true).await?);
            }
            sqlx::raw_sql("DROP TABLE IF EXISTS bench_jobs")
                .execute(&pool)
                .await?;
            pool.close().await;
            (format!("PostgreSQL {version}"), show.join(", "), one, two)
        }
    };

    let store = store::connect(&url, POOL_CONNECTIONS).await?;
    store.migrate().await?;
    store.listen_for_work().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::over(store.clone(), clock.clone(), dir.join("work"))?;
    // The scheduler runs throughout, as in `gantry serve`.
    let scheduler_stop = CancellationToken::new();
    let scheduler =
        tokio::spawn(Scheduler::new(store.clone(), clock.clone()).run(scheduler_stop.clone()));

    let http_addr = noop_http_server().await?;
    let shell_step = json!({ "run": "true" });
    let http_step = json!({ "http": { "method": "GET", "url": format!("http://{http_addr}/") } });
    let runs = args.steps.div_ceil(args.steps_per_run);
    let total_steps = runs * args.steps_per_run;
    let generous = Duration::from_secs(300);

    // Throughput: the queue is filled first, then a worker drains it.
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
            for _ in 0..runs {
                engine.trigger(&name).await?;
            }
            let start = clock.now();
            let worker = engine.start_worker(slots, &name);
            let done = engine.settled_runs(&name, generous).await;
            worker.stop().await;
            let done = done?;
            let end = done
                .iter()
                .filter_map(|r| r.finished_at)
                .max()
                .ok_or_else(|| anyhow!("no finished run of {name}"))?;
            out.push(total_steps as f64 * 1000.0 / ms_between(start, end));
        }
    }

    // The same through the execution API: a `gantry serve` (no worker of
    // its own) on this database, and remote workers talking HTTP to it
    // over loopback with a worker token, as `gantry worker --server` does.
    let remote = RemoteServer::start(&db.url, dir).await?;
    // Triggered through the server's own store, as a trigger reaching that
    // server would be: its long-poll claims wake on its work signal (on
    // SQLite the only one; PostgreSQL's NOTIFY reaches every process).
    let served = Engine::over(remote.store.clone(), clock.clone(), dir.join("work"))?;
    let worker_token = served.worker_token().await?;
    let mut remote_shell = Vec::new();
    for slots in CONCURRENCY {
        let name = served
            .apply(fanout_spec(
                &format!("bench-remote-{slots}"),
                args.steps_per_run,
                &shell_step,
            ))
            .await?;
        for _ in 0..runs {
            served.trigger(&name).await?;
        }
        let start = clock.now();
        let worker = served.start_remote_worker(slots, &name, &remote.url, &worker_token)?;
        let done = served.settled_runs(&name, generous).await;
        worker.stop().await;
        let done = done?;
        let end = done
            .iter()
            .filter_map(|r| r.finished_at)
            .max()
            .ok_or_else(|| anyhow!("no finished run of {name}"))?;
        remote_shell.push(total_steps as f64 * 1000.0 / ms_between(start, end));
    }
    let single_remote = served
        .apply(fanout_spec("bench-single-remote", 1, &shell_step))
        .await?;
    let worker =
        served.start_remote_worker(args.slots, "remote-latency", &remote.url, &worker_token)?;
    let remote_to_start = served
        .start_latencies(&single_remote, args.latency_samples, generous)
        .await?
        .0;
    worker.stop().await;
    remote.stop().await;

    // Latency on an idle system: one single-step run at a time.
    let single = engine
        .apply(fanout_spec("bench-single", 1, &shell_step))
        .await?;
    let worker = engine.start_worker(args.slots, "latency");
    let (to_start, to_finish) = engine
        .start_latencies(&single, args.latency_samples, generous)
        .await?;

    // Wall times of sequential workflows, alone and ten at once.
    let chain = engine.apply(chain_spec("bench-chain", args.chain)).await?;
    // (wall, mean claim → report ms, mean report → next claim ms) per run.
    let mut chain_runs: Vec<(Duration, f64, f64)> = Vec::new();
    let mut parallel_walls = Vec::new();
    for _ in 0..args.repeat {
        let t0 = clock.now();
        let run = engine.trigger(&chain).await?;
        let detail = engine.finished(&run.id, generous).await?;
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
        chain_runs.push((
            Duration::from_secs_f64(ms_between(t0, end) / 1000.0),
            mean(&in_step),
            mean(&between),
        ));
    }
    chain_runs.sort_by_key(|r| r.0);
    let (chain_wall, chain_in_step_ms, chain_between_ms) = chain_runs
        .get(chain_runs.len() / 2)
        .copied()
        .ok_or_else(|| anyhow!("no sequential run measured"))?;
    let parallel_name = engine
        .apply(chain_spec("bench-parallel", args.chain))
        .await?;
    let engine = Arc::new(engine);
    for _ in 0..args.repeat {
        let t0 = clock.now();
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
            let detail = engine.finished(id, generous).await?;
            if let Some(f) = detail.summary.finished_at {
                end = end.max(f);
            }
        }
        parallel_walls.push(Duration::from_secs_f64(ms_between(t0, end) / 1000.0));
    }
    worker.stop().await;
    scheduler_stop.cancel();
    let _ = scheduler.await;

    // Audit appends last, with the engine quiet; the chain verified at the
    // end then also holds every record the engine figures wrote.
    let audit = measure_audit(db, &store, args.audit_time).await?;

    Ok(Report {
        title,
        settings,
        raw_one_tx,
        raw_two_tx,
        shell,
        http,
        remote_shell,
        latency_start: Percentiles::of(&to_start),
        remote_latency_start: Percentiles::of(&remote_to_start),
        latency_finish: Percentiles::of(&to_finish),
        latency_samples: args.latency_samples,
        latency_target_ms: (db.backend == BackendArg::Postgres).then_some(50.0),
        chain_steps: args.chain,
        chain: chain_wall,
        chain_in_step_ms,
        chain_between_ms,
        parallel_runs: args.parallel_runs,
        parallel: median(parallel_walls),
        slots: args.slots,
        repeat: args.repeat,
        audit,
    })
}

/// Chained appends first (so the plain rows, numbered far above the chain,
/// never sit in the indexes ahead of them), then the plain baseline, whose
/// rows are deleted again before the chain is verified.
async fn measure_audit(db: &Database, store: &SharedStore, time: Duration) -> Result<AuditFigures> {
    let mut chained = Vec::new();
    let mut appended = 0;
    for c in CONCURRENCY {
        let (n, per_s) = audit::chained(store, c, time).await?;
        appended += n;
        chained.push(per_s);
    }
    let next = Arc::new(AtomicU64::new(audit::PLAIN_SEQ_BASE));
    let mut plain = Vec::new();
    let mut inserted = 0;
    let deleted = match db.backend {
        BackendArg::Sqlite => {
            let pool = store::open_sqlite_pool(&db.url, POOL_CONNECTIONS).await?;
            for c in CONCURRENCY {
                let (n, per_s) = audit::plain_sqlite(&pool, c, time, &next).await?;
                inserted += n;
                plain.push(per_s);
            }
            let deleted = sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
                .bind(i64::try_from(audit::PLAIN_SEQ_BASE)?)
                .execute(&pool)
                .await?
                .rows_affected();
            pool.close().await;
            deleted
        }
        BackendArg::Postgres => {
            let pool = store::open_postgres_pool(&db.url, POOL_CONNECTIONS).await?;
            for c in CONCURRENCY {
                let (n, per_s) = audit::plain_postgres(&pool, c, time, &next).await?;
                inserted += n;
                plain.push(per_s);
            }
            let deleted = sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
                .bind(i64::try_from(audit::PLAIN_SEQ_BASE)?)
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
    let (verified, verify) = audit::verify(store, appended).await?;
    Ok(AuditFigures {
        plain,
        chained,
        verified,
        verify,
        time,
    })
}

/// The audit log's appends: the store's own, and the plain-INSERT baseline.
mod audit {
    use anyhow::{Result, bail, ensure};
    use chrono::{DateTime, Utc};
    use gantry_core::audit::{Actor, AuditAction, AuditEvent, AuditRecord, canonical_json};
    use gantry_server::audit::verify::verify_store;
    use gantry_server::store::SharedStore;
    use sqlx::sqlite::SqlitePool;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    use tokio::task::JoinSet;

    /// The plain rows' first sequence number: far above any chained record,
    /// so the two never collide.
    pub const PLAIN_SEQ_BASE: u64 = 1_000_000_000_000;

    /// Stand-ins for the plain rows' hashes: as long as real ones (hex
    /// SHA-256), but never computed.
    const PLAIN_HASH: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    /// The store's own statement (`store/portable/audit.rs`).
    const INSERT: &str = "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, \
        action, resource, environment, outcome, request_id, trace_id, source_ip, user_agent, \
        details, prev_hash, hash) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

    /// A `run.trigger` record as the control plane writes one.
    pub fn event(at: DateTime<Utc>) -> AuditEvent {
        let mut event = AuditEvent::new(
            at,
            Actor::system("bench"),
            AuditAction::RunTrigger,
            "workflow/bench",
        );
        event.environment = Some(super::ENVIRONMENT.into());
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
    pub fn plain_record(event: AuditEvent, seq: u64) -> AuditRecord {
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
    pub async fn chained(store: &SharedStore, tasks: usize, time: Duration) -> Result<(u64, f64)> {
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
    pub async fn plain_sqlite(
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
                    let record =
                        plain_record(event(Utc::now()), next.fetch_add(1, Ordering::Relaxed));
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
    pub async fn plain_postgres(
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
                    let record =
                        plain_record(event(Utc::now()), next.fetch_add(1, Ordering::Relaxed));
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
    pub async fn verify(store: &SharedStore, appended: u64) -> Result<(u64, Duration)> {
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
}

/// The raw baseline: a scratch queue table and the bare transaction(s) a
/// queue needs per job, with nothing else around them.
mod raw {
    use anyhow::{Context, Result};
    use sqlx::Connection;
    use sqlx::sqlite::SqlitePool;
    use std::time::{Duration, Instant};
    use tokio::task::JoinSet;

    /// Enough queued rows that no loop runs dry (it stops early if one does).
    const ROWS: i64 = 200_000;

    pub async fn sqlite_drop(pool: &SqlitePool) -> Result<()> {
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
    pub async fn sqlite(
        pool: &SqlitePool,
        tasks: usize,
        time: Duration,
        split: bool,
    ) -> Result<f64> {
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
    pub async fn postgres(
        pool: &sqlx::PgPool,
        tasks: usize,
        time: Duration,
        split: bool,
    ) -> Result<f64> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        let one = Percentiles::of(&[7.0]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
    }

    #[test]
    fn rates_read_well() {
        assert_eq!(rate(23105.4), "23,105");
        assert_eq!(rate(1234567.0), "1,234,567");
        assert_eq!(rate(999.6), "1,000");
        assert_eq!(rate(42.25), "42.2");
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[test]
    fn plain_audit_rows_are_the_size_of_chained_ones() {
        let at = "2026-11-23T09:00:00.123456Z".parse().unwrap();
        let event = audit::event(at);
        let chained = event.clone().sequence(7, gantry_core::audit::GENESIS_HASH);
        let plain = audit::plain_record(event, 7);
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

    #[test]
    fn generated_specs_are_valid() {
        for spec in [
            fanout_spec("bench-shell-1", 10, &json!({ "run": "true" })),
            fanout_spec(
                "bench-http-1",
                3,
                &json!({ "http": { "method": "GET", "url": "http://127.0.0.1:9/" } }),
            ),
            chain_spec("bench-chain", 40),
        ] {
            gantry_core::spec::parse(&spec.to_string()).unwrap_or_else(|e| panic!("{spec}: {e}"));
        }
    }
}
