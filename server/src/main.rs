//! `gantry`: the single binary.

use clap::Parser;
use gantry_server::cli::{Cli, Command};
use gantry_server::config::Config;
use gantry_server::startup::Application;
use gantry_server::telemetry;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: gantry_server::cli::ServeArgs) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gantry: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, &config.log_filter);
    let dev = config.dev;
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            // `{:#}` prints the context chain on one line.
            eprintln!("gantry: cannot start: {e:#}");
            return ExitCode::from(1);
        }
    };
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
