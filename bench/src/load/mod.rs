//! Requests under load (issue 20's API, page and trigger goals): a
//! `gantry serve` built in this process, with 4 worker slots, on a
//! database of 100 workflows and 1,000 finished runs, driven by
//! `--load-connections` (50) kept-alive connections for `--load-seconds`
//! (10) per phase, one request class per phase:
//!
//! 1. the raw baseline: a bare axum handler on its own loopback port
//!    answering the bytes the runs list answers (what the HTTP stack and
//!    this load generator cost, sharing the machine's two cores with it);
//! 2. the runs list, `GET /api/v1/runs`, with a viewer token;
//! 3. the Runs page, `GET /runs`, with a dev session;
//! 4. triggers, `POST /api/v1/workflows/{name}/runs`, with an operator
//!    token, while the server's worker runs what they start (a one-step
//!    shell workflow).
//!
//! After the triggers it waits for every run they started to finish and
//! checks each finished once: succeeded, its one step on its first
//! attempt. Anything but the expected status is an error, counted.

mod report;

use crate::alerts::sql::{RawPool, with_pool};
use crate::database::Database;
use crate::large::{dev_session, runs};
use crate::served::Served;
use crate::stats::Percentiles;
use crate::{Args, ENVIRONMENT};
use anyhow::{Result, bail, ensure};
use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::{Method, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use report::{print_markdown, print_text};

/// Runs in the database before the phases.
const HISTORY: usize = 1_000;
/// Untimed requests per connection before each phase.
const WARM_UP: usize = 5;
/// How long the triggered runs may take to finish after the phase.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// One phase's figures.
#[derive(Debug, Clone)]
pub struct Phase {
    pub label: &'static str,
    pub requests: usize,
    /// Answered 429 with `Retry-After`: backpressure (too many unfinished
    /// runs) doing its job, not an error.
    pub refused: usize,
    pub errors: usize,
    pub seconds: f64,
    pub latency: Percentiles,
}

impl Phase {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::EPSILON)
    }
}

#[derive(Debug, Clone)]
pub struct LoadFigures {
    pub database: String,
    pub connections: usize,
    pub phases: Vec<Phase>,
    /// Runs the trigger phase started, and of them how many finished once
    /// (succeeded, one attempt) within the drain limit.
    pub triggered: usize,
    pub finished_once: usize,
    /// Seconds from the end of the trigger phase until the last finished.
    pub drain_seconds: f64,
}

/// One request of a phase, built per connection.
#[derive(Clone)]
struct Shape {
    method: Method,
    url: String,
    /// `Authorization` or `Cookie` header.
    header: (reqwest::header::HeaderName, String),
    body: Option<String>,
    expect: StatusCode,
}

/// The section on `db` (see the module comment).
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<LoadFigures> {
    ensure!(
        args.load_connections > 0,
        "--load-connections must be positive"
    );
    let served = Served::start(
        &db.url,
        dir,
        ENVIRONMENT,
        &[
            "--dev",
            "--no-demo",
            "--worker-slots",
            "4",
            "--rate-limit",
            "read=off",
            "--rate-limit",
            "trigger=off",
        ],
    )
    .await?;
    let engine = served.engine(dir)?;
    let active = runs::workflows(&engine, &served).await?;
    let pool = RawPool::open(db).await?;
    runs::seed(
        &pool,
        &active,
        HISTORY,
        Utc::now(),
        &mut StdRng::seed_from_u64(22),
    )
    .await?;
    let viewer = engine.role_token("load-viewer", "viewer").await?;
    let operator = engine.role_token("load-operator", "operator").await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = dev_session(&http, &served.url, "viewer").await?;
    let bearer = |t: &str| (reqwest::header::AUTHORIZATION, format!("Bearer {t}"));
    let list = Shape {
        method: Method::GET,
        url: format!("{}/api/v1/runs", served.url),
        header: bearer(&viewer),
        body: None,
        expect: StatusCode::OK,
    };
    let listed = http
        .get(&list.url)
        .header(list.header.0.clone(), &list.header.1)
        .send()
        .await?
        .bytes()
        .await?;
    let raw = bare_server(listed.to_vec()).await?;

    let connections = args.load_connections;
    let seconds = Duration::from_secs(args.load_seconds);
    let mut phases = Vec::new();
    let raw_shape = Shape {
        url: raw.clone(),
        ..list.clone()
    };
    phases.push(
        drive(
            "raw: a bare handler, same bytes",
            &[raw_shape],
            connections,
            seconds,
        )
        .await?
        .0,
    );
    phases.push(
        drive("API runs list (token)", &[list], connections, seconds)
            .await?
            .0,
    );
    let page = Shape {
        method: Method::GET,
        url: format!("{}/runs", served.url),
        header: (reqwest::header::COOKIE, cookie),
        body: None,
        expect: StatusCode::OK,
    };
    phases.push(
        drive("Runs page (session)", &[page], connections, seconds)
            .await?
            .0,
    );
    // Each connection triggers a workflow of its own, as many teams would.
    let triggers: Vec<Shape> = active
        .iter()
        .map(|a| Shape {
            method: Method::POST,
            url: format!("{}/api/v1/workflows/{}/runs", served.url, a.workflow),
            header: bearer(&operator),
            body: Some(format!(r#"{{"environment":"{ENVIRONMENT}"}}"#)),
            expect: StatusCode::CREATED,
        })
        .collect();
    let (phase, bodies) = drive(
        "trigger (token), the engine running the runs",
        &triggers,
        connections,
        seconds,
    )
    .await?;
    phases.push(phase);
    let ids: Vec<String> = bodies
        .iter()
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let drained = Instant::now();
    let finished_once = wait_for_runs(&pool, &ids).await?;
    let drain_seconds = drained.elapsed().as_secs_f64();
    pool.close().await;
    served.stop().await;
    Ok(LoadFigures {
        database: db.version().await?,
        connections,
        phases,
        triggered: ids.len(),
        finished_once,
        drain_seconds,
    })
}

/// `shapes` (connection `i` sends the `i`-th, round the list) from
/// `connections` kept-alive connections for `duration` (after a few
/// untimed requests each); the phase and, for a POST, the bodies of the
/// timed answers that had the expected status (the triggers' runs).
async fn drive(
    label: &'static str,
    shapes: &[Shape],
    connections: usize,
    duration: Duration,
) -> Result<(Phase, Vec<axum::body::Bytes>)> {
    let start = tokio::sync::Barrier::new(connections + 1);
    let start = Arc::new(start);
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let shape = shapes[i % shapes.len()].clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            // A client each: one connection each, kept alive.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            // Reads warm up; a trigger's warm-up would start untracked runs.
            if shape.method == Method::GET {
                for _ in 0..WARM_UP {
                    send(&http, &shape).await?;
                }
            }
            start.wait().await;
            let deadline = Instant::now() + duration;
            let mut latencies = Vec::new();
            let mut bodies = Vec::new();
            let (mut refused, mut errors) = (0, 0);
            while Instant::now() < deadline {
                let began = Instant::now();
                match send(&http, &shape).await {
                    Ok(Sent::Refused) => refused += 1,
                    Ok(Sent::Answered(body)) => {
                        latencies.push(began.elapsed().as_secs_f64() * 1000.0);
                        if shape.method == Method::POST {
                            bodies.push(body);
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            anyhow::Ok((latencies, bodies, refused, errors))
        }));
    }
    start.wait().await;
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut bodies = Vec::new();
    let (mut refused, mut errors) = (0, 0);
    for task in tasks {
        let (l, b, r, e) = task.await??;
        latencies.extend(l);
        bodies.extend(b);
        refused += r;
        errors += e;
    }
    let seconds = began.elapsed().as_secs_f64();
    ensure!(!latencies.is_empty(), "{label}: no request succeeded");
    let phase = Phase {
        label,
        requests: latencies.len() + refused + errors,
        refused,
        errors,
        seconds,
        latency: Percentiles::of(&latencies),
    };
    Ok((phase, bodies))
}

/// How a request was answered, short of an error.
enum Sent {
    /// With the expected status; the body.
    Answered(axum::body::Bytes),
    /// 429 with `Retry-After`.
    Refused,
}

/// One request; an error when the status is neither the expected one nor
/// a refusal with `Retry-After`.
async fn send(http: &reqwest::Client, shape: &Shape) -> Result<Sent> {
    let mut request = http
        .request(shape.method.clone(), &shape.url)
        .header(shape.header.0.clone(), &shape.header.1);
    if let Some(body) = &shape.body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    let resp = request.send().await?;
    let status = resp.status();
    let retry_after = resp.headers().contains_key(reqwest::header::RETRY_AFTER);
    let body = resp.bytes().await?;
    if status == StatusCode::TOO_MANY_REQUESTS && retry_after {
        return Ok(Sent::Refused);
    }
    if status != shape.expect {
        bail!("{} answered {status}", shape.url);
    }
    Ok(Sent::Answered(body))
}

/// A bare axum handler answering `body` as JSON, on its own loopback port;
/// its URL. It lives as long as the runtime.
async fn bare_server(body: Vec<u8>) -> Result<String> {
    let body = axum::body::Bytes::from(body);
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Waits (up to [`DRAIN_LIMIT`]) until none of `ids` is queued or running;
/// how many succeeded with their one step on its first attempt.
async fn wait_for_runs(pool: &RawPool, ids: &[String]) -> Result<usize> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        let (open, once) = run_states(pool, ids).await?;
        if open == 0 {
            return Ok(once);
        }
        if Instant::now() > deadline {
            bail!("{open} triggered runs still open after {DRAIN_LIMIT:?}");
        }
        // Polling the database: the runs finish in the server's worker,
        // which this section has no other line to.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Of `ids`: how many are still open, and how many finished once.
async fn run_states(pool: &RawPool, ids: &[String]) -> Result<(usize, usize)> {
    let mut open = 0usize;
    let mut once = 0usize;
    for chunk in ids.chunks(1_000) {
        with_pool!(pool, p => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT r.status, s.status, s.attempt FROM runs r \
                 JOIN run_steps s ON s.run_id = r.id WHERE r.id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            list.push_unseparated(")");
            let rows: Vec<(String, String, i32)> = q.build_query_as().fetch_all(p).await?;
            for (run, step, attempt) in rows {
                match run.as_str() {
                    "queued" | "running" => open += 1,
                    "succeeded" if step == "succeeded" && attempt == 1 => once += 1,
                    _ => {}
                }
            }
        });
    }
    Ok((open, once))
}

/// The section's correctness goal: no errors, and every triggered run
/// finished once.
pub fn checked(figures: &LoadFigures) -> Result<()> {
    let errors: usize = figures.phases.iter().map(|p| p.errors).sum();
    if errors > 0 || figures.finished_once != figures.triggered {
        bail!(
            "{} errors; {} of {} triggered runs finished once",
            errors,
            figures.finished_once,
            figures.triggered
        );
    }
    Ok(())
}
