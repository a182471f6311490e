//! A `gantry serve` built in this process from its command line, on a
//! benchmark's database and on a loopback port of its own, with no worker
//! of its own: what remote workers lease from and what the edge section
//! sends requests to.

use crate::harness::Engine;
use anyhow::{Result, anyhow, bail};
use clap::Parser;
use gantry_server::cli::{Cli, Command};
use gantry_server::runtime::clock::SystemClock;
use gantry_server::startup::Application;
use gantry_server::store::SharedStore;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub struct Served {
    /// `http://127.0.0.1:PORT` (`https://` when `extra` asked for TLS).
    pub url: String,
    pub store: SharedStore,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// `gantry serve` on `database_url` in `environment`, with its site
    /// root and working directory under `dir`, plus the flags in `extra`.
    pub async fn start(
        database_url: &str,
        dir: &Path,
        environment: &str,
        extra: &[&str],
    ) -> Result<Self> {
        let site = dir.join("site");
        let work = dir.join("server-work");
        let mut argv = vec![
            "gantry",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--worker-slots",
            "0",
            "--environments",
            environment,
            "--log",
            "warn",
            "--site-root",
            site.to_str().unwrap_or("site"),
            "--work-dir",
            work.to_str().unwrap_or("work"),
        ];
        argv.extend_from_slice(extra);
        let tls = extra.contains(&"--tls-cert");
        let Command::Serve(args) = Cli::try_parse_from(argv)?.command else {
            bail!("not a serve command");
        };
        let config = args.into_config().map_err(|e| anyhow!("{e}"))?;
        let app = Application::build(config).await?;
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://{}", app.local_addr());
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

    /// A harness over this server's store acting through the port as the
    /// admin (applying workflows, making tokens), its steps' working
    /// directories under `dir`.
    pub fn engine(&self, dir: &Path) -> Result<Engine> {
        Engine::over(self.store.clone(), Arc::new(SystemClock), dir.join("work"))
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}
