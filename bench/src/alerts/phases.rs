//! Where a pass's time goes: the store reads the evaluator makes
//! (`server/src/alerting/evaluator.rs`, `facts/`), called one by one with
//! the same arguments and timed, so the report can say what dominates
//! without instrumenting the evaluator. What a pass takes beyond their sum
//! is deciding in memory and the commit.

use anyhow::Result;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::LongTarget;
use gantry_core::alert::{Phase, RuleKind};
use gantry_server::alerting::facts::ActiveSpecs;
use gantry_server::store::SharedStore;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The evaluator's inbox batch (`INBOX_BATCH`) and ratio cap
/// (`RATIO_HISTORY_CAP`).
pub const INBOX_BATCH: u32 = 500;
const RATIO_HISTORY_CAP: u32 = 10_000;

/// Milliseconds per read, by name, in the order a pass makes them;
/// several timings of one name add up.
#[derive(Debug, Default, Clone)]
pub struct Reads(pub Vec<(&'static str, f64)>);

impl Reads {
    async fn time<T, F: std::future::Future<Output = anyhow::Result<T>>>(
        &mut self,
        name: &'static str,
        read: F,
    ) -> Result<T> {
        let started = Instant::now();
        let out = read.await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += ms,
            None => self.0.push((name, ms)),
        }
        Ok(out)
    }

    pub fn total(&self) -> f64 {
        self.0.iter().map(|(_, ms)| ms).sum()
    }
}

/// The reads of a pass at `now` over the inbox as it is: the common ones,
/// each inbox pair's history (a 1 h ratio rule exists, so its window,
/// bounded by the cap), the pass kinds' facts, and the window of every
/// open failure-ratio instance the pass ticks.
pub async fn pass_reads(store: &SharedStore, now: DateTime<Utc>) -> Result<Reads> {
    let mut r = Reads::default();
    let inbox = r
        .time("inbox", async { Ok(store.alert_inbox(INBOX_BATCH).await?) })
        .await?;
    r.time("active versions and specs", ActiveSpecs::load(store))
        .await?;
    let rules = r
        .time("rules", async { Ok(store.alert_rules().await?) })
        .await?;
    r.time("silences", async { Ok(store.silences(now).await?) })
        .await?;
    let instances = r
        .time("instances", async { Ok(store.alert_instances().await?) })
        .await?;
    r.time("channels", async { Ok(store.alert_channels().await?) })
        .await?;
    // Each pair's first and last run in the batch.
    let mut pairs: BTreeMap<(String, String), (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for run in inbox.iter().filter(|r| r.succeeded.is_some()) {
        let e = pairs
            .entry((run.workflow.clone(), run.environment.clone()))
            .or_insert((run.finished_at, run.finished_at));
        e.0 = e.0.min(run.finished_at);
        e.1 = e.1.max(run.finished_at);
    }
    for ((workflow, environment), (first, last)) in &pairs {
        let since = *first - chrono::Duration::hours(1);
        r.time("run histories of the inbox's workflows", async {
            Ok(store
                .run_history(workflow, environment, *last, Some(since), RATIO_HISTORY_CAP)
                .await?)
        })
        .await?;
    }
    r.time("running runs", async {
        Ok(store.running_now(LongTarget::Run).await?)
    })
    .await?;
    r.time("due schedule slots", async {
        Ok(store.due_slots(now).await?)
    })
    .await?;
    r.time("queue gauges", async { Ok(store.queue_gauges(now).await?) })
        .await?;
    r.time("authentication failures", async {
        Ok(store
            .auth_failures_since(now - chrono::Duration::minutes(15))
            .await?)
    })
    .await?;
    r.time("audit cursor, head and records", async {
        let read = store.alert_audit_cursor().await?;
        store.audit_chain_ends().await?;
        if let Some(after) = read {
            store.audit_records_after(after, 1_000).await?;
        }
        Ok(())
    })
    .await?;
    let ratio_rules: HashMap<&str, ()> = rules
        .iter()
        .filter(|r| matches!(r.spec.kind, RuleKind::FailureRatio { .. }))
        .map(|r| (r.id.as_str(), ()))
        .collect();
    for i in instances.iter().filter(|i| {
        ratio_rules.contains_key(i.rule_id.as_str())
            && matches!(i.state.phase, Phase::Pending | Phase::Firing)
    }) {
        r.time("failure-ratio windows of open instances", async {
            Ok(store
                .run_history(
                    &i.workflow,
                    &i.environment,
                    now,
                    Some(now - chrono::Duration::hours(1)),
                    RATIO_HISTORY_CAP,
                )
                .await?)
        })
        .await?;
    }
    Ok(r)
}
