//! The facts the kinds judged on each pass need (`core::alert::kinds`),
//! read from the store only when some rule of that kind exists, once per
//! pass however many rules share them, and narrowed to each rule's scope
//! here so the pure judges see only what is theirs.

use crate::store::SharedStore;
use crate::store::alerts::StoredRule;
use crate::store::canaries::CanaryQuery;
use chrono::{DateTime, Utc};
use gantry_core::alert::RuleKind;
use gantry_core::alert::kinds::{
    self, AttentionFacts, AuthFacts, DueSlot, Finding, InstanceKey, LongTarget, PrivilegeFacts,
    QueueFacts, Running, RunningFacts, ScheduleFacts, SloFacts, rollout_attention,
};
use gantry_core::audit::AuditRecord;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub mod active;
pub mod slo;

pub use active::ActiveSpecs;

/// Most audit records judged per pass; the rest wait for the next.
pub const AUDIT_BATCH: u32 = 1_000;

/// Most canaries and verifications read for `rollout_attention` per pass:
/// far more rollouts than people wait on at once.
const ATTENTION_LIMIT: u32 = 1_000;

/// What the installation's configuration says that facts need.
#[derive(Debug, Clone, Default)]
pub struct FactSettings {
    /// Groups the role mapping makes admin (privilege escalation).
    pub admin_groups: BTreeSet<String>,
}

/// The audit records read this pass and where the cursor was.
#[derive(Debug, Clone, Default)]
pub struct AuditBatch {
    pub read: Option<u64>,
    pub records: Vec<AuditRecord>,
}

impl AuditBatch {
    /// The cursor's new place, when it moves: after the records read, or
    /// at the head on the very first pass.
    pub fn moved_to(&self, head: u64) -> Option<u64> {
        match (self.read, self.records.last()) {
            (_, Some(last)) => Some(last.seq),
            (None, None) => Some(head),
            (Some(_), None) => None,
        }
    }
}

/// Facts read lazily during one pass.
pub struct PassFacts<'a> {
    store: &'a SharedStore,
    now: DateTime<Utc>,
    settings: &'a FactSettings,
    active: &'a ActiveSpecs,
    running: HashMap<LongTarget, Vec<Running>>,
    slots: Option<Vec<DueSlot>>,
    queue: Option<QueueFacts>,
    auth: HashMap<Duration, AuthFacts>,
    audit: Option<(AuditBatch, u64)>,
    slo: Option<SloFacts>,
    attention: Option<AttentionFacts>,
}

impl<'a> PassFacts<'a> {
    pub fn new(
        store: &'a SharedStore,
        now: DateTime<Utc>,
        settings: &'a FactSettings,
        active: &'a ActiveSpecs,
    ) -> Self {
        Self {
            store,
            now,
            settings,
            active,
            running: HashMap::new(),
            slots: None,
            queue: None,
            auth: HashMap::new(),
            audit: None,
            slo: None,
            attention: None,
        }
    }

    /// Whether `rule` covers `workflow` in `environment`, labels included.
    pub fn covers(&self, rule: &StoredRule, workflow: &str, environment: &str) -> bool {
        rule.spec.matches(
            workflow,
            self.active.labels(workflow, environment),
            environment,
        )
    }

    /// What the audit batch moved the cursor to, if this pass read it.
    pub fn audit_cursor(&self) -> Option<crate::store::alerts::AuditCursor> {
        let (batch, head) = self.audit.as_ref()?;
        Some(crate::store::alerts::AuditCursor {
            read: batch.read,
            to: batch.moved_to(*head)?,
        })
    }

    /// Judges a rule of a pass kind: its findings, narrowed to its scope.
    /// `open`: the keys of its instances that are pending or firing.
    pub async fn judge(
        &mut self,
        rule: &StoredRule,
        open: &[InstanceKey],
    ) -> anyhow::Result<Vec<Finding>> {
        let now = self.now;
        Ok(match &rule.spec.kind {
            RuleKind::ConsecutiveFailures { .. } | RuleKind::FailureRatio { .. } => Vec::new(),
            RuleKind::RunTooLong {
                max_duration,
                target,
            } => {
                let running = self.running(*target).await?;
                let mut mine = Vec::new();
                for r in running {
                    if self.covers(rule, &r.workflow, &r.environment) {
                        mine.push(r);
                    }
                }
                kinds::run_too_long::judge(
                    max_duration.0,
                    &RunningFacts { running: mine },
                    open,
                    now,
                )
            }
            RuleKind::MissedSchedule { grace } => {
                let slots = self.slots().await?;
                let mut mine = Vec::new();
                for s in slots {
                    if self.covers(rule, &s.workflow, &s.environment) {
                        mine.push(s);
                    }
                }
                kinds::missed_schedule::judge(grace.0, &ScheduleFacts { latest: mine }, open, now)
            }
            RuleKind::QueueBacklog {
                max_depth,
                max_oldest_age,
            } => {
                let facts = self.queue().await?;
                kinds::queue_backlog::judge(*max_depth, max_oldest_age.map(|a| a.0), &facts)
            }
            RuleKind::AuthFailures {
                max_failures,
                window,
                per_source,
            } => {
                let facts = self.auth(window.0).await?;
                kinds::auth_failures::judge(*max_failures, window.0, *per_source, &facts, open)
            }
            RuleKind::PrivilegeEscalation {} => {
                let records = self.audit().await?;
                let facts = PrivilegeFacts {
                    records,
                    admin_groups: self.settings.admin_groups.clone(),
                };
                kinds::privilege_escalation::judge(rule.spec.environment.as_deref(), &facts, open)
            }
            RuleKind::SloBurn { pairs } => {
                let all = self.slo().await?;
                let mut mine = SloFacts::default();
                for i in all.instances {
                    if self.covers(rule, &i.workflow, &i.environment) {
                        mine.instances.push(i);
                    }
                }
                kinds::slo_burn::judge(*pairs, &mine, open)
            }
            RuleKind::RolloutAttention {} => {
                let all = self.attention().await?;
                let mut mine = AttentionFacts::default();
                for a in all.waiting {
                    if self.covers(rule, &a.workflow, &a.environment) {
                        mine.waiting.push(a);
                    }
                }
                kinds::rollout_attention::judge(&mine, open)
            }
        })
    }

    async fn running(&mut self, target: LongTarget) -> anyhow::Result<Vec<Running>> {
        if let Some(r) = self.running.get(&target) {
            return Ok(r.clone());
        }
        let r = self.store.running_now(target).await?;
        self.running.insert(target, r.clone());
        Ok(r)
    }

    async fn slots(&mut self) -> anyhow::Result<Vec<DueSlot>> {
        if self.slots.is_none() {
            self.slots = Some(self.store.due_slots(self.now).await?);
        }
        Ok(self.slots.clone().unwrap_or_default())
    }

    async fn queue(&mut self) -> anyhow::Result<QueueFacts> {
        if let Some(q) = self.queue {
            return Ok(q);
        }
        let gauges = self.store.queue_gauges(self.now).await?;
        let q = QueueFacts {
            depth: gauges.ready.max(0) as u64,
            oldest_ready_age: gauges
                .oldest_ready_ms
                .map(|ms| Duration::from_millis(ms.max(0) as u64)),
        };
        self.queue = Some(q);
        Ok(q)
    }

    async fn auth(&mut self, window: Duration) -> anyhow::Result<AuthFacts> {
        if let Some(a) = self.auth.get(&window) {
            return Ok(a.clone());
        }
        let since = self.now - chrono::Duration::from_std(window).unwrap_or_default();
        let facts = AuthFacts {
            by_source: self.store.auth_failures_since(since).await?,
        };
        self.auth.insert(window, facts.clone());
        Ok(facts)
    }

    async fn audit(&mut self) -> anyhow::Result<Vec<AuditRecord>> {
        if self.audit.is_none() {
            let read = self.store.alert_audit_cursor().await?;
            let head = self.store.audit_chain_ends().await?.head.seq;
            let records = match read {
                // The first pass starts at the head: what happened before
                // alerting existed doesn't fire.
                None => Vec::new(),
                Some(after) => self.store.audit_records_after(after, AUDIT_BATCH).await?,
            };
            self.audit = Some((AuditBatch { read, records }, head));
        }
        Ok(self
            .audit
            .as_ref()
            .map(|(b, _)| b.records.clone())
            .unwrap_or_default())
    }

    /// Canaries paused as inconclusive or holding after an automatic
    /// rollback, and failed last verifications.
    async fn attention(&mut self) -> anyhow::Result<AttentionFacts> {
        if self.attention.is_none() {
            let query = |live_only, held_only| CanaryQuery {
                live_only,
                held_only,
                limit: ATTENTION_LIMIT,
                ..CanaryQuery::default()
            };
            let mut canaries = self.store.canaries(query(true, false)).await?;
            canaries.extend(self.store.canaries(query(false, true)).await?);
            let verifications = self
                .store
                .failed_last_verifications(ATTENTION_LIMIT)
                .await?;
            let waiting = canaries
                .iter()
                .filter_map(rollout_attention::of_canary)
                .chain(
                    verifications
                        .iter()
                        .filter_map(rollout_attention::of_verification),
                )
                .collect();
            self.attention = Some(AttentionFacts { waiting });
        }
        Ok(self.attention.clone().unwrap_or_default())
    }

    async fn slo(&mut self) -> anyhow::Result<SloFacts> {
        if self.slo.is_none() {
            self.slo = Some(slo::slo_facts(self.store, self.active, self.now).await?);
        }
        Ok(self.slo.clone().unwrap_or_default())
    }
}
