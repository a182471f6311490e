//! What alert evaluation costs on a realistic installation: 1,000
//! workflows and 100,000 finished runs over 30 days (by default), one rule
//! of each kind an installation would have plus the workflows' own, and
//! three figures, each beside a raw baseline of the bare reads it must
//! make, measured in the same run on the same database:
//!
//! - a steady-state pass with an empty inbox (every pass kind judged, the
//!   spec rules synced, time ticked for the open instances);
//! - a pass judging a full batch of 500 runs just finished (the evaluator's
//!   `INBOX_BATCH`), one each of 500 workflows: the costliest shape of a
//!   batch, one history read per run;
//! - a backtest of a consecutive-failures rule over 30 days of every
//!   workflow, through the port.
//!
//! Each database gets a fresh one of its own for this section.

mod baseline;
mod phases;
mod report;
mod rules;
mod seed;
pub mod sql;

use crate::database::Database;
use crate::harness::Engine;
use crate::stats::Spread;
use crate::{Args, POOL_CONNECTIONS};
use anyhow::{Result, anyhow, ensure};
use chrono::Utc;
use gantry_core::alert::Phase;
use gantry_core::port::AlertPort;
use gantry_server::alerting::AlertSettings;
use gantry_server::alerting::evaluator::{EvalContext, Links, evaluate, pass};
use gantry_server::alerting::facts::FactSettings;
use gantry_server::alerting::seal::Sealer;
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::store::{self, DatabaseUrl};
use phases::{INBOX_BATCH, Reads};
use rand::RngCore;
use sql::RawPool;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Untimed batches before the timed ones, so the instances the timed
/// passes move already exist and the caches are warm.
const WARM_UP_BATCHES: u64 = 2;

/// Everything the section measured on one database.
pub struct AlertFigures {
    pub database: String,
    pub workflows: usize,
    /// Finished runs seeded over the last 30 days.
    pub seeded_runs: usize,
    /// Runs in the database at the end (the seeded ones, the runs still
    /// going, and every batch's).
    pub runs_at_end: i64,
    pub rules: usize,
    pub spec_rules: usize,
    /// Instances stored at the end, and how many pending or firing.
    pub instances: usize,
    pub open: usize,
    /// Transitions and notifications the timed batch passes made, and
    /// the transitions of the steady passes (time ticking alone).
    pub transitions: usize,
    pub notifications: usize,
    pub steady_transitions: usize,
    pub apply: Duration,
    pub seed: Duration,
    pub samples: usize,
    pub steady: Spread,
    pub steady_raw: Spread,
    pub steady_reads: Vec<(&'static str, f64)>,
    pub batch: Spread,
    pub batch_raw: Spread,
    pub batch_reads: Vec<(&'static str, f64)>,
    pub backtests: usize,
    pub backtest: Spread,
    pub backtest_raw: Spread,
    /// Runs the backtest replayed, and how often it would have fired.
    pub backtest_runs: u32,
    pub backtest_fired: u32,
}

/// The section on `db` (fresh), with its working files under `dir`.
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<AlertFigures> {
    let url = DatabaseUrl::parse(&db.url).map_err(|e| anyhow!(e))?;
    let store = store::connect(&url, POOL_CONNECTIONS).await?;
    store.migrate().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut key = [0u8; 48];
    rand::rng().fill_bytes(&mut key);
    let alerts = AlertSettings {
        sealer: Some(Arc::new(Sealer::new(&key)?)),
        wake: Default::default(),
    };
    let engine = Engine::with_alerts(store.clone(), clock, dir.join("work"), alerts)?;
    let pool = RawPool::open(db).await?;
    let database = pool.version().await?;
    rules::channel(&engine, &rules::receiver().await?).await?;

    let started = Instant::now();
    let active = seed::workflows(&engine, &store, args.alert_workflows).await?;
    let apply = started.elapsed();
    let started = Instant::now();
    seed::history(&pool, &active, args.alert_runs, Utc::now()).await?;
    seed::sign_in_failures(&store, Utc::now()).await?;
    pool.analyze().await?;
    let seed = started.elapsed();
    let rules = rules::create(&engine).await?;

    let ctx = EvalContext {
        links: Links {
            public_url: "http://127.0.0.1".into(),
        },
        facts: FactSettings::default(),
    };
    // The first pass syncs the spec rules and puts the audit cursor at
    // the head; the warm-up batches make the instances.
    evaluate(&store, Utc::now(), &ctx).await?;
    let batch_size = usize::try_from(INBOX_BATCH)?;
    let mut batches = 0u64;
    for _ in 0..WARM_UP_BATCHES {
        seed::finished_batch(&pool, &active, batch_size, &mut batches).await?;
        evaluate(&store, Utc::now(), &ctx).await?;
    }

    let (mut transitions, mut notifications, mut steady_transitions) = (0, 0, 0);
    let (mut batch, mut batch_raw, mut batch_reads) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.alert_samples {
        seed::finished_batch(&pool, &active, batch_size, &mut batches).await?;
        // The bare reads and the store calls first (they don't consume
        // the inbox), then the pass over the same inbox.
        batch_raw.push(baseline::batch(&pool).await?);
        batch_reads.push(phases::pass_reads(&store, Utc::now()).await?);
        let started = Instant::now();
        let report = pass(&store, Utc::now(), &ctx).await?;
        batch.push(started.elapsed());
        ensure!(
            report.runs_judged == batch_size,
            "a batch pass judged {} runs, not {batch_size}",
            report.runs_judged
        );
        transitions += report.transitions;
        notifications += report.notifications;
    }

    let (mut steady, mut steady_raw, mut steady_reads) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.alert_samples {
        steady_raw.push(baseline::steady(&pool).await?);
        steady_reads.push(phases::pass_reads(&store, Utc::now()).await?);
        let started = Instant::now();
        let report = pass(&store, Utc::now(), &ctx).await?;
        steady.push(started.elapsed());
        ensure!(report.runs_judged == 0, "the inbox was not empty");
        steady_transitions += report.transitions;
    }

    let (plane, admin) = engine.port();
    let (mut backtest, mut backtest_raw) = (Vec::new(), Vec::new());
    let (mut backtest_runs, mut backtest_fired) = (0, 0);
    for _ in 0..args.alert_backtests {
        let since = Utc::now() - chrono::Duration::days(seed::HISTORY_DAYS);
        let (raw, _) = baseline::backtest(&pool, since).await?;
        backtest_raw.push(raw);
        let started = Instant::now();
        let view = plane
            .backtest_alert_rule(admin, rules::backtested()?, 30)
            .await?;
        backtest.push(started.elapsed());
        (backtest_runs, backtest_fired) = (view.runs, view.fired);
        ensure!(
            view.instances.len() == active.len(),
            "the backtest covered {} workflows, not {}",
            view.instances.len(),
            active.len()
        );
    }

    let stored_rules = store.alert_rules().await?;
    let instances = store.alert_instances().await?;
    let runs_at_end = sql::with_pool!(&pool, p => {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs").fetch_one(p).await?;
        n
    });
    pool.close().await;
    Ok(AlertFigures {
        database,
        workflows: active.len(),
        seeded_runs: args.alert_runs,
        runs_at_end,
        rules: stored_rules.len(),
        spec_rules: stored_rules.len() - rules,
        instances: instances.len(),
        open: instances
            .iter()
            .filter(|i| matches!(i.state.phase, Phase::Pending | Phase::Firing))
            .count(),
        transitions,
        notifications,
        steady_transitions,
        apply,
        seed,
        samples: args.alert_samples,
        steady: spread(&steady),
        steady_raw: spread(&steady_raw),
        steady_reads: median_reads(&steady_reads),
        batch: spread(&batch),
        batch_raw: spread(&batch_raw),
        batch_reads: median_reads(&batch_reads),
        backtests: args.alert_backtests,
        backtest: spread(&backtest),
        backtest_raw: spread(&backtest_raw),
        backtest_runs,
        backtest_fired,
    })
}

fn spread(samples: &[Duration]) -> Spread {
    let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    Spread::of(&ms)
}

/// Each read's median over the repetitions, in the order of the first,
/// then the sum of those medians as "all reads".
fn median_reads(all: &[Reads]) -> Vec<(&'static str, f64)> {
    let Some(first) = all.first() else {
        return Vec::new();
    };
    let mut out: Vec<(&'static str, f64)> = first
        .0
        .iter()
        .map(|(name, _)| {
            let v: Vec<f64> = all
                .iter()
                .filter_map(|r| r.0.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms))
                .collect();
            (*name, Spread::of(&v).p50)
        })
        .collect();
    let totals: Vec<f64> = all.iter().map(Reads::total).collect();
    out.push(("all reads together", Spread::of(&totals).p50));
    out
}

pub use report::{print_markdown, print_text};
