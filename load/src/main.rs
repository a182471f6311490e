//! `gantry-load`: `make load` and `make soak` (issue 21).
//!
//! Starts real `gantry` processes on 127.0.0.1, one topology at a time:
//! `gantry serve` on SQLite, `gantry serve` on PostgreSQL, and two
//! `gantry serve` plus a `gantry worker` on one PostgreSQL database. Then
//! `--clients` simulated users send a realistic mix ([`mix`]): the Runs
//! page and run pages with a session cookie, API reads with tokens,
//! triggers of short workflows, four-eyes approvals, cancels and SCIM
//! lookups.
//!
//! - `load` sends as fast as answers come back for `--duration` and
//!   reports requests/s and p50/p95/p99 per request class.
//! - `soak` sends at a steady `--rate` for `--duration`, samples every
//!   process's memory and open files, the database connections, the SQLite
//!   WAL and the queue depth, fails on a growing trend and plots each series
//!   as SVG.
//!
//! Both end with the same checks ([`check`]): no errors, every run the load
//! started reached the state it should once (no run or step twice, none
//! lost), and `gantry audit verify` passes. Reports go to `--out`.
//!
//! Black-box on purpose: HTTP and the `gantry` command line only.

mod check;
mod cluster;
mod mix;
mod plot;
mod record;
mod report;
mod setup;
mod soak;
mod trend;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cluster::Topology;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "gantry-load",
    about = "A mixed workload against real gantry processes: latency per request class, correctness afterwards, resource trends"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// As fast as answers come back: requests/s and latency per request class.
    Load(LoadArgs),
    /// At a steady rate: memory, files, connections, WAL and queue depth over time.
    Soak(SoakArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// The `gantry` binary to start (a release build measures what ships).
    #[arg(long, value_name = "PATH", default_value = "target/release/gantry")]
    gantry: PathBuf,

    /// Topology to run (repeatable). Default: all three, the PostgreSQL ones
    /// only when an admin URL is set.
    #[arg(long = "topology", value_enum)]
    topologies: Vec<TopologyArg>,

    /// A PostgreSQL URL allowed to CREATE DATABASE: each topology gets a
    /// fresh database, dropped afterwards. `scripts/with-postgres.sh` sets it.
    #[arg(
        long,
        env = "GANTRY_TEST_POSTGRES_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    postgres_admin_url: Option<String>,

    /// Simulated users, each with a kept-alive connection of its own.
    #[arg(long, value_name = "N", default_value_t = 50)]
    clients: usize,

    /// Where reports, plots and the processes' logs go.
    #[arg(long, value_name = "DIR", default_value = "target/load")]
    out: PathBuf,

    /// Seeds each client's choice of requests (replayable mixes).
    #[arg(long, value_name = "N", default_value_t = 21)]
    seed: u64,
}

#[derive(Debug, Args)]
struct LoadArgs {
    #[command(flatten)]
    common: Common,

    /// How long the load runs per topology.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,

    /// Also print the tables as Markdown (for docs/benchmarks.md).
    #[arg(long)]
    markdown: bool,
}

#[derive(Debug, Args)]
struct SoakArgs {
    #[command(flatten)]
    common: Common,

    /// How long the steady load runs per topology.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = humantime::parse_duration)]
    duration: Duration,

    /// Requests per second, all clients together.
    #[arg(long, value_name = "N", default_value_t = 100)]
    rate: u32,

    /// How often the resources are sampled.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    sample_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TopologyArg {
    Sqlite,
    Postgres,
    PostgresCluster,
}

impl Common {
    /// The topologies asked for, each with what it needs checked up front.
    fn topologies(&self) -> Result<Vec<Topology>> {
        if self.clients == 0 {
            bail!("--clients must be at least 1");
        }
        if !self.gantry.is_file() {
            bail!(
                "{} is not a file: build it with 'cargo build --release -p gantry-server' or pass --gantry",
                self.gantry.display()
            );
        }
        let asked = if self.topologies.is_empty() {
            let mut all = vec![TopologyArg::Sqlite];
            if self.postgres_admin_url.is_some() {
                all.extend([TopologyArg::Postgres, TopologyArg::PostgresCluster]);
            }
            all
        } else {
            self.topologies.clone()
        };
        asked
            .into_iter()
            .map(|t| match (t, &self.postgres_admin_url) {
                (TopologyArg::Sqlite, _) => Ok(Topology::Sqlite),
                (TopologyArg::Postgres, Some(url)) => Ok(Topology::Postgres {
                    admin_url: url.clone(),
                    serves: 1,
                    worker: false,
                }),
                (TopologyArg::PostgresCluster, Some(url)) => Ok(Topology::Postgres {
                    admin_url: url.clone(),
                    serves: 2,
                    worker: true,
                }),
                (_, None) => bail!(
                    "the PostgreSQL topologies need --postgres-admin-url (or GANTRY_TEST_POSTGRES_URL; scripts/with-postgres.sh sets it)"
                ),
            })
            .collect()
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().mode {
        Mode::Load(args) => {
            let topologies = args.common.topologies()?;
            let mut failed = Vec::new();
            for topology in topologies {
                let outcome = mix::load(&topology, &args.common, args.duration).await?;
                report::print_load(&outcome, args.markdown);
                report::write_load(&outcome, &args.common.out)?;
                if !outcome.problems().is_empty() {
                    failed.push(topology.label());
                }
            }
            if !failed.is_empty() {
                bail!("load failed on {}", failed.join(", "));
            }
        }
        Mode::Soak(args) => {
            if args.rate == 0 || args.sample_every.is_zero() {
                bail!("--rate and --sample-every must be positive");
            }
            let topologies = args.common.topologies()?;
            let mut failed = Vec::new();
            for topology in topologies {
                let outcome = soak::soak(
                    &topology,
                    &args.common,
                    args.duration,
                    args.rate,
                    args.sample_every,
                )
                .await?;
                report::print_soak(&outcome);
                report::write_soak(&outcome, &args.common.out)?;
                if !outcome.problems().is_empty() {
                    failed.push(topology.label());
                }
            }
            if !failed.is_empty() {
                bail!("soak failed on {}", failed.join(", "));
            }
        }
    }
    Ok(())
}
