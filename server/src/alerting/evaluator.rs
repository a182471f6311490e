//! The evaluation pass: judges finished runs (from the inbox the database
//! fills as runs end) and the passing of time (pending alerts whose `for`
//! elapsed, reminders, ratios whose window moved, silences that ended)
//! with `core::alert`'s rules, and commits the transitions with their
//! notifications in one transaction (`AlertStore::commit_alert_pass`).
//!
//! Every serve process runs passes; the commit holds only over what the
//! pass read, so with several processes one wins and the others read again.

use super::facts::{ActiveSpecs, FactSettings, PassFacts};
use crate::store::SharedStore;
use crate::store::alerts::{
    AlertPass, HistoryRun, InboxRun, NewNotification, NewTransition, PassCommit, StoredInstance,
    StoredRule,
};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::InstanceKey;
use gantry_core::alert::rule::Judged;
use gantry_core::alert::view::SilenceView;
use gantry_core::alert::{
    Instance, Notice, NoticeKind, Notification, Observation, Phase, RuleKind, RunOutcome, observe,
};
use std::collections::{HashMap, HashSet};

/// Inbox runs judged per pass; the rest wait for the next.
const INBOX_BATCH: u32 = 500;
/// Most runs read for a failure ratio's window.
const RATIO_HISTORY_CAP: u32 = 10_000;
/// How often a firing alert is posted again to Alertmanager channels:
/// well within the hold (`deliver::ALERTMANAGER_HOLD`) after which
/// Alertmanager would end it by itself.
const ALERTMANAGER_REFRESH: chrono::Duration = chrono::Duration::minutes(5);
/// Tries when another process's pass moved an instance first.
const STALE_RETRIES: u32 = 5;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub runs_judged: usize,
    pub transitions: usize,
    pub notifications: usize,
}

/// What a pass needs besides the store and the time.
#[derive(Debug, Clone)]
pub struct EvalContext {
    pub links: Links,
    pub facts: FactSettings,
}

/// Where links in notifications point.
pub use gantry_core::alert::notification::Links;

/// Runs passes until the inbox is drained (each commit judges up to
/// [`INBOX_BATCH`] runs).
pub async fn evaluate(
    store: &SharedStore,
    now: DateTime<Utc>,
    ctx: &EvalContext,
) -> anyhow::Result<PassReport> {
    let mut total = PassReport::default();
    loop {
        let report = pass(store, now, ctx).await?;
        total.runs_judged += report.runs_judged;
        total.transitions += report.transitions;
        total.notifications += report.notifications;
        if report.runs_judged < INBOX_BATCH as usize {
            return Ok(total);
        }
    }
}

/// One pass, retried when another process committed first.
pub async fn pass(
    store: &SharedStore,
    now: DateTime<Utc>,
    ctx: &EvalContext,
) -> anyhow::Result<PassReport> {
    for _ in 0..STALE_RETRIES {
        let (work, report) = decide(store, now, ctx).await?;
        if work.judged_runs.is_empty() && work.instances.is_empty() && work.audit_cursor.is_none() {
            return Ok(report);
        }
        match store
            .commit_alert_pass(work)
            .await
            .context("committing an alert evaluation pass")?
        {
            PassCommit::Done => {
                record_metrics(&report);
                return Ok(report);
            }
            PassCommit::Stale => continue,
        }
    }
    anyhow::bail!("alert evaluation kept racing another process; will try again")
}

fn record_metrics(report: &PassReport) {
    if report.transitions > 0 {
        metrics::counter!("gantry_alert_transitions_total").increment(report.transitions as u64);
    }
}

/// Reads what a pass needs and decides, without writing.
async fn decide(
    store: &SharedStore,
    now: DateTime<Utc>,
    ctx: &EvalContext,
) -> anyhow::Result<(AlertPass, PassReport)> {
    let links = &ctx.links;
    let inbox = store.alert_inbox(INBOX_BATCH).await?;
    let active = ActiveSpecs::load(store).await?;
    let rules =
        super::spec_rules::sync(store, store.alert_rules().await?, &active, links, now).await?;
    let silences = store.silences(now).await?;
    let stored: HashMap<String, StoredInstance> = store
        .alert_instances()
        .await?
        .into_iter()
        .map(|i| (i.fingerprint.clone(), i))
        .collect();
    let alertmanagers: Vec<String> = store
        .alert_channels()
        .await?
        .into_iter()
        .filter(|c| c.kind == gantry_core::alert::ChannelKind::Alertmanager)
        .map(|c| c.name)
        .collect();
    let mut pass = Pass {
        now,
        links,
        alertmanagers: &alertmanagers,
        silences: &silences,
        stored: &stored,
        changed: HashMap::new(),
        judged: HashSet::new(),
        out: AlertPass {
            at: now,
            ..AlertPass::default()
        },
    };
    let mut facts = PassFacts::new(store, now, &ctx.facts, &active);
    let histories = load_histories(store, &inbox, &rules, &mut facts).await?;
    for run in &inbox {
        pass.out.judged_runs.push(run.run_id.clone());
        let Some(_) = run.succeeded else {
            continue;
        };
        let history = histories
            .get(&(run.workflow.clone(), run.environment.clone()))
            .map(|h| upto(h, run.finished_at))
            .unwrap_or_default();
        for rule in rules.iter().filter(|r| judges_runs(r)) {
            if !facts.covers(rule, &run.workflow, &run.environment) {
                continue;
            }
            let seen = observe(&rule.spec.kind, &history, run.finished_at);
            let key = InstanceKey::new(&run.workflow, &run.environment);
            pass.observe(rule, &key, seen, Some(run), None);
        }
    }
    // The kinds judged on every pass, from the facts they read.
    for rule in rules.iter().filter(|r| !judges_runs(r)) {
        let open: Vec<InstanceKey> = stored
            .values()
            .filter(|i| i.rule_id == rule.id)
            .filter(|i| matches!(i.state.phase, Phase::Pending | Phase::Firing))
            .map(key_of)
            .collect();
        for finding in facts.judge(rule, &open).await? {
            pass.observe(
                rule,
                &finding.key,
                finding.seen,
                None,
                Some(&finding.summary),
            );
            pass.judged.insert(finding.key.fingerprint(&rule.id));
        }
    }
    pass.out.audit_cursor = facts.audit_cursor();
    // Time passing: every instance not at rest and not just judged.
    let rule_by_id: HashMap<&str, &StoredRule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let waiting: Vec<StoredInstance> = stored
        .values()
        .filter(|i| matches!(i.state.phase, Phase::Pending | Phase::Firing))
        .filter(|i| !pass.changed.contains_key(&i.fingerprint))
        .filter(|i| !pass.judged.contains(&i.fingerprint))
        .cloned()
        .collect();
    for instance in waiting {
        let Some(rule) = rule_by_id.get(instance.rule_id.as_str()) else {
            continue;
        };
        if let RuleKind::FailureRatio { window, .. } = &rule.spec.kind {
            // The window moves with time: runs age out of it.
            let since = now - chrono::Duration::from_std(window.0).unwrap_or_default();
            let history = store
                .run_history(
                    &instance.workflow,
                    &instance.environment,
                    now,
                    Some(since),
                    RATIO_HISTORY_CAP,
                )
                .await?;
            let seen = observe(&rule.spec.kind, &outcomes(&history), now);
            if seen != Observation::Breach || instance.state.phase == Phase::Pending {
                pass.observe(rule, &key_of(&instance), seen, None, None);
                continue;
            }
        }
        pass.tick(rule, &instance);
    }
    let report = PassReport {
        runs_judged: pass.out.judged_runs.len(),
        transitions: pass.out.transitions.len(),
        notifications: pass.out.notifications.len(),
    };
    let mut out = pass.out;
    out.instances = pass.changed.into_values().collect();
    Ok((out, report))
}

/// Each inbox pair's history, once, up to its latest run in the batch.
async fn load_histories(
    store: &SharedStore,
    inbox: &[InboxRun],
    rules: &[StoredRule],
    facts: &mut PassFacts<'_>,
) -> anyhow::Result<HashMap<(String, String), Vec<RunOutcome>>> {
    // Per workflow × environment: its first and last run in the batch, and
    // how many runs.
    type Span = (DateTime<Utc>, DateTime<Utc>, u32);
    let mut pairs: HashMap<(String, String), Span> = HashMap::new();
    for run in inbox.iter().filter(|r| r.succeeded.is_some()) {
        let entry = pairs
            .entry((run.workflow.clone(), run.environment.clone()))
            .or_insert((run.finished_at, run.finished_at, 0));
        entry.0 = entry.0.min(run.finished_at);
        entry.1 = entry.1.max(run.finished_at);
        entry.2 += 1;
    }
    let mut out = HashMap::new();
    for ((workflow, environment), (first, last, count)) in pairs {
        let mut limit = 0u32;
        let mut since: Option<DateTime<Utc>> = None;
        for rule in rules.iter().filter(|r| judges_runs(r)) {
            if !facts.covers(rule, &workflow, &environment) {
                continue;
            }
            match &rule.spec.kind {
                RuleKind::ConsecutiveFailures { threshold } => {
                    limit = limit.max(threshold.saturating_add(count));
                }
                RuleKind::FailureRatio { window, .. } => {
                    limit = RATIO_HISTORY_CAP;
                    let from = first - chrono::Duration::from_std(window.0).unwrap_or_default();
                    since = Some(since.map_or(from, |s| s.min(from)));
                }
                // Judged on passes, not on run history.
                _ => {}
            }
        }
        if limit == 0 {
            continue;
        }
        // A ratio reads its window; a streak reads a count. Both at once:
        // the window, bounded by the cap.
        let history = store
            .run_history(&workflow, &environment, last, since, limit)
            .await?;
        out.insert((workflow, environment), outcomes(&history));
    }
    Ok(out)
}

fn outcomes(history: &[HistoryRun]) -> Vec<RunOutcome> {
    history
        .iter()
        .map(|h| RunOutcome {
            finished_at: h.finished_at,
            succeeded: h.succeeded,
        })
        .collect()
}

fn upto(history: &[RunOutcome], at: DateTime<Utc>) -> Vec<RunOutcome> {
    history
        .iter()
        .take_while(|r| r.finished_at <= at)
        .copied()
        .collect()
}

/// Run-based kinds (judged on each finished run); the others are judged
/// on every pass from the facts they read (`super::facts`).
fn judges_runs(rule: &StoredRule) -> bool {
    rule.spec.kind.judged_on() == Judged::RunEnd
}

fn key_of(instance: &StoredInstance) -> InstanceKey {
    InstanceKey::new(&instance.workflow, &instance.environment).with_subject(&instance.subject)
}

/// One pass's decisions so far.
struct Pass<'a> {
    now: DateTime<Utc>,
    links: &'a Links,
    /// Channels of the Alertmanager kind, which need firing alerts repeated.
    alertmanagers: &'a [String],
    silences: &'a [SilenceView],
    stored: &'a HashMap<String, StoredInstance>,
    /// Instances this pass moved, with the version it read (`None`: new).
    changed: HashMap<String, (StoredInstance, Option<i64>)>,
    /// Instances of pass kinds judged this pass (their time was judged too).
    judged: HashSet<String>,
    out: AlertPass,
}

impl Pass<'_> {
    /// The instance as this pass has it, and the version read.
    fn current(
        &self,
        rule: &StoredRule,
        key: &InstanceKey,
        at: DateTime<Utc>,
    ) -> (StoredInstance, Option<i64>) {
        let fp = key.fingerprint(&rule.id);
        if let Some(c) = self.changed.get(&fp) {
            return c.clone();
        }
        if let Some(s) = self.stored.get(&fp) {
            return (s.clone(), Some(s.version));
        }
        (
            StoredInstance {
                fingerprint: fp,
                rule_id: rule.id.clone(),
                workflow: key.workflow.clone(),
                environment: key.environment.clone(),
                subject: key.subject.clone(),
                state: Instance::new(at),
                summary: String::new(),
                last_run_id: None,
                version: 0,
            },
            None,
        )
    }

    /// Applies what was seen of one instance: a finished run (`run`) or a
    /// pass kind's finding (`detail`: its one line, the summary while the
    /// instance is pending or firing).
    fn observe(
        &mut self,
        rule: &StoredRule,
        key: &InstanceKey,
        seen: Observation,
        run: Option<&InboxRun>,
        detail: Option<&str>,
    ) {
        let at = run.map_or(self.now, |r| r.finished_at);
        let (mut instance, read) = self.current(rule, key, at);
        let silenced = super::silences::silenced(
            self.silences,
            &rule.spec.name,
            &key.workflow,
            &key.environment,
            self.now,
        );
        let before = instance.state.clone();
        let notice = instance
            .state
            .observe(seen, at, &rule.spec.policy(), silenced);
        if let Some(run) = run {
            instance.last_run_id = Some(run.run_id.clone());
        }
        self.settle(
            rule,
            instance,
            Settle {
                read,
                before: &before,
                notice,
                silenced,
                run_id: run.map(|r| r.run_id.as_str()),
                detail,
            },
        );
    }

    fn tick(&mut self, rule: &StoredRule, stored: &StoredInstance) {
        let (mut instance, read) = self.current(rule, &key_of(stored), self.now);
        let silenced = super::silences::silenced(
            self.silences,
            &rule.spec.name,
            &instance.workflow,
            &instance.environment,
            self.now,
        );
        let before = instance.state.clone();
        let notice = instance.state.tick(self.now, &rule.spec.policy(), silenced);
        let refresh_due = instance.state.phase == Phase::Firing
            && instance.state.firing_sent
            && !silenced
            && instance
                .state
                .refreshed_at
                .is_none_or(|at| self.now - at >= ALERTMANAGER_REFRESH);
        if notice.is_none() && refresh_due {
            let targets: Vec<String> = rule
                .spec
                .channels
                .iter()
                .filter(|c| self.alertmanagers.contains(c))
                .cloned()
                .collect();
            if !targets.is_empty() {
                instance.state.refreshed_at = Some(self.now);
                self.notify_to(rule, &instance, Notice::Reminder, None, &targets);
            }
        }
        self.settle(
            rule,
            instance,
            Settle {
                read,
                before: &before,
                notice,
                silenced,
                run_id: None,
                detail: None,
            },
        );
    }

    fn settle(&mut self, rule: &StoredRule, mut instance: StoredInstance, s: Settle<'_>) {
        let Settle {
            read,
            before,
            notice,
            silenced,
            run_id,
            detail,
        } = s;
        if instance.state == *before && read.is_some() && notice.is_none() {
            return;
        }
        let moved = instance.state.phase != before.phase;
        if moved || read.is_none() {
            instance.summary = match (detail, instance.state.phase) {
                (Some(d), Phase::Pending | Phase::Firing) => d.to_owned(),
                (_, phase) => summary(&rule.spec.kind, phase, &rule.spec),
            };
            if moved
                && matches!(rule.spec.kind, RuleKind::MissedSchedule { .. })
                && instance.state.phase == Phase::Pending
            {
                // A slot not started in its grace is a missed slot too
                // (the scheduler counts those a catch-up run collapsed).
                metrics::counter!(
                    "gantry_schedule_missed_total",
                    "workflow" => crate::runtime::metrics::workflow_label(&instance.workflow)
                )
                .increment(1);
            }
        }
        if moved {
            self.out.transitions.push(NewTransition {
                id: uuid::Uuid::now_v7().to_string(),
                fingerprint: instance.fingerprint.clone(),
                rule_id: rule.id.clone(),
                rule_name: rule.spec.name.clone(),
                workflow: instance.workflow.clone(),
                environment: instance.environment.clone(),
                subject: instance.subject.clone(),
                from: before.phase,
                to: instance.state.phase,
                silenced,
                run_id: run_id.map(str::to_owned),
                summary: instance.summary.clone(),
                at: self.now,
            });
        }
        if let Some(notice) = notice {
            if notice != Notice::Resolved {
                instance.state.refreshed_at = Some(self.now);
            }
            self.notify_to(rule, &instance, notice, run_id, &rule.spec.channels);
        }
        // A brand-new instance that stayed at rest needn't be stored.
        if read.is_none() && instance.state.phase == Phase::Ok {
            return;
        }
        self.changed
            .insert(instance.fingerprint.clone(), (instance, read));
    }

    fn notify_to(
        &mut self,
        rule: &StoredRule,
        instance: &StoredInstance,
        notice: Notice,
        run_id: Option<&str>,
        channels: &[String],
    ) {
        let run_id = run_id
            .map(str::to_owned)
            .or_else(|| instance.last_run_id.clone());
        let started_at = if notice == Notice::Resolved {
            instance
                .state
                .recent_firings
                .last()
                .copied()
                .unwrap_or(instance.state.since)
        } else {
            instance.state.since
        };
        for channel in channels {
            self.out.notifications.push(NewNotification {
                channel: channel.clone(),
                notification: Notification {
                    id: uuid::Uuid::now_v7().to_string(),
                    notice: NoticeKind::from(notice),
                    fingerprint: instance.fingerprint.clone(),
                    rule: rule.spec.name.clone(),
                    rule_kind: kind_name(&rule.spec.kind).to_owned(),
                    severity: rule.spec.severity,
                    workflow: instance.workflow.clone(),
                    environment: instance.environment.clone(),
                    summary: instance.summary.clone(),
                    started_at,
                    resolved_at: (notice == Notice::Resolved).then_some(self.now),
                    run_url: run_id.as_deref().map(|r| self.links.run(r)),
                    run_id: run_id.clone(),
                    alert_url: self.links.alert(&rule.spec.name),
                },
                at: self.now,
            });
        }
    }
}

/// What `Pass::settle` needs besides the instance.
struct Settle<'a> {
    /// The version read (`None`: a new instance).
    read: Option<i64>,
    before: &'a Instance,
    notice: Option<Notice>,
    silenced: bool,
    run_id: Option<&'a str>,
    detail: Option<&'a str>,
}

pub fn kind_name(kind: &RuleKind) -> &'static str {
    kind.as_str()
}

/// One line saying what the instance's phase means.
fn summary(kind: &RuleKind, phase: Phase, spec: &gantry_core::alert::RuleSpec) -> String {
    match (kind, phase) {
        (RuleKind::ConsecutiveFailures { threshold }, Phase::Pending | Phase::Firing) => {
            format!("{threshold} runs in a row failed")
        }
        (_, Phase::Pending | Phase::Firing) => kind.to_string(),
        (_, Phase::Resolved) => format!(
            "resolved: {} clear evaluation{} in a row",
            spec.resolve_after,
            if spec.resolve_after == 1 { "" } else { "s" }
        ),
        (_, Phase::Ok) => "ok".to_owned(),
    }
}
