//! One notification as every channel renders it: what happened to which
//! alert instance, when, and where to look. The outbox stores these; the
//! sender turns one into a webhook body, a Slack message, a PagerDuty event
//! or an Alertmanager alert.

use super::rule::RuleSpec;
use super::state::{Instance, Notice, Phase};
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

/// Where notifications link back to: the server's public URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Links {
    pub public_url: String,
}

impl Links {
    pub fn run(&self, run_id: &str) -> String {
        format!("{}/runs/{run_id}", self.public_url.trim_end_matches('/'))
    }

    pub fn alert(&self, rule: &str) -> String {
        let rule: String = form_urlencoded::byte_serialize(rule.as_bytes()).collect();
        format!(
            "{}/alerts?rule={rule}",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// An instance going away with its rule (deleted, or changed so that its
/// instances start over).
#[derive(Debug, Clone)]
pub struct Withdrawn<'a> {
    pub rule: &'a RuleSpec,
    pub fingerprint: &'a str,
    pub workflow: &'a str,
    pub environment: &'a str,
    pub state: &'a Instance,
    pub last_run_id: Option<&'a str>,
    /// Why: "the rule was deleted".
    pub why: &'a str,
}

impl Withdrawn<'_> {
    /// The resolve notices owed when an instance that was announced firing
    /// disappears: without them a receiver (a PagerDuty incident, an
    /// Alertmanager alert) stays open with nothing left to resolve it. One
    /// per channel of the rule; none if its firing was never sent (it was
    /// silenced, or only pending). `ids` gives each notification its id.
    pub fn resolves(
        &self,
        links: &Links,
        now: DateTime<Utc>,
        mut ids: impl FnMut() -> String,
    ) -> Vec<(String, Notification)> {
        if self.state.phase != Phase::Firing || !self.state.firing_sent {
            return Vec::new();
        }
        let started_at = self
            .state
            .recent_firings
            .last()
            .copied()
            .unwrap_or(self.state.since);
        self.rule
            .channels
            .iter()
            .map(|channel| {
                (
                    channel.clone(),
                    Notification {
                        id: ids(),
                        notice: NoticeKind::Resolved,
                        fingerprint: self.fingerprint.to_owned(),
                        rule: self.rule.name.clone(),
                        rule_kind: self.rule.kind.as_str().to_owned(),
                        severity: self.rule.severity,
                        workflow: self.workflow.to_owned(),
                        environment: self.environment.to_owned(),
                        summary: format!("resolved: {}", self.why),
                        started_at,
                        resolved_at: Some(now),
                        run_id: self.last_run_id.map(str::to_owned),
                        run_url: self.last_run_id.map(|r| links.run(r)),
                        alert_url: links.alert(&self.rule.name),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::state::Instance;

    fn rule() -> RuleSpec {
        serde_json::from_value(serde_json::json!({
            "name": "nightly failing", "kind": "consecutive_failures", "threshold": 3,
            "channels": ["ops", "pager"]}))
        .unwrap()
    }

    #[test]
    fn an_announced_firing_is_owed_one_resolve_per_channel_when_withdrawn() {
        let now = chrono::Utc::now();
        let rule = rule();
        let mut state = Instance::new(now);
        let links = Links {
            public_url: "https://gantry.example/".into(),
        };
        let gone = |state: &Instance| {
            Withdrawn {
                rule: &rule,
                fingerprint: "fp",
                workflow: "nightly",
                environment: "prod",
                state,
                last_run_id: Some("r-9"),
                why: "the rule was deleted",
            }
            .resolves(&links, now, || "n".into())
        };
        assert!(gone(&state).is_empty(), "never fired: nothing owed");
        state.phase = Phase::Firing;
        assert!(gone(&state).is_empty(), "firing but never announced");
        state.firing_sent = true;
        let owed = gone(&state);
        let channels: Vec<&str> = owed.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(channels, ["ops", "pager"]);
        let n = &owed[0].1;
        assert_eq!(n.notice, NoticeKind::Resolved);
        assert_eq!(n.fingerprint, "fp");
        assert_eq!(n.summary, "resolved: the rule was deleted");
        assert_eq!(n.resolved_at, Some(now));
        assert_eq!(
            n.run_url.as_deref(),
            Some("https://gantry.example/runs/r-9")
        );
        assert_eq!(
            n.alert_url,
            "https://gantry.example/alerts?rule=nightly+failing"
        );
    }
}
