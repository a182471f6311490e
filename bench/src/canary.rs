//! What a live canary costs a run's start (issue 15's done-when): trigger →
//! first step start with a canary at 50 % beside the same workflow shape
//! without one, in the same run, on the same database.
//!
//! Every admission reads the live canary of its workflow × environment (one
//! SELECT by `(workflow_id, environment)`, a partial unique index); with one
//! live it picks the side by weight, and a canary-side run reads the
//! canary's spec as well. Both workflows here pay the SELECT; only one
//! finds a canary, so the difference is what a live canary adds.
//!
//! Set up through the port as a user would: environments `dev,prod`, prod's
//! policy without approvals, two single-step workflows promoted into prod,
//! then a canary plan on prod (one step at 50 %, with more `min_runs` and
//! `min_time` than the measurement lasts, so it never advances, passes or
//! pauses) and a second version of one of them promoted, which starts its
//! canary. The scheduler and the promotion gate run throughout, as in
//! `serve`. Samples alternate between the two workflows one at a time (the
//! order flipping every pair, ABBA), so drift and bursts of load from
//! elsewhere land on both alike; their differences come with a 90 %
//! interval from a paired bootstrap over blocks of consecutive pairs.

use crate::database::Database;
use crate::harness::{Engine, RUN_TIMEOUT, StartSample};
use crate::overhead::{LIMIT_PERCENT, Overhead, Verdict};
use crate::stats::{Difference, Percentiles, Spread, paired_difference};
use crate::workload::{fanout_spec, shell_step};
use crate::{Args, POOL_CONNECTIONS};
use anyhow::{Result, anyhow, bail, ensure};
use gantry_core::canary::{Canary, CanaryState};
use gantry_core::port::CanaryFilter;
use gantry_core::port::prelude::*;
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::ledger::DeploymentKind;
use gantry_core::promotion::view::{PromotionAsk, PromotionOutcome};
use gantry_server::engine::Scheduler;
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::store::{self, DatabaseUrl};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const ENVIRONMENTS: &str = "dev,prod";
const TARGET: &str = "prod";
const PLAIN: &str = "bench-no-canary";
const CANARIED: &str = "bench-canary";
/// The canary's share of admissions.
pub const WEIGHT: u8 = 50;
/// Untimed runs of each workflow before the timed ones (spec caches, both
/// versions, connections).
const WARM_UP: usize = 5;

/// One side's trigger → first step start, ms.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    pub start: Percentiles,
    pub p95: f64,
}

impl Side {
    fn of(samples: &[f64]) -> Self {
        Self {
            start: Percentiles::of(samples),
            p95: Spread::of(samples).p95,
        }
    }
}

/// Everything the section measured on one database.
#[derive(Debug, Clone)]
pub struct CanaryFigures {
    pub database: String,
    pub without: Side,
    pub with: Side,
    /// The canary workflow's samples by the side they ran: stable's
    /// version, and the canary's (which also read the canary's spec).
    pub stable_arm: Side,
    pub canary_arm: Side,
    pub p50: Difference,
    pub p95: Difference,
    pub p99: Difference,
    /// The p99 difference in percent of "without", judged like the
    /// metrics and tracing overhead.
    pub p99_percent: Overhead,
    /// Timed samples per side, and the blocks the bootstrap resamples.
    pub samples: usize,
    pub blocks: usize,
    /// Of the canary workflow's timed runs, those on the canary's version.
    pub canary_runs: usize,
    pub elapsed: Duration,
}

impl CanaryFigures {
    /// `Err` when the p99 cost of a live canary is over the limit beyond
    /// the noise.
    pub fn verdict(&self) -> Result<()> {
        if self.p99_percent.verdict() == Verdict::Over {
            bail!(
                "a live canary adds {} to trigger → first step start p99 ({}), with the limit {LIMIT_PERCENT} %",
                self.p99_percent.describe(),
                self.p99.describe()
            );
        }
        Ok(())
    }
}

/// The section on `db`, fresh and of its own.
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<CanaryFigures> {
    let began = Instant::now();
    let url = DatabaseUrl::parse(&db.url).map_err(|e| anyhow!(e))?;
    let store = store::connect(&url, POOL_CONNECTIONS).await?;
    store.migrate().await?;
    store.listen_for_work().await?;
    let database = db.version().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Arc::new(Engine::in_environments(
        store.clone(),
        clock.clone(),
        dir.join("work"),
        ENVIRONMENTS,
    )?);
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(Scheduler::new(store.clone(), clock.clone()).run(stop.clone()));
    let gate = tokio::spawn(promotion_gate(engine.clone(), stop.clone()));

    let result = async {
        let canary = start_canary(&engine).await?;
        let worker = engine.start_worker(args.slots, "canary");
        let samples = sample(&engine, args).await;
        worker.stop().await;
        let samples = samples?;
        // The canary must have stayed as it started for the figures to mean
        // anything.
        let now = live_canary(&engine).await?;
        ensure!(
            now.id == canary.id && now.state == CanaryState::Running && now.weight == WEIGHT,
            "the canary changed during the measurement: {:?} at {} % ({:?})",
            now.state,
            now.weight,
            now.why
        );
        Ok::<_, anyhow::Error>(samples)
    }
    .await;
    stop.cancel();
    let _ = tokio::join!(scheduler, gate);
    let Samples {
        without,
        with,
        canary_version,
    } = result?;

    let pool = |side: &[Vec<StartSample>], keep: &dyn Fn(&StartSample) -> bool| -> Vec<f64> {
        side.iter()
            .flatten()
            .filter(|s| keep(s))
            .map(|s| s.to_start)
            .collect()
    };
    let all = |_: &StartSample| true;
    let on_canary = |s: &StartSample| s.version == canary_version;
    let on_stable = |s: &StartSample| s.version != canary_version;
    let without_ms: Vec<Vec<f64>> = without
        .iter()
        .map(|b| b.iter().map(|s| s.to_start).collect())
        .collect();
    let with_ms: Vec<Vec<f64>> = with
        .iter()
        .map(|b| b.iter().map(|s| s.to_start).collect())
        .collect();
    let canary_runs = pool(&with, &on_canary).len();
    Ok(CanaryFigures {
        database,
        without: Side::of(&pool(&without, &all)),
        with: Side::of(&pool(&with, &all)),
        stable_arm: Side::of(&pool(&with, &on_stable)),
        canary_arm: Side::of(&pool(&with, &on_canary)),
        p50: paired_difference(&without_ms, &with_ms, |s| Percentiles::of(s).p50),
        p95: paired_difference(&without_ms, &with_ms, |s| Spread::of(s).p95),
        p99: paired_difference(&without_ms, &with_ms, |s| Percentiles::of(s).p99),
        p99_percent: crate::overhead::p99_overhead(&without_ms, &with_ms),
        samples: without_ms.iter().map(Vec::len).sum(),
        blocks: without_ms.len(),
        canary_runs,
        elapsed: began.elapsed(),
    })
}

/// The promotion gate's pass every 2 s, as `serve` runs it.
async fn promotion_gate(engine: Arc<Engine>, stop: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(2));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (plane, _) = engine.port();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = plane.advance_promotions().await {
            tracing::warn!(error = %e, "could not advance pending promotions");
        }
        if let Err(e) = plane.advance_canaries().await {
            tracing::warn!(error = %e, "could not judge the live canaries");
        }
    }
}

fn policy(value: serde_json::Value) -> Result<EnvironmentPolicy> {
    Ok(serde_json::from_value(value)?)
}

/// Both workflows active in prod, then prod's canary plan and a second
/// version of one of them promoted: its canary, live at [`WEIGHT`].
async fn start_canary(engine: &Engine) -> Result<Canary> {
    let (plane, ctx) = engine.port();
    plane
        .set_environment_policy(
            ctx,
            TARGET,
            policy(json!({ "required_approvals": 0, "step_up": true, "checklist": [] }))?,
        )
        .await?;
    for name in [PLAIN, CANARIED] {
        engine.apply(fanout_spec(name, 1, &shell_step())).await?;
        promote(engine, name, DeploymentKind::Promotion).await?;
    }
    plane
        .set_environment_policy(
            ctx,
            TARGET,
            policy(json!({
                "required_approvals": 0,
                "step_up": true,
                "checklist": [],
                "canary": {
                    "steps": [{
                        "weight": WEIGHT,
                        "min_runs": 100_000,
                        "min_time": "29d",
                        "time_limit": "30d"
                    }],
                    "analysis": { "max_slowdown": null }
                }
            }))?,
        )
        .await?;
    // The same shape: one no-op shell step, named so it is a new version.
    let mut v2 = shell_step();
    v2["name"] = json!("version 2");
    engine.apply(fanout_spec(CANARIED, 1, &v2)).await?;
    promote(engine, CANARIED, DeploymentKind::Canary).await?;
    let canary = live_canary(engine).await?;
    ensure!(
        canary.weight == WEIGHT && canary.state == CanaryState::Running,
        "the canary started {:?} at {} %",
        canary.state,
        canary.weight
    );
    Ok(canary)
}

/// Promotes `workflow`'s version active in dev into prod, expecting a
/// deployment of `kind`.
async fn promote(engine: &Engine, workflow: &str, kind: DeploymentKind) -> Result<()> {
    let (plane, ctx) = engine.port();
    let outcome = plane
        .request_promotion(
            ctx,
            workflow,
            PromotionAsk {
                to_environment: TARGET.into(),
                version: None,
                reason: "gantry-bench".into(),
                confirm_rolled_back: false,
            },
        )
        .await?;
    match outcome {
        PromotionOutcome::Promoted { deployment } if deployment.kind == kind => Ok(()),
        PromotionOutcome::Promoted { deployment } => bail!(
            "promoting {workflow} into {TARGET} made a {:?} deployment, not {kind:?}",
            deployment.kind
        ),
        PromotionOutcome::Pending { promotion } => bail!(
            "promoting {workflow} into {TARGET} waits: {:?}",
            promotion.gate
        ),
    }
}

async fn live_canary(engine: &Engine) -> Result<Canary> {
    let (plane, ctx) = engine.port();
    let mut live = plane
        .canaries(
            ctx,
            CanaryFilter {
                workflow: Some(CANARIED.into()),
                environment: Some(TARGET.into()),
                live: true,
            },
        )
        .await?;
    ensure!(
        live.len() == 1,
        "{} live canaries of {CANARIED}",
        live.len()
    );
    Ok(live.remove(0))
}

struct Samples {
    /// Per block, in the order taken.
    without: Vec<Vec<StartSample>>,
    with: Vec<Vec<StartSample>>,
    canary_version: u32,
}

/// `--canary-samples` runs of each workflow, one at a time on an idle
/// worker, alternating, in `--canary-blocks` blocks.
async fn sample(engine: &Engine, args: &Args) -> Result<Samples> {
    let one = |workflow: &'static str| async move {
        // A pause between samples, so each trigger finds the worker waiting
        // (as in the latency figure).
        tokio::time::sleep(Duration::from_millis(20)).await;
        engine.start_latency(workflow, TARGET, RUN_TIMEOUT).await
    };
    let mut versions = Vec::new();
    for _ in 0..WARM_UP {
        one(PLAIN).await?;
        versions.push(one(CANARIED).await?.version);
    }
    let blocks = args.canary_blocks;
    let pairs = args.canary_samples.div_ceil(blocks);
    let mut without = Vec::with_capacity(blocks);
    let mut with = Vec::with_capacity(blocks);
    let mut pair = 0;
    for _ in 0..blocks {
        let mut w = Vec::with_capacity(pairs);
        let mut c = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            if pair % 2 == 0 {
                w.push(one(PLAIN).await?);
                c.push(one(CANARIED).await?);
            } else {
                c.push(one(CANARIED).await?);
                w.push(one(PLAIN).await?);
            }
            pair += 1;
        }
        without.push(w);
        with.push(c);
    }
    versions.extend(with.iter().flatten().map(|s| s.version));
    let canary_version = versions.iter().copied().max().unwrap_or(0);
    ensure!(
        versions.iter().any(|&v| v != canary_version),
        "every run of {CANARIED} took version {canary_version}: no stable side"
    );
    Ok(Samples {
        without,
        with,
        canary_version,
    })
}

fn ms(v: f64) -> String {
    format!("{v:.2} ms")
}

fn side_cells(s: &Side) -> [String; 4] {
    [ms(s.start.p50), ms(s.p95), ms(s.start.p99), ms(s.start.max)]
}

fn rows(f: &CanaryFigures) -> Vec<[String; 5]> {
    let row = |label: String, c: [String; 4]| {
        let [a, b, c, d] = c;
        [label, a, b, c, d]
    };
    let on_canary = f.canary_runs;
    let on_stable = f.samples - on_canary;
    vec![
        row(
            format!("no canary ({} runs)", f.samples),
            side_cells(&f.without),
        ),
        row(
            format!("canary live at {WEIGHT} % ({} runs)", f.samples),
            side_cells(&f.with),
        ),
        row(
            format!("  of which stable's version ({on_stable})"),
            side_cells(&f.stable_arm),
        ),
        row(
            format!("  of which the canary's version ({on_canary})"),
            side_cells(&f.canary_arm),
        ),
        [
            "difference, canary − none [90 % interval]".to_owned(),
            f.p50.describe(),
            f.p95.describe(),
            f.p99.describe(),
            String::new(),
        ],
    ]
}

fn notes(f: &CanaryFigures) -> Vec<String> {
    let measurable: Vec<&str> = [("p50", f.p50), ("p95", f.p95), ("p99", f.p99)]
        .into_iter()
        .filter(|(_, d)| d.measurable())
        .map(|(name, _)| name)
        .collect();
    let mut notes = vec![format!(
        "{} samples per side in {} blocks, alternating one at a time (ABBA), after {WARM_UP} untimed runs each; {:.0} s in all",
        f.samples,
        f.blocks,
        f.elapsed.as_secs_f64()
    )];
    notes.push(format!(
        "p99 difference in percent of no canary: {}",
        f.p99_percent.describe()
    ));
    notes.push(if measurable.is_empty() {
        "no measurable difference: every interval spans zero".to_owned()
    } else {
        format!(
            "measurable at {}: the interval excludes zero",
            measurable.join(", ")
        )
    });
    notes
}

const HEADER: [&str; 5] = ["trigger → first step start", "p50", "p95", "p99", "max"];

pub fn print_text(f: &CanaryFigures) {
    println!();
    println!("== canary admission, {}", f.database);
    let rows = rows(f);
    let header = HEADER.map(str::to_owned);
    let width = |i: usize| {
        rows.iter()
            .chain([&header])
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    for r in [&header].into_iter().chain(rows.iter()) {
        println!(
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        );
    }
    for n in notes(f) {
        println!("  {n}");
    }
}

pub fn print_markdown(f: &CanaryFigures) {
    println!();
    println!("##### Canary admission, {}", f.database);
    println!();
    println!("| {} |", HEADER.join(" | "));
    println!("|---|---:|---:|---:|---:|");
    for r in rows(f) {
        println!("| {} |", r.join(" | ").trim_start());
    }
    println!();
    for n in notes(f) {
        println!("- {n}");
    }
}
