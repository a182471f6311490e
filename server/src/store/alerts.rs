//! Alerting's storage: rules, channels, instances and their history,
//! silences, the evaluation inbox and the notification outbox. The
//! judging itself is `core::alert`'s, run by `alerting::evaluator`, which
//! reads here and commits each pass at once with [`AlertStore::commit_alert_pass`].

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::alert::view::{AlertFilter, NotificationView, SilenceView, TransitionView};
use gantry_core::alert::{ChannelKind, Instance, Notification, Phase, RuleSpec};
use gantry_core::audit::AuditEvent;

/// A rule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRule {
    pub id: String,
    pub spec: RuleSpec,
    pub origin: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A channel as stored: `sealed` holds its credentials, opened only by
/// the sender.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    pub signing_key_ids: Vec<String>,
    pub sealed: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An alert instance as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInstance {
    pub fingerprint: String,
    pub rule_id: String,
    pub workflow: String,
    pub environment: String,
    /// What else tells it apart (`core::alert::kinds::InstanceKey`): a
    /// source address, an audit record; empty for most kinds.
    pub subject: String,
    pub state: Instance,
    pub summary: String,
    pub last_run_id: Option<String>,
    /// What the pass read; its write must find the same.
    pub version: i64,
}

/// A finished run waiting to be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRun {
    pub run_id: String,
    pub workflow: String,
    pub environment: String,
    /// `None` for a run that was cancelled (not judged) or is gone.
    pub succeeded: Option<bool>,
    pub finished_at: DateTime<Utc>,
}

/// A finished run in a workflow's history (oldest first when listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRun {
    pub finished_at: DateTime<Utc>,
    pub succeeded: bool,
}

/// A transition to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransition {
    pub id: String,
    pub fingerprint: String,
    pub rule_id: String,
    pub rule_name: String,
    pub workflow: String,
    pub environment: String,
    pub subject: String,
    pub from: Phase,
    pub to: Phase,
    pub silenced: bool,
    pub run_id: Option<String>,
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// A notification to queue for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub channel: String,
    pub notification: Notification,
    pub at: DateTime<Utc>,
}

/// Everything one evaluation pass decided, committed at once.
#[derive(Debug, Default)]
pub struct AlertPass {
    /// Inbox entries judged (deleted by the commit).
    pub judged_runs: Vec<String>,
    /// Instances to write; a `version` of `None` creates one.
    pub instances: Vec<(StoredInstance, Option<i64>)>,
    pub transitions: Vec<NewTransition>,
    pub notifications: Vec<NewNotification>,
    /// How far the audit log has been judged now (privilege escalation),
    /// when this pass read further.
    pub audit_cursor: Option<AuditCursor>,
    pub at: DateTime<Utc>,
}

/// The audit cursor's move: from what the pass read (`None`: never set)
/// to the last record it judged. The commit holds only if nobody moved it
/// meanwhile, so each record is judged once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub read: Option<u64>,
    pub to: u64,
}

/// What the store needs to send the resolves owed when instances that
/// were announced firing go away with their rule
/// (`core::alert::notification::Withdrawn`).
#[derive(Debug, Clone)]
pub struct Withdrawal {
    pub links: gantry_core::alert::notification::Links,
    pub at: DateTime<Utc>,
}

/// How the stored spec rules change to match the active versions.
#[derive(Debug, Default)]
pub struct SpecRuleChanges {
    pub insert: Vec<StoredRule>,
    /// Each with whether its instances start over.
    pub update: Vec<(StoredRule, bool)>,
    /// Rule ids; their instances go with them.
    pub delete: Vec<String>,
}

impl SpecRuleChanges {
    pub fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// Why a pass didn't commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassCommit {
    Done,
    /// Another pass moved an instance or judged a run first: read again.
    Stale,
}

/// A notification the sender took.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedNotification {
    pub id: String,
    pub channel: String,
    pub notification: Notification,
    /// Attempts before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What an attempt did.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub status: gantry_core::alert::view::DeliveryStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The request sent, credentials masked.
    pub request: Option<serde_json::Value>,
    /// When to try again (pending only).
    pub next_attempt_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    async fn alert_rules(&self) -> StoreResult<Vec<StoredRule>>;
    async fn alert_rule_named(&self, name: &str) -> StoreResult<Option<StoredRule>>;
    /// `false`: the name is taken.
    async fn insert_alert_rule(&self, rule: &StoredRule, audit: AuditEvent) -> StoreResult<bool>;
    /// Replaces the rule named `name`; `reset` drops its instances (what
    /// it watches changed). `None`: no such rule; `Some(false)`: the new
    /// name is taken.
    ///
    /// Instances dropped (by `reset` or a delete) that were announced
    /// firing get their resolve notices in the same transaction.
    async fn replace_alert_rule(
        &self,
        name: &str,
        rule: &StoredRule,
        reset: bool,
        audit: AuditEvent,
        withdrawal: &Withdrawal,
    ) -> StoreResult<Option<bool>>;
    async fn delete_alert_rule(
        &self,
        name: &str,
        audit: AuditEvent,
        withdrawal: &Withdrawal,
    ) -> StoreResult<bool>;

    async fn alert_channels(&self) -> StoreResult<Vec<StoredChannel>>;
    async fn alert_channel(&self, name: &str) -> StoreResult<Option<StoredChannel>>;
    /// `false`: the name is taken.
    async fn insert_alert_channel(
        &self,
        channel: &StoredChannel,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
    /// `false`: no such channel.
    async fn update_alert_channel(
        &self,
        channel: &StoredChannel,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
    /// `false`: no such channel.
    async fn delete_alert_channel(&self, name: &str, audit: AuditEvent) -> StoreResult<bool>;

    async fn alert_instances(&self) -> StoreResult<Vec<StoredInstance>>;
    async fn alert_transitions(
        &self,
        filter: &AlertFilter,
        visible: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<TransitionView>>;
    async fn alert_notifications(
        &self,
        filter: &AlertFilter,
        visible: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationView>>;

    async fn insert_silence(&self, silence: &SilenceView, audit: AuditEvent) -> StoreResult<()>;
    /// Silences not expired, and those that ended within `recent_since`.
    async fn silences(&self, recent_since: DateTime<Utc>) -> StoreResult<Vec<SilenceView>>;
    async fn silence(&self, id: &str) -> StoreResult<Option<SilenceView>>;
    /// `None`: no such silence.
    async fn expire_silence(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<SilenceView>>;

    /// Finished runs waiting to be judged, oldest first.
    async fn alert_inbox(&self, limit: u32) -> StoreResult<Vec<InboxRun>>;
    /// A workflow's judged runs in an environment finished at or before
    /// `until` (succeeded, failed or timed out; not cancelled): the latest
    /// `limit` of them, oldest first.
    async fn run_history(
        &self,
        workflow: &str,
        environment: &str,
        until: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<HistoryRun>>;
    /// The workflow × environment pairs with judged runs since `since`.
    async fn run_pairs_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(String, String)>>;
    async fn commit_alert_pass(&self, pass: AlertPass) -> StoreResult<PassCommit>;
    /// Writes the spec rules' changes in one transaction; another process
    /// doing the same at once is harmless (inserts of an existing rule, or
    /// of a name an API rule holds, are skipped).
    async fn sync_spec_rules(
        &self,
        changes: &SpecRuleChanges,
        withdrawal: &Withdrawal,
    ) -> StoreResult<()>;

    /// Queues notifications outside a pass (a channel's test), audited.
    async fn enqueue_notifications(
        &self,
        notifications: &[NewNotification],
        audit: AuditEvent,
    ) -> StoreResult<()>;
    /// Takes the oldest due notification for `lease` (no other sender gets
    /// it until then).
    async fn claim_notification(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
    ) -> StoreResult<Option<ClaimedNotification>>;
    async fn record_delivery(&self, id: &str, record: &DeliveryRecord) -> StoreResult<()>;
    /// The earliest time a pending notification is due, if any.
    async fn next_notification_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
}
