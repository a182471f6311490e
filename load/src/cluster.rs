//! The processes under load: `gantry serve` (one or two) and, in the
//! cluster topology, a `gantry worker`, on 127.0.0.1 ports of their own,
//! over a fresh SQLite file or a fresh PostgreSQL database. Every process
//! is killed when its handle drops, so an error anywhere leaves nothing
//! running.

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::Url;
use sqlx::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The admin token every serve starts with (`--bootstrap-token`); the
/// fixture makes the role tokens the load uses with it.
pub const BOOTSTRAP_TOKEN: &str = "gantry_load-bootstrap-0123456789abcdefghijklmnop";

/// Worker slots of each serve and of the worker (`gantry serve`'s default).
const SLOTS: &str = "4";

/// How long a process may take to answer `/readyz` after its start.
const START_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub enum Topology {
    Sqlite,
    Postgres {
        admin_url: String,
        serves: usize,
        worker: bool,
    },
}

impl Topology {
    pub fn label(&self) -> String {
        match self {
            Topology::Sqlite => "SQLite, one serve".to_owned(),
            Topology::Postgres {
                serves: 1,
                worker: false,
                ..
            } => "PostgreSQL, one serve".to_owned(),
            Topology::Postgres { serves, worker, .. } => format!(
                "PostgreSQL, {serves} serves{}",
                if *worker { " and a worker" } else { "" }
            ),
        }
    }

    /// A file-name-safe name.
    pub fn slug(&self) -> &'static str {
        match self {
            Topology::Sqlite => "sqlite",
            Topology::Postgres { serves: 1, .. } => "postgres",
            Topology::Postgres { .. } => "postgres-cluster",
        }
    }
}

/// A `gantry` process and where it answers.
pub struct Process {
    /// `serve` or `worker` and its number.
    pub name: String,
    pub child: Child,
    /// The main listener (`http://127.0.0.1:PORT`); none for a worker.
    pub url: Option<String>,
    /// `http://127.0.0.1:PORT/metrics`.
    pub metrics: String,
}

impl Process {
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL if it hasn't exited within 20 s.
    async fn stop(mut self) {
        if let Some(pid) = self.pid().and_then(|p| i32::try_from(p).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

/// A topology started: its processes, its database and its folder.
pub struct Cluster {
    pub serves: Vec<Process>,
    pub worker: Option<Process>,
    pub database_url: String,
    /// The SQLite file, for its WAL's size.
    pub sqlite_file: Option<PathBuf>,
    pub dir: PathBuf,
    /// The steps' working folders: under the system's temp folder, which
    /// the user steps run as (`nobody`, when started as root) can reach,
    /// unlike a checkout under `/root`.
    work_root: PathBuf,
    gantry: PathBuf,
    /// The database to drop afterwards (admin URL, name).
    postgres: Option<(String, String)>,
}

impl Cluster {
    /// Starts `topology` with `gantry`, its files under `dir` (made afresh).
    pub async fn start(topology: &Topology, gantry: &Path, dir: &Path) -> Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir.join("site").join("pkg"))
            .with_context(|| format!("cannot make {}", dir.display()))?;
        let gantry = std::fs::canonicalize(gantry)?;
        let dir = std::fs::canonicalize(dir)?;
        let (database_url, sqlite_file, postgres) = match topology {
            Topology::Sqlite => {
                let file = dir.join("gantry.db");
                (format!("sqlite://{}", file.display()), Some(file), None)
            }
            Topology::Postgres { admin_url, .. } => {
                let name = format!("gantry_load_{}", rand::random::<u32>());
                let url = create_database(admin_url, &name).await?;
                (url, None, Some((admin_url.clone(), name)))
            }
        };
        let work_root = std::env::temp_dir().join(format!(
            "gantry-load.{}.{}",
            topology.slug(),
            std::process::id()
        ));
        std::fs::create_dir_all(&work_root)?;
        std::fs::set_permissions(&work_root, std::fs::Permissions::from_mode(0o755))?;
        let mut cluster = Self {
            serves: Vec::new(),
            worker: None,
            database_url,
            sqlite_file,
            dir,
            work_root,
            gantry,
            postgres,
        };
        let (serves, worker) = match topology {
            Topology::Sqlite => (1, false),
            Topology::Postgres { serves, worker, .. } => (*serves, *worker),
        };
        // One after the other: the first applies the migrations.
        for n in 1..=serves {
            let serve = cluster.serve(n).await?;
            cluster.serves.push(serve);
        }
        if worker {
            cluster.worker = Some(cluster.worker().await?);
        }
        Ok(cluster)
    }

    /// The serves' main URLs; client `i` talks to the `i`-th, round the list.
    pub fn urls(&self) -> Vec<String> {
        self.serves.iter().filter_map(|s| s.url.clone()).collect()
    }

    /// The `gantry` binary the processes run.
    pub fn gantry(&self) -> &Path {
        &self.gantry
    }

    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.serves.iter().chain(self.worker.as_ref())
    }

    async fn serve(&self, n: usize) -> Result<Process> {
        let port = free_port()?;
        let metrics_port = free_port()?;
        let work = self.work_root.join(format!("serve-{n}"));
        let args: Vec<String> = [
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--metrics-bind",
            &format!("127.0.0.1:{metrics_port}"),
            "--database-url",
            &self.database_url,
            "--bootstrap-token",
            BOOTSTRAP_TOKEN,
            "--site-root",
            &self.dir.join("site").display().to_string(),
            "--work-dir",
            &work.display().to_string(),
            "--worker-slots",
            SLOTS,
            // Demo users for the pages' session cookies; no demo workflows.
            "--dev",
            "--no-demo",
            // What is measured is capacity, not the per-principal quotas,
            // which have their own tests.
            "--rate-limit",
            "read=off,trigger=off,write=off,scim=off",
            "--log",
            "warn",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let name = format!("serve-{n}");
        let child = self.spawn(&name, &args)?;
        let url = format!("http://127.0.0.1:{port}");
        let process = Process {
            name,
            child,
            url: Some(url.clone()),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
        };
        wait_ready(process, &format!("{url}/readyz")).await
    }

    async fn worker(&self) -> Result<Process> {
        let base = self
            .urls()
            .into_iter()
            .next()
            .context("no serve to lease from")?;
        let token = crate::setup::make_token(
            &reqwest::Client::new(),
            &base,
            serde_json::json!({"name": "load-worker", "worker": true}),
        )
        .await?;
        let token_file = self.dir.join("worker.token");
        std::fs::write(&token_file, token)?;
        let metrics_port = free_port()?;
        let args: Vec<String> = [
            "worker",
            "--server",
            &base,
            "--token-file",
            &token_file.display().to_string(),
            "--work-dir",
            &self.work_root.join("worker").display().to_string(),
            "--worker-slots",
            SLOTS,
            "--metrics-bind",
            &format!("127.0.0.1:{metrics_port}"),
            "--log",
            "warn",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let child = self.spawn("worker", &args)?;
        let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
        let process = Process {
            name: "worker".to_owned(),
            child,
            url: None,
            metrics: metrics.clone(),
        };
        // A worker has no health endpoint: its metrics listener answering
        // means it is up.
        wait_ready(process, &metrics).await
    }

    fn spawn(&self, name: &str, args: &[String]) -> Result<Child> {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))?;
        Command::new(&self.gantry)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.gantry.display()))
    }

    /// Stops every process (worker first) and drops a PostgreSQL database.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
        for serve in std::mem::take(&mut self.serves) {
            serve.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.work_root);
        if let Some((admin_url, name)) = self.postgres.take() {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
        }
        Ok(())
    }
}

/// Polls `url` until it answers 200; fails naming the log if the process
/// exits first or doesn't answer within [`START_LIMIT`]. Polling is the
/// synchronization: the process is outside this one.
async fn wait_ready(mut process: Process, url: &str) -> Result<Process> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if let Some(status) = process.child.try_wait()? {
            bail!(
                "{} exited with {status} while starting: see its log",
                process.name
            );
        }
        if let Ok(resp) = http.get(url).send().await
            && resp.status().is_success()
        {
            return Ok(process);
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not answer {url} within {START_LIMIT:?}",
                process.name
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh database `name` next to the admin URL's; its URL.
async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .context("cannot reach PostgreSQL at the admin URL")?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let mut url = Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// A loopback port free right now (the process binds it a moment later).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
