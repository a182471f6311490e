//! `gantry`: the single binary.

use clap::Parser;
use gantry_server::cli::client;
use gantry_server::cli::{Cli, Command};
use gantry_server::engine::remote::RemoteSource;
use gantry_server::engine::{Worker, WorkerSettings, worker_id};
use gantry_server::runtime::clock::SystemClock;
use gantry_server::runtime::telemetry;
use gantry_server::secrets::SecretSettings;
use gantry_server::startup::Application;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// jemalloc instead of glibc's malloc: under 50 connections glibc's
/// allocator was a fifth of the server's CPU (its arenas consolidating the
/// freed buffers of rendered pages and decoded rows), see
/// docs/benchmarks.md.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // A step's supervisor confines itself before any thread exists, so it
    // runs before (and without) the multi-threaded runtime.
    if std::env::args_os().nth(1).is_some_and(|a| a == "step-exec") {
        return gantry_server::engine::sandbox::supervisor::main();
    }
    // `serve` and `worker` keep no credential in /proc/PID/{environ,cmdline}.
    let recovered = gantry_server::runtime::hardening::scrub(
        std::env::args_os().collect(),
        gantry_server::cli::secret_args,
    );
    let secret_env = recovered.env;
    let argv = match gantry_server::cli::settings::file::expand_with(recovered.argv, |name| {
        secret_env
            .get(name)
            .cloned()
            .or_else(|| std::env::var_os(name))
    }) {
        Ok(argv) => argv,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(argv);
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("gantry: cannot start the async runtime: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Worker(args) => worker(*args).await,
        Command::Apply(args) => client::apply(args).await,
        Command::Run(args) => client::run(args).await,
        Command::Runs(args) => client::runs(args).await,
        Command::Logs(args) => client::logs(args).await,
        Command::Cancel(args) => client::cancel(args).await,
        Command::Secrets(command) => client::secrets(command).await,
        Command::Schedule(args) => client::schedule(args).await,
        Command::Approvals(args) => client::approvals(args).await,
        Command::Approve(args) => client::decide(args, true).await,
        Command::Reject(args) => client::decide(args, false).await,
        Command::Promote(args) => client::promote(args).await,
        Command::Promotions(args) => client::promotions(args).await,
        Command::Promotion(command) => client::promotion(command).await,
        Command::Rollback(args) => client::rollback(args).await,
        Command::Deployments(args) => client::deployments(args).await,
        Command::Export(args) => client::export(args).await,
        Command::Import(args) => client::import(args).await,
        Command::Audit(command) => gantry_server::cli::audit::run(command).await,
        Command::Backup(args) => gantry_server::cli::backup::run(args).await,
        Command::Token(command) => gantry_server::cli::token::run(command).await,
        Command::Slo(command) => gantry_server::cli::slo::run(command),
        Command::StepExec => gantry_server::engine::sandbox::supervisor::main(),
    }
}

/// A worker-only process: leases steps from a server's execution API with
/// a worker token; it holds no database credential.
async fn worker(args: gantry_server::cli::WorkerArgs) -> ExitCode {
    gantry_server::runtime::hardening::make_undumpable();
    let _telemetry = match telemetry::init(
        args.log_format
            .map(telemetry::LogFormat::from)
            .unwrap_or(telemetry::LogFormat::Json),
        &args.log,
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let token = match std::fs::read_to_string(&args.token_file) {
        Ok(t)
            if t.trim()
                .starts_with(gantry_server::plane::tokens::TOKEN_PREFIX) =>
        {
            t.trim().to_owned()
        }
        Ok(_) => {
            eprintln!(
                "gantry: invalid configuration: --token-file (GANTRY_WORKER_TOKEN_FILE): the file holds no Gantry token (gantry_…)"
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!(
                "gantry: invalid configuration: --token-file (GANTRY_WORKER_TOKEN_FILE): cannot read {}: {e}",
                args.token_file.display()
            );
            return ExitCode::from(2);
        }
    };
    let mut settings = WorkerSettings::from_flags(worker_id(0), &args.worker);
    // A worker may resolve secret references with its own provider
    // credentials (a prod-only Vault role on prod workers).
    let secrets = match SecretSettings::from_flags(&args.worker.secrets, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    // The worker token's file is a credential: no step may read it, nor
    // what secrets are fetched with.
    let mut protected = gantry_server::engine::sandbox::protected_paths(
        &args.worker.work_dir,
        None,
        &[Some(args.token_file.as_path())],
    );
    protected.extend(secrets.protected_paths());
    settings.secrets = match secrets.build().await {
        Ok(p) => std::sync::Arc::new(p),
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    settings.sandbox = match gantry_server::engine::sandbox::StepSandbox::from_flags(
        &args.worker.sandbox,
        &protected,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    gantry_server::startup::log_isolation(&settings.sandbox.isolation());
    gantry_server::startup::warn_if_work_dir_unreachable(&settings.sandbox, &args.worker.work_dir);
    let instance = settings.id.clone();
    let source = match RemoteSource::new(&args.server, token, instance) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "Gantry worker {} started ({} slots) against {}",
        settings.id, settings.slots, args.server
    );
    let metrics =
        match gantry_server::runtime::metrics::Metrics::bind_worker(args.metrics_bind).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!(
                    "gantry: cannot listen for metrics (--metrics-bind, GANTRY_METRICS_BIND): {e}"
                );
                return ExitCode::from(2);
            }
        };
    if let Some(addr) = metrics.addr() {
        println!("Gantry worker metrics on http://{addr}/metrics");
    }
    let stop = CancellationToken::new();
    let metrics = metrics.serve(stop.clone());
    let w = Arc::new(Worker::with_source(
        Arc::new(source),
        Arc::new(SystemClock),
        settings,
    ));
    let running = tokio::spawn(w.run(stop.clone()));
    shutdown_signal().await;
    stop.cancel();
    let _ = running.await;
    for task in metrics {
        let _ = task.await;
    }
    ExitCode::SUCCESS
}

async fn serve(args: gantry_server::cli::ServeArgs) -> ExitCode {
    gantry_server::runtime::hardening::make_undumpable();
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = match telemetry::init(config.log_format, &config.log_filter) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    gantry_server::http::request_span::set_sample_rate(config.log_request_sample);
    let dev = config.dev;
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            // `{:#}` prints the context chain on one line.
            eprintln!("gantry: cannot start: {e:#}");
            return ExitCode::from(1);
        }
    };
    if let Some(token) = &app.new_bootstrap_token {
        println!("Bootstrap API token (admin everywhere; shown once, store it now): {token}");
        println!(
            "  use it as GANTRY_TOKEN for the CLI, or set GANTRY_BOOTSTRAP_TOKEN to choose your own"
        );
    }
    let url = format!("http://{}", app.local_addr());
    println!(
        "Gantry is listening on {url}{}",
        if dev { " (dev mode)" } else { "" }
    );
    tracing::info!(%url, dev, "listening");
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gantry: server error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
