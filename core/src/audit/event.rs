//! One audit record: who did what to which resource, where from, and
//! whether it was allowed. `AuditEvent` is a record before the log gives it
//! a sequence number and a place in the chain.

use super::personal::PersonalFields;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ServiceToken,
    ScimClient,
    /// A worker through the execution API, with its worker token.
    Worker,
    /// A scraper with a metrics token (its refusals are on record).
    MetricsScraper,
    System,
    /// Nobody was signed in (a failed sign-in, a rejected token).
    Anonymous,
}

impl ActorKind {
    pub const ALL: [ActorKind; 7] = [
        ActorKind::User,
        ActorKind::ServiceToken,
        ActorKind::ScimClient,
        ActorKind::Worker,
        ActorKind::MetricsScraper,
        ActorKind::System,
        ActorKind::Anonymous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ServiceToken => "service_token",
            ActorKind::ScimClient => "scim_client",
            ActorKind::Worker => "worker",
            ActorKind::MetricsScraper => "metrics_scraper",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who acted, by stable id (never reused) and the name shown at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    pub name: String,
}

impl Actor {
    pub fn system(component: &str) -> Self {
        Actor {
            kind: ActorKind::System,
            id: format!("system:{component}"),
            name: component.to_owned(),
        }
    }

    pub fn anonymous() -> Self {
        Actor {
            kind: ActorKind::Anonymous,
            id: "anonymous".into(),
            name: "anonymous".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    /// Refused by authorization or authentication.
    Denied,
    /// Allowed, but it did not happen (bad input, conflict, error).
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Succeeded, Outcome::Denied, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// The actions Gantry records. Stored as their dotted names, so records
/// written by a newer version (with actions this one doesn't know) still
/// read and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    SignIn,
    SignOut,
    TokenRejected,
    PreferencesUpdate,
    WorkflowApply,
    RunTrigger,
    RunCancel,
    ScheduleSet,
    ApprovalRequest,
    ApprovalApprove,
    ApprovalReject,
    TokenCreate,
    TokenRevoke,
    UserDisable,
    UserEnable,
    /// Everything Gantry holds about a person, exported for them.
    UserExport,
    /// A departed person's name, username and e-mail replaced by a
    /// pseudonym everywhere, and their personal fields in the audit log
    /// erased (the chain still verifies).
    UserErase,
    ScimUserCreate,
    ScimUserUpdate,
    ScimUserDelete,
    ScimGroupCreate,
    ScimGroupUpdate,
    ScimGroupDelete,
    AuditExport,
    AuditArchive,
    /// Records written before erasure existed converted to the erasable
    /// format (once, at the first start of a version that has it).
    AuditFormatUpgrade,
    /// A view of the dashboard or API refused by authorization.
    ViewDenied,
    PromotionRequest,
    PromotionApprove,
    PromotionReject,
    PromotionCancel,
    PromotionExpire,
    PromotionCheck,
    PromotionUncheck,
    WorkflowPromote,
    WorkflowRollback,
    PolicyUpdate,
    ApprovalDelegate,
    ApprovalDelegationRevoke,
    /// A step attempt's fetch of one secret reference (never its value).
    SecretFetch,
    /// A dynamic credential's lease revoked after its attempt ended.
    SecretRevoke,
    /// Cached secret values dropped on request.
    SecretInvalidate,
    /// An alert rule created.
    AlertRuleCreate,
    AlertRuleUpdate,
    AlertRuleDelete,
    /// A notification channel created (never its credentials).
    AlertChannelCreate,
    AlertChannelUpdate,
    AlertChannelDelete,
    AlertChannelTest,
    /// A silence or mute window created.
    SilenceCreate,
    SilenceExpire,
    /// A freeze window declared.
    FreezeCreate,
    FreezeDelete,
    /// A freeze broken for one promotion request (break-glass).
    FreezeBreak,
    /// A broken freeze reviewed by another admin.
    FreezeReview,
    /// A promotion's gate passed into a canary (instead of a promotion).
    CanaryStart,
    /// A canary step passed: the next weight.
    CanaryAdvance,
    CanaryPause,
    CanaryResume,
    /// A canary became the active version (its last step passed, or a
    /// person promoted it).
    CanaryPromote,
    /// A canary failed its analysis and was rolled back automatically.
    CanaryRollback,
    /// A person stopped a canary.
    CanaryAbort,
    /// A person let promotions complete again after an automatic rollback.
    CanaryClearHold,
    /// Versions registered from a signed bundle another installation exported.
    BundleImport,
    /// A verification run started after a promotion or rollback.
    VerificationStart,
    /// A verification run succeeded.
    VerificationPass,
    /// A verification failed (its run failed, or could not start).
    VerificationFail,
    /// An inbound webhook created (never its secret).
    WebhookCreate,
    /// A webhook's signing secret rotated; the previous one still verifies.
    WebhookRotate,
    /// A webhook's previous secret retired.
    WebhookRetire,
    WebhookDelete,
    /// A delivery to a webhook: failed when its signature was refused.
    WebhookDelivery,
    /// A schedule's slot skipped without a run (backpressure).
    ScheduleSkip,
    /// A failed run re-run (the new run's id in the details).
    RunRerun,
    /// A failed run taken off the Needs attention list, with a note.
    RunDismiss,
    /// A rate-limit override set (or replaced) for a token or group.
    RateLimitSet,
    RateLimitDelete,
    /// Run records, step logs or notification history past their
    /// retention deleted (one record per batch, with its counts).
    RetentionPurge,
    /// A break-glass passkey registered (the credential's id, never a key).
    PasskeyRegister,
    PasskeyRevoke,
    /// A sign-in with a break-glass passkey: a time-boxed admin session
    /// while single sign-on is down.
    BreakGlassSignIn,
}

impl AuditAction {
    pub const ALL: [AuditAction; 81] = [
        AuditAction::SignIn,
        AuditAction::SignOut,
        AuditAction::TokenRejected,
        AuditAction::PreferencesUpdate,
        AuditAction::WorkflowApply,
        AuditAction::RunTrigger,
        AuditAction::RunCancel,
        AuditAction::ScheduleSet,
        AuditAction::ApprovalRequest,
        AuditAction::ApprovalApprove,
        AuditAction::ApprovalReject,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::UserDisable,
        AuditAction::UserEnable,
        AuditAction::UserExport,
        AuditAction::UserErase,
        AuditAction::ScimUserCreate,
        AuditAction::ScimUserUpdate,
        AuditAction::ScimUserDelete,
        AuditAction::ScimGroupCreate,
        AuditAction::ScimGroupUpdate,
        AuditAction::ScimGroupDelete,
        AuditAction::AuditExport,
        AuditAction::AuditArchive,
        AuditAction::AuditFormatUpgrade,
        AuditAction::ViewDenied,
        AuditAction::PromotionRequest,
        AuditAction::PromotionApprove,
        AuditAction::PromotionReject,
        AuditAction::PromotionCancel,
        AuditAction::PromotionExpire,
        AuditAction::PromotionCheck,
        AuditAction::PromotionUncheck,
        AuditAction::WorkflowPromote,
        AuditAction::WorkflowRollback,
        AuditAction::PolicyUpdate,
        AuditAction::ApprovalDelegate,
        AuditAction::ApprovalDelegationRevoke,
        AuditAction::SecretFetch,
        AuditAction::SecretRevoke,
        AuditAction::SecretInvalidate,
        AuditAction::AlertRuleCreate,
        AuditAction::AlertRuleUpdate,
        AuditAction::AlertRuleDelete,
        AuditAction::AlertChannelCreate,
        AuditAction::AlertChannelUpdate,
        AuditAction::AlertChannelDelete,
        AuditAction::AlertChannelTest,
        AuditAction::SilenceCreate,
        AuditAction::SilenceExpire,
        AuditAction::FreezeCreate,
        AuditAction::FreezeDelete,
        AuditAction::FreezeBreak,
        AuditAction::FreezeReview,
        AuditAction::CanaryStart,
        AuditAction::CanaryAdvance,
        AuditAction::CanaryPause,
        AuditAction::CanaryResume,
        AuditAction::CanaryPromote,
        AuditAction::CanaryRollback,
        AuditAction::CanaryAbort,
        AuditAction::CanaryClearHold,
        AuditAction::BundleImport,
        AuditAction::VerificationStart,
        AuditAction::VerificationPass,
        AuditAction::VerificationFail,
        AuditAction::WebhookCreate,
        AuditAction::WebhookRotate,
        AuditAction::WebhookRetire,
        AuditAction::WebhookDelete,
        AuditAction::WebhookDelivery,
        AuditAction::RateLimitSet,
        AuditAction::RateLimitDelete,
        AuditAction::RetentionPurge,
        AuditAction::ScheduleSkip,
        AuditAction::RunRerun,
        AuditAction::RunDismiss,
        AuditAction::PasskeyRegister,
        AuditAction::PasskeyRevoke,
        AuditAction::BreakGlassSignIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "session.sign_in",
            AuditAction::SignOut => "session.sign_out",
            AuditAction::TokenRejected => "token.rejected",
            AuditAction::PreferencesUpdate => "preferences.update",
            AuditAction::WorkflowApply => "workflow.apply",
            AuditAction::RunTrigger => "run.trigger",
            AuditAction::RunCancel => "run.cancel",
            AuditAction::ScheduleSet => "schedule.set",
            AuditAction::ApprovalRequest => "approval.request",
            AuditAction::ApprovalApprove => "approval.approve",
            AuditAction::ApprovalReject => "approval.reject",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
            AuditAction::UserExport => "user.export",
            AuditAction::UserErase => super::personal::ERASE_ACTION,
            AuditAction::ScimUserCreate => "scim.user.create",
            AuditAction::ScimUserUpdate => "scim.user.update",
            AuditAction::ScimUserDelete => "scim.user.delete",
            AuditAction::ScimGroupCreate => "scim.group.create",
            AuditAction::ScimGroupUpdate => "scim.group.update",
            AuditAction::ScimGroupDelete => "scim.group.delete",
            AuditAction::AuditExport => "audit.export",
            AuditAction::AuditArchive => "audit.archive",
            AuditAction::AuditFormatUpgrade => "audit.format_upgrade",
            AuditAction::ViewDenied => "view.denied",
            AuditAction::PromotionRequest => "promotion.request",
            AuditAction::PromotionApprove => "promotion.approve",
            AuditAction::PromotionReject => "promotion.reject",
            AuditAction::PromotionCancel => "promotion.cancel",
            AuditAction::PromotionExpire => "promotion.expire",
            AuditAction::PromotionCheck => "promotion.check",
            AuditAction::PromotionUncheck => "promotion.uncheck",
            AuditAction::WorkflowPromote => "workflow.promote",
            AuditAction::WorkflowRollback => "workflow.rollback",
            AuditAction::PolicyUpdate => "environment.policy_update",
            AuditAction::ApprovalDelegate => "approval.delegate",
            AuditAction::ApprovalDelegationRevoke => "approval.delegation_revoke",
            AuditAction::SecretFetch => "secret.fetch",
            AuditAction::SecretRevoke => "secret.revoke",
            AuditAction::SecretInvalidate => "secret.invalidate",
            AuditAction::AlertRuleCreate => "alert.rule_create",
            AuditAction::AlertRuleUpdate => "alert.rule_update",
            AuditAction::AlertRuleDelete => "alert.rule_delete",
            AuditAction::AlertChannelCreate => "alert.channel_create",
            AuditAction::AlertChannelUpdate => "alert.channel_update",
            AuditAction::AlertChannelDelete => "alert.channel_delete",
            AuditAction::AlertChannelTest => "alert.channel_test",
            AuditAction::SilenceCreate => "alert.silence_create",
            AuditAction::SilenceExpire => "alert.silence_expire",
            AuditAction::FreezeCreate => "freeze.create",
            AuditAction::FreezeDelete => "freeze.delete",
            AuditAction::FreezeBreak => {
                crate::alert::kinds::privilege_escalation::FREEZE_BREAK_ACTION
            }
            AuditAction::FreezeReview => "freeze.review",
            AuditAction::CanaryStart => "canary.start",
            AuditAction::CanaryAdvance => "canary.advance",
            AuditAction::CanaryPause => "canary.pause",
            AuditAction::CanaryResume => "canary.resume",
            AuditAction::CanaryPromote => "canary.promote",
            AuditAction::CanaryRollback => "canary.rollback",
            AuditAction::CanaryAbort => "canary.abort",
            AuditAction::CanaryClearHold => "canary.clear_hold",
            AuditAction::BundleImport => "bundle.import",
            AuditAction::VerificationStart => "verification.start",
            AuditAction::VerificationPass => "verification.pass",
            AuditAction::VerificationFail => "verification.fail",
            AuditAction::WebhookCreate => "webhook.create",
            AuditAction::WebhookRotate => "webhook.rotate",
            AuditAction::WebhookRetire => "webhook.retire",
            AuditAction::WebhookDelete => "webhook.delete",
            AuditAction::WebhookDelivery => "webhook.delivery",
            AuditAction::ScheduleSkip => "schedule.skip",
            AuditAction::RunRerun => "run.rerun",
            AuditAction::RunDismiss => "run.dismiss",
            AuditAction::RateLimitSet => "rate_limit.set",
            AuditAction::RateLimitDelete => "rate_limit.delete",
            AuditAction::RetentionPurge => "retention.purge",
            AuditAction::PasskeyRegister => crate::break_glass::PASSKEY_REGISTER_ACTION,
            AuditAction::PasskeyRevoke => "passkey.revoke",
            AuditAction::BreakGlassSignIn => crate::break_glass::BREAK_GLASS_ACTION,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Detail keys whose values are dropped whatever the caller passes: a last
/// line of defence so no secret reaches the log by accident.
const SECRET_KEY_PARTS: [&str; 6] = [
    "secret",
    "password",
    "token",
    "authorization",
    "cookie",
    "credential",
];

/// Free-text fields that come from requests are cut to this many characters,
/// so a hostile request can't bloat the log.
pub const MAX_FIELD_CHARS: usize = 300;

/// `text` cut to `max` characters, with any NUL written as U+FFFD:
/// PostgreSQL can't store a NUL in text, and a record naming a request's
/// NUL-laden value (a refused one, say) must still be written.
pub fn clip(text: String, max: usize) -> String {
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// What happened, before it is sequenced into the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Truncated to microseconds: what both databases store exactly.
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    /// What was acted on, as `kind/name`, e.g. `workflow/backup-verify`.
    pub resource: String,
    pub environment: Option<String>,
    pub outcome: Outcome,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Always a JSON object; never holds a secret value.
    pub details: Value,
}

impl AuditEvent {
    pub fn new(
        at: DateTime<Utc>,
        actor: Actor,
        action: AuditAction,
        resource: impl Into<String>,
    ) -> Self {
        AuditEvent {
            at: at.trunc_subsecs(6),
            actor,
            action: action.as_str().to_owned(),
            resource: clip(resource.into(), MAX_FIELD_CHARS),
            environment: None,
            outcome: Outcome::Succeeded,
            request_id: None,
            trace_id: None,
            source_ip: None,
            user_agent: None,
            details: Value::Object(Map::new()),
        }
    }

    /// Adds one detail; a key that looks like it names a secret keeps only
    /// the fact that a value was there.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.set_detail(key, value);
        self
    }

    pub fn set_detail(&mut self, key: &str, value: impl Into<Value>) {
        let lower = key.to_ascii_lowercase();
        let value = if SECRET_KEY_PARTS.iter().any(|p| lower.contains(p)) {
            Value::String("[redacted]".into())
        } else {
            value.into()
        };
        if !self.details.is_object() {
            self.details = Value::Object(Map::new());
        }
        if let Value::Object(map) = &mut self.details {
            map.insert(key.to_owned(), value);
        }
    }

    /// Gives the event its place in the chain, its personal fields sealed
    /// apart under fresh salts from `salt` ([`super::personal`]).
    pub fn sequence(
        self,
        seq: u64,
        prev_hash: &str,
        salt: &mut dyn FnMut() -> [u8; 16],
    ) -> AuditRecord {
        let mut record = AuditRecord {
            seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            resource: self.resource,
            environment: self.environment,
            outcome: self.outcome,
            request_id: self.request_id,
            trace_id: self.trace_id,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            details: self.details,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
            format: super::personal::FORMAT_ERASABLE,
            personal: Default::default(),
            legacy_hash: None,
        };
        super::personal::seal(&mut record, salt);
        record.hash = record.computed_hash();
        record
    }
}

/// A sequenced, chained record as stored, exported and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// 1, 2, 3, … with no gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub resource: String,
    pub environment: Option<String>,
    pub outcome: Outcome,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Value,
    /// The previous record's `hash` (64 zeros for the first record).
    pub prev_hash: String,
    /// SHA-256 over the previous hash's bytes and this record's canonical
    /// encoding, hex.
    pub hash: String,
    /// 1: every field hashed as written; 2: personal fields hashed as
    /// salted digests, erasable ([`super::personal`]).
    #[serde(default = "plain_format")]
    pub format: u8,
    /// Format 2: the personal fields, by name, as the hash commits to them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub personal: PersonalFields,
    /// A record converted to format 2: its hash before, which checkpoints
    /// signed before the conversion name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_hash: Option<String>,
}

fn plain_format() -> u8 {
    super::personal::FORMAT_PLAIN
}

impl AuditRecord {
    /// Everything the hash covers, as one JSON value: all fields but the
    /// two hashes, with the time in one fixed format.
    pub fn hashed_fields(&self) -> Value {
        let mut fields = serde_json::json!({
            "seq": self.seq,
            "at": self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "actor": {
                "kind": self.actor.kind.as_str(),
                "id": self.actor.id,
                "name": self.actor.name,
            },
            "action": self.action,
            "resource": self.resource,
            "environment": self.environment,
            "outcome": self.outcome.as_str(),
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "details": self.details,
        });
        if self.format >= super::personal::FORMAT_ERASABLE {
            super::personal::commit(self, &mut fields);
        }
        fields
    }

    pub fn computed_hash(&self) -> String {
        super::chain_hash(
            &self.prev_hash,
            &super::canonical_json(&self.hashed_fields()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event() -> AuditEvent {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        AuditEvent::new(
            at,
            Actor::system("test"),
            AuditAction::WorkflowApply,
            "workflow/a",
        )
    }

    #[test]
    fn time_is_kept_to_the_microsecond() {
        assert_eq!(event().at.timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn clipped_text_holds_no_nul() {
        assert_eq!(clip("a\0b".into(), 10), "a\u{FFFD}b");
        assert_eq!(clip("abcdef".into(), 3), "abc…");
    }

    #[test]
    fn details_that_name_secrets_are_redacted() {
        let e = event()
            .detail("version", 3)
            .detail("client_secret", "hunter2")
            .detail("API_TOKEN", "gantry_abc");
        assert_eq!(e.details["version"], 3);
        assert_eq!(e.details["client_secret"], "[redacted]");
        assert_eq!(e.details["API_TOKEN"], "[redacted]");
        assert!(!serde_json::to_string(&e).unwrap().contains("hunter2"));
    }

    #[test]
    fn sequencing_hashes_every_field() {
        let base = event().sequence(7, super::super::GENESIS_HASH, &mut || [7; 16]);
        assert_eq!(base.hash, base.computed_hash());
        let mut changed = base.clone();
        changed.details = serde_json::json!({"x": 1});
        assert_ne!(changed.computed_hash(), base.hash);
        let mut renumbered = base.clone();
        renumbered.seq = 8;
        assert_ne!(renumbered.computed_hash(), base.hash);
        let mut relinked = base.clone();
        relinked.prev_hash = "1".repeat(64);
        assert_ne!(relinked.computed_hash(), base.hash);
    }

    #[test]
    fn names_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        for k in ActorKind::ALL {
            assert_eq!(ActorKind::parse(k.as_str()), Some(k));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
