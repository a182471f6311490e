//! Reads on a large database (issue 20): the runs list, filtered and
//! paged, a run's detail and the two dashboard pages that show them, over
//! loopback from a `gantry serve` built in this process, first with a
//! small history and then with `--large-runs` (1,000,000) runs in the
//! same database. The history is bulk-inserted in batches beside the
//! store (how runs got there is not what is measured); PostgreSQL's
//! tables are vacuumed and analyzed after each insert, as autovacuum
//! would.
//!
//! Each request is sent `--large-samples` times, one at a time on a
//! kept-alive connection, the kinds in turn; the API with a viewer
//! token, the pages with a dev session. The goal: every p99 on the large
//! database within twice the small database's.

mod report;

use crate::alerts::sql::{RawPool, SeedRun};
use crate::database::Database;
use crate::harness::Engine;
use crate::served::Served;
use crate::stats::Percentiles;
use crate::{Args, ENVIRONMENT};
use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Duration, Utc};
use gantry_core::port::prelude::*;
use gantry_core::token::NewToken;
use gantry_server::auth::SESSION_COOKIE;
use gantry_server::runtime::clock::SystemClock;
use gantry_server::store::alert_facts::ActiveVersion;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub use report::{print_markdown, print_text};

/// Workflows the history is spread over.
const WORKFLOWS: usize = 100;
/// The small database's history.
const SMALL: usize = 1_000;
/// Runs generated and inserted per batch (bounds the memory seeding uses).
const BATCH: usize = 50_000;
/// How far back the history goes.
const HISTORY_DAYS: i64 = 90;
/// Untimed requests of each kind before the timed ones.
const WARM_UP: usize = 20;

/// One request's latencies on both databases.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub small: Percentiles,
    pub large: Percentiles,
}

impl Row {
    /// Large p99 over small p99.
    pub fn ratio(&self) -> f64 {
        self.large.p99 / self.small.p99.max(f64::EPSILON)
    }
}

#[derive(Debug, Clone)]
pub struct LargeFigures {
    pub database: String,
    pub small_runs: usize,
    pub large_runs: usize,
    pub samples: usize,
    /// Seconds the bulk insert of the large history took.
    pub seed_seconds: f64,
    pub rows: Vec<Row>,
}

/// A request kind: what the dashboard or a CI script asks for.
struct Kind {
    label: &'static str,
    /// Path and query; `{run}` is a run in the middle of the history.
    path: &'static str,
    page: bool,
}

const KINDS: [Kind; 11] = [
    Kind {
        label: "API runs list, newest 50",
        path: "/api/v1/runs",
        page: false,
    },
    Kind {
        label: "API runs list, one workflow",
        path: "/api/v1/runs?workflow=large-007",
        page: false,
    },
    Kind {
        label: "API runs list, failed only",
        path: "/api/v1/runs?status=failed",
        page: false,
    },
    Kind {
        label: "API runs list, needing attention",
        path: "/api/v1/runs?attention=true",
        page: false,
    },
    Kind {
        label: "API runs list, a page from the middle",
        path: "/api/v1/runs?before={run}",
        page: false,
    },
    Kind {
        label: "API run detail",
        path: "/api/v1/runs/{run}",
        page: false,
    },
    Kind {
        label: "Runs page (HTML)",
        path: "/runs",
        page: true,
    },
    Kind {
        label: "run page (HTML)",
        path: "/runs/{run}",
        page: true,
    },
    Kind {
        label: "API workflows list (with each one's last run)",
        path: "/api/v1/workflows",
        page: false,
    },
    Kind {
        label: "Workflows page (HTML)",
        path: "/workflows",
        page: true,
    },
    Kind {
        label: "Overview page (HTML)",
        path: "/",
        page: true,
    },
];

/// The section on `db` (see the module comment).
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<LargeFigures> {
    ensure!(
        args.large_runs > SMALL,
        "--large-runs must be more than {SMALL}"
    );
    let served = Served::start(
        &db.url,
        dir,
        ENVIRONMENT,
        &["--dev", "--no-demo", "--rate-limit", "read=off"],
    )
    .await?;
    let engine = Engine::over(
        served.store.clone(),
        Arc::new(SystemClock),
        dir.join("work"),
    )?;
    let active = workflows(&engine, &served).await?;
    let (plane, ctx) = engine.port();
    let token = plane
        .create_token(
            ctx,
            NewToken {
                name: "bench-large".into(),
                roles: vec![format!("viewer@{ENVIRONMENT}")],
                ..Default::default()
            },
        )
        .await
        .context("making the section's token")?
        .secret;
    let client = Client::signed_in(&served.url, token).await?;
    let pool = RawPool::open(db).await?;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(20);

    let small_ids = seed(&pool, &active, SMALL, now, &mut rng).await?;
    let small = client
        .sample_all(args.large_samples, &middle(&small_ids))
        .await?;

    let started = Instant::now();
    let mut large_ids = small_ids;
    while large_ids.len() < args.large_runs {
        let n = BATCH.min(args.large_runs - large_ids.len());
        large_ids.extend(seed(&pool, &active, n, now, &mut rng).await?);
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let large = client
        .sample_all(args.large_samples, &middle(&large_ids))
        .await?;
    pool.close().await;
    served.stop().await;

    let rows = KINDS
        .iter()
        .zip(small.into_iter().zip(large))
        .map(|(kind, (small, large))| Row {
            label: kind.label.to_owned(),
            small,
            large,
        })
        .collect();
    Ok(LargeFigures {
        database: db.version().await?,
        small_runs: SMALL,
        large_runs: large_ids.len(),
        samples: args.large_samples,
        seed_seconds,
        rows,
    })
}

/// Applies the workflows through the port; their active versions.
async fn workflows(engine: &Engine, served: &Served) -> Result<Vec<ActiveVersion>> {
    for i in 0..WORKFLOWS {
        engine
            .apply(json!({ "name": format!("large-{i:03}"), "steps": [{ "id": "go", "run": "true" }] }))
            .await?;
    }
    let active: Vec<ActiveVersion> = served
        .store
        .active_versions()
        .await?
        .into_iter()
        .filter(|a| a.environment == ENVIRONMENT && a.workflow.starts_with("large-"))
        .collect();
    ensure!(
        active.len() == WORKFLOWS,
        "{} workflows are active",
        active.len()
    );
    Ok(active)
}

/// `n` finished runs at random over the history (one in 20 failed, one in
/// 1,000 cancelled), inserted in one transaction; their ids.
async fn seed(
    pool: &RawPool,
    active: &[ActiveVersion],
    n: usize,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<Vec<String>> {
    let span_ms = HISTORY_DAYS * 24 * 3600 * 1000;
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n {
        let workflow = &active[rng.random_range(0..active.len())];
        let finished = now - Duration::milliseconds(rng.random_range(60_000..span_ms));
        let started = finished - Duration::milliseconds(rng.random_range(1_000..600_000));
        let created = started - Duration::milliseconds(rng.random_range(1..1_000));
        let status = match rng.random_range(0..1_000) {
            0 => "cancelled",
            1..50 => "failed",
            _ => "succeeded",
        };
        runs.push(SeedRun {
            id: run_id(created, rng)?,
            workflow_id: workflow.workflow_id.clone(),
            workflow: workflow.workflow.clone(),
            version: i32::try_from(workflow.version)?,
            status,
            step_status: status,
            scheduled_for: None,
            created_at: created,
            started_at: started,
            finished_at: Some(finished),
        });
    }
    pool.insert_runs(&runs).await?;
    pool.vacuum_analyze().await?;
    Ok(runs.into_iter().map(|r| r.id).collect())
}

/// A time-ordered id like the engine's (UUIDv7 of the creation time).
fn run_id(created: DateTime<Utc>, rng: &mut StdRng) -> Result<String> {
    let micros = u64::try_from(created.timestamp_micros()).context("a run before 1970")?;
    let bytes: [u8; 10] = rng.random();
    let mut id = uuid::Builder::from_unix_timestamp_millis(micros / 1_000, &bytes);
    id.set_variant(uuid::Variant::RFC4122);
    Ok(id.into_uuid().to_string())
}

/// The run in the middle of the history by id (time) order.
fn middle(ids: &[String]) -> String {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted[sorted.len() / 2].clone()
}

/// A kept-alive client with the viewer token and a dev session.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    cookie: String,
}

impl Client {
    async fn signed_in(base: &str, token: String) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let resp = http
            .post(format!("{base}/auth/dev/sign-in"))
            .form(&[("username", "viewer")])
            .send()
            .await?;
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .with_context(|| {
                format!("the dev sign-in set no session cookie ({})", resp.status())
            })?;
        Ok(Self {
            http,
            base: base.to_owned(),
            token,
            cookie,
        })
    }

    /// One request; its latency in ms. Anything but 200 is an error.
    async fn once(&self, kind: &Kind, run: &str) -> Result<f64> {
        let url = format!("{}{}", self.base, kind.path.replace("{run}", run));
        let start = Instant::now();
        let request = self.http.get(&url);
        let request = match kind.page {
            true => request.header(reqwest::header::COOKIE, &self.cookie),
            false => request.bearer_auth(&self.token),
        };
        let resp = request.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if status != reqwest::StatusCode::OK {
            bail!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(ms)
    }

    /// Every kind `samples` times, the kinds in turn; percentiles per kind.
    async fn sample_all(&self, samples: usize, run: &str) -> Result<Vec<Percentiles>> {
        for kind in &KINDS {
            for _ in 0..WARM_UP {
                self.once(kind, run).await?;
            }
        }
        let mut taken = vec![Vec::with_capacity(samples); KINDS.len()];
        for _ in 0..samples {
            for (kind, out) in KINDS.iter().zip(&mut taken) {
                out.push(self.once(kind, run).await?);
            }
        }
        Ok(taken.iter().map(|t| Percentiles::of(t)).collect())
    }
}
