//! Alerting as the dashboard, the REST API and the CLI see it: rules with
//! their current state, instances, their history, silences and the
//! notification history.

use super::backtest::Backtest;
use super::channel::{ChannelView, SigningKey};
use super::rule::RuleSpec;
use super::state::Phase;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A rule and how its instances stand now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub id: String,
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// `api` (the Alerts page or REST) or `workflow:NAME` (carried by a
    /// workflow's spec, changed by applying the workflow).
    pub origin: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub firing: u32,
    pub pending: u32,
    /// The latest phase change of any of its instances.
    pub last_change: Option<DateTime<Utc>>,
}

/// One alert instance (rule × workflow × environment) now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceView {
    pub fingerprint: String,
    pub rule_id: String,
    pub rule: String,
    pub workflow: String,
    pub environment: String,
    /// What else tells the instance apart: a source address
    /// (`auth_failures` per source), an audit record (`audit:SEQ`,
    /// `privilege_escalation`). Empty workflow and environment: about the
    /// installation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    pub phase: Phase,
    /// A silence or mute window covers it now: state is tracked, notices
    /// are held.
    pub silenced: bool,
    pub since: DateTime<Utc>,
    pub summary: String,
    pub last_run_id: Option<String>,
}

/// One phase change of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransitionView {
    pub id: String,
    pub fingerprint: String,
    pub rule: String,
    pub workflow: String,
    pub environment: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    pub from: Phase,
    pub to: Phase,
    pub silenced: bool,
    pub run_id: Option<String>,
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One notification to one channel: the history row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: String,
    pub fingerprint: String,
    pub rule: String,
    pub channel: String,
    /// firing, reminder, resolved or test.
    pub notice: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// The last request sent, credentials masked.
    pub request: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A channel just created: its view and, when Gantry made the webhook's
/// signing key, that key, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedChannel {
    #[serde(flatten)]
    pub channel: ChannelView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_signing_key: Option<SigningKey>,
}

/// A silence (one-off, `ends_at`) or a mute window (recurring: `cron`
/// starts it, it lasts `duration`, in `time_zone`). Empty matchers match
/// everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilenceSpec {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::Environment>))]
    pub environment: Option<String>,
    /// Default: now.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// A mute window: when each one begins (5-field cron).
    #[serde(default)]
    pub cron: Option<String>,
    /// A mute window: how long each lasts (e.g. `2h`).
    #[serde(default)]
    pub duration: Option<crate::spec::SpecDuration>,
    /// A mute window's time zone (IANA name); default UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Why, 1 to 500 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = "\\S")
    )]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilenceView {
    pub id: String,
    pub rule: Option<String>,
    pub workflow: Option<String>,
    pub environment: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub cron: Option<String>,
    pub duration_secs: Option<u64>,
    pub time_zone: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expired_at: Option<DateTime<Utc>>,
    /// It holds notices now.
    pub active: bool,
}

impl SilenceView {
    /// Whether it covers an instance (matchers only, not time).
    pub fn matches(&self, rule: &str, workflow: &str, environment: &str) -> bool {
        self.rule.as_deref().is_none_or(|r| r == rule)
            && self.workflow.as_deref().is_none_or(|w| w == workflow)
            && self.environment.as_deref().is_none_or(|e| e == environment)
    }
}

/// A backtest over several instances (a rule may cover many workflows):
/// one result per instance with history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BacktestView {
    pub days: u32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub runs: u32,
    pub fired: u32,
    pub resolved: u32,
    pub instances: Vec<InstanceBacktest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceBacktest {
    pub workflow: String,
    pub environment: String,
    #[serde(flatten)]
    pub result: Backtest,
}

/// Filters for the instance and notification lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct AlertFilter {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    /// Instances: a phase; notifications: a delivery status.
    #[serde(default)]
    pub state: Option<String>,
    /// Most entries to return, 1 to 500 (default 500).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}

impl AlertFilter {
    /// Most entries a list returns, and its default.
    pub const MAX_LIMIT: u32 = 500;

    /// The number of entries to return, or the refusal naming `limit`.
    pub fn checked_limit(&self) -> Result<u32, crate::PortError> {
        match self.limit {
            None => Ok(Self::MAX_LIMIT),
            Some(limit) if (1..=Self::MAX_LIMIT).contains(&limit) => Ok(limit),
            Some(_) => Err(crate::PortError::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX_LIMIT),
            )),
        }
    }
}
