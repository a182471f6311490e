//! One notification as every channel renders it: what happened to which
//! alert instance, when, and where to look. The outbox stores these; the
//! sender turns one into a webhook body, a Slack message, a PagerDuty event
//! or an Alertmanager alert.

use super::state::Notice;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How urgent a rule's alerts are (PagerDuty's severities; Alertmanager
/// gets it as the `severity` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
// Named apart from the SLO pairs' `Severity` (page, ticket) in the
// OpenAPI document, where schemas share one namespace.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AlertSeverity))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Error,
    #[default]
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl Notice {
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Firing => "firing",
            Notice::Reminder => "reminder",
            Notice::Resolved => "resolved",
        }
    }

    /// A reminder is a firing notice again, as receivers see it.
    pub fn status(self) -> &'static str {
        match self {
            Notice::Firing | Notice::Reminder => "firing",
            Notice::Resolved => "resolved",
        }
    }
}

/// A notification to deliver to one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// The outbox entry's id: receivers may use it to drop a repeat
    /// (sent as `Idempotency-Key` where the channel allows headers).
    pub id: String,
    pub notice: NoticeKind,
    /// The alert instance's stable id; PagerDuty's `dedup_key` and the
    /// Alertmanager label `fingerprint`.
    pub fingerprint: String,
    pub rule: String,
    /// The rule's kind (`consecutive_failures`, …).
    pub rule_kind: String,
    pub severity: Severity,
    /// `""` for rules not about one workflow (e.g. queue backlog).
    pub workflow: String,
    pub environment: String,
    /// One line: what happened ("3 runs in a row failed").
    pub summary: String,
    /// When the instance started firing.
    pub started_at: DateTime<Utc>,
    /// When it resolved (resolved notices only).
    pub resolved_at: Option<DateTime<Utc>>,
    /// The run that caused this transition, if a run did.
    pub run_id: Option<String>,
    /// Links back to Gantry (absolute when the public URL is known).
    pub run_url: Option<String>,
    pub alert_url: String,
}

/// `Notice` as stored and sent (serde-friendly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoticeKind {
    Firing,
    Reminder,
    Resolved,
    /// The channel's "Send test" button.
    Test,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Firing => "firing",
            NoticeKind::Reminder => "reminder",
            NoticeKind::Resolved => "resolved",
            NoticeKind::Test => "test",
        }
    }

    /// Whether the receiver should treat it as resolved (a test is sent as
    /// firing, marked as a test in its text and labels).
    pub fn resolves(self) -> bool {
        self == NoticeKind::Resolved
    }
}

impl From<Notice> for NoticeKind {
    fn from(n: Notice) -> Self {
        match n {
            Notice::Firing => NoticeKind::Firing,
            Notice::Reminder => NoticeKind::Reminder,
            Notice::Resolved => NoticeKind::Resolved,
        }
    }
}
