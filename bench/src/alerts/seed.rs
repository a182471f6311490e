//! The installation the evaluator is measured over: workflows applied
//! through the port (some with labels, their own `alerts:` or a
//! schedule), a month of finished runs inserted in batches (seeding is not
//! what is measured), a few runs still going, failed sign-ins in the
//! audit log, and batches of runs finished now for the inbox.

use super::sql::{RawPool, SeedRun};
use crate::harness::Engine;
use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, DurationRound, Utc};
use gantry_core::audit::{Actor, AuditAction, AuditEvent, Outcome};
use gantry_server::store::SharedStore;
use gantry_server::store::alert_facts::ActiveVersion;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// The webhook channel every rule sends to.
pub const CHANNEL: &str = "bench-hook";
/// How far back the seeded history goes.
pub const HISTORY_DAYS: i64 = 30;
/// Runs still going, started long ago (what `run_too_long` finds).
const RUNNING: usize = 20;
/// Failed sign-ins in the last minutes (what `auth_failures` counts).
const SIGN_IN_FAILURES: usize = 40;

/// One in 20 workflows fails often; the others rarely.
fn failure_chance(i: usize) -> f64 {
    if i.is_multiple_of(20) { 0.6 } else { 0.03 }
}

/// One in 10 carries `labels: {team: data}`.
pub fn labelled(i: usize) -> bool {
    i % 10 == 3
}

/// One in 50 carries its own rule (`alerts:`).
pub fn own_rules(i: usize) -> bool {
    i % 50 == 1
}

/// One in 50 runs on a schedule (every 15 minutes).
pub fn scheduled(i: usize) -> bool {
    i % 50 == 2
}

pub fn name(i: usize) -> String {
    format!("alert-bench-{i:04}")
}

/// Workflow `i`'s spec: one no-op step, and what the helpers above say.
pub fn spec(i: usize) -> serde_json::Value {
    let mut spec = json!({ "name": name(i), "steps": [{ "id": "go", "run": "true" }] });
    if labelled(i) {
        spec["labels"] = json!({ "team": "data" });
    }
    if scheduled(i) {
        spec["schedule"] = json!("*/15 * * * *");
    }
    if own_rules(i) {
        spec["alerts"] = json!([{
            "name": "failing",
            "kind": "consecutive_failures",
            "threshold": 5,
            "channels": [CHANNEL],
        }]);
    }
    spec
}

/// Applies `n` workflows through the port; their active versions, in
/// workflow order.
pub async fn workflows(
    engine: &Engine,
    store: &SharedStore,
    n: usize,
) -> Result<Vec<ActiveVersion>> {
    for i in 0..n {
        engine.apply(spec(i)).await?;
    }
    let mut active: Vec<ActiveVersion> = store
        .active_versions()
        .await?
        .into_iter()
        .filter(|a| a.environment == crate::ENVIRONMENT)
        .collect();
    active.sort_by(|a, b| a.workflow.cmp(&b.workflow));
    ensure!(
        active.len() == n,
        "{} of {n} workflows are active",
        active.len()
    );
    Ok(active)
}

/// A run of workflow `i` finishing at `finished` (`None`: still going,
/// started at `started`).
fn run(
    active: &ActiveVersion,
    i: usize,
    started: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
    failed: bool,
) -> Result<SeedRun> {
    let created = started - Duration::seconds(1);
    let micros = u64::try_from(created.timestamp_micros()).context("a run before 1970")?;
    let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        micros / 1_000_000,
        u32::try_from(micros % 1_000_000)? * 1_000,
    ));
    let (status, step_status) = match (finished, failed) {
        (None, _) => ("running", "running"),
        (Some(_), true) => ("failed", "failed"),
        (Some(_), false) => ("succeeded", "succeeded"),
    };
    Ok(SeedRun {
        id: id.to_string(),
        workflow_id: active.workflow_id.clone(),
        workflow: active.workflow.clone(),
        version: i32::try_from(active.version)?,
        status,
        step_status,
        scheduled_for: scheduled(i)
            .then(|| created.duration_trunc(Duration::minutes(15)))
            .transpose()?,
        created_at: created,
        started_at: started,
        finished_at: finished,
    })
}

/// `runs` finished runs spread evenly over the workflows and at random
/// over the last [`HISTORY_DAYS`] (5 s to 10 min each), plus a few runs
/// still going for hours; seeded, so every run of the benchmark sees the
/// same history.
pub async fn history(
    pool: &RawPool,
    active: &[ActiveVersion],
    runs: usize,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(18);
    let span_ms = HISTORY_DAYS * 24 * 3600 * 1000;
    let mut all = Vec::with_capacity(runs + RUNNING);
    for k in 0..runs {
        let i = k % active.len();
        let finished = now - Duration::milliseconds(rng.random_range(60_000..span_ms));
        let started = finished - Duration::milliseconds(rng.random_range(5_000..600_000));
        let failed = rng.random_bool(failure_chance(i));
        all.push(run(&active[i], i, started, Some(finished), failed)?);
    }
    for (i, workflow) in active.iter().enumerate().take(RUNNING) {
        let started = now - Duration::minutes(rng.random_range(150..300));
        all.push(run(workflow, i, started, None, false)?);
    }
    pool.insert_runs(&all).await
}

/// Failed sign-ins from a few addresses over the last minutes, through
/// the audit log as the sign-in page writes them.
pub async fn sign_in_failures(store: &SharedStore, now: DateTime<Utc>) -> Result<()> {
    for k in 0..SIGN_IN_FAILURES {
        let at = now - Duration::seconds(i64::try_from(k)? * 10);
        let mut event = AuditEvent::new(at, Actor::anonymous(), AuditAction::SignIn, "session/");
        event.outcome = Outcome::Denied;
        event.source_ip = Some(format!("192.0.2.{}", k % 4));
        store.append_audit(event).await?;
    }
    Ok(())
}

/// Batch number `batch` (counted up): `size` runs finished now, one each
/// of `size` different workflows (the next ones after the last batch's):
/// inserted running, then finished with an UPDATE as the queue finishes
/// them, so the database's trigger fills the inbox.
pub async fn finished_batch(
    pool: &RawPool,
    active: &[ActiveVersion],
    size: usize,
    batch: &mut u64,
) -> Result<()> {
    let first = usize::try_from(*batch)? * size;
    let mut rng = StdRng::seed_from_u64(1_000 + *batch);
    *batch += 1;
    let now = Utc::now();
    let mut runs = Vec::with_capacity(size);
    let mut outcomes = Vec::with_capacity(size);
    for k in 0..size {
        let i = (first + k) % active.len();
        let started = now - Duration::milliseconds(rng.random_range(5_000..600_000));
        let mut r = run(&active[i], i, started, None, false)?;
        r.step_status = "succeeded";
        let failed = rng.random_bool(failure_chance(i));
        outcomes.push((r.id.clone(), if failed { "failed" } else { "succeeded" }));
        runs.push(r);
    }
    pool.insert_runs(&runs).await?;
    pool.finish_runs(&outcomes, Utc::now()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_specs_are_valid_and_mixed() {
        let specs: Vec<_> = (0..100).map(spec).collect();
        for s in &specs {
            gantry_core::spec::parse(&s.to_string()).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        let count = |field: &str| specs.iter().filter(|s| s.get(field).is_some()).count();
        assert_eq!(
            (count("labels"), count("alerts"), count("schedule")),
            (10, 2, 2)
        );
    }
}
