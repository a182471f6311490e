//! The Alerts page's forms as typed: a rule, a channel and a silence, each
//! as text fields, read into the port's types with every field that can't
//! be read named at once (under the names the port uses for its own
//! problems, so both show beside the same field). The same reading serves
//! the server functions (hydrated page) and the server's plain form routes
//! (no JavaScript), which render the page again with the fields as typed.

use chrono::{DateTime, Utc};
use gantry_core::PortError;
use gantry_core::alert::view::SilenceSpec;
use gantry_core::alert::{ChannelKind, ChannelSpec, RuleSpec, SigningKey};
use gantry_core::spec::{SpecDuration, SpecProblem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every rule kind, its form value and how the page names it.
pub const RULE_KINDS: [(&str, &str); 8] = [
    ("consecutive_failures", "Consecutive failures"),
    ("failure_ratio", "Failure ratio"),
    ("run_too_long", "Run too long"),
    ("missed_schedule", "Missed schedule"),
    ("queue_backlog", "Queue backlog"),
    ("auth_failures", "Authentication failures"),
    ("privilege_escalation", "Privilege escalation"),
    ("slo_burn", "SLO burn"),
];

pub const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

pub const CHANNEL_KINDS: [(&str, &str); 4] = [
    ("webhook", "Webhook (signed JSON)"),
    ("slack", "Slack incoming webhook"),
    ("pagerduty", "PagerDuty Events API v2"),
    ("alertmanager", "Alertmanager"),
];

/// How a rule kind reads on the page ("Failure ratio").
pub fn kind_label(kind: &str) -> &'static str {
    RULE_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Unknown kind", |(_, label)| label)
}

/// A rule form as typed. Only the fields of `kind` are read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleFields {
    /// Editing: the rule's name before this change (it may be renamed).
    pub original: String,
    pub name: String,
    pub kind: String,
    pub threshold: String,
    pub ratio: String,
    pub min_runs: String,
    /// Failure ratio's and authentication failures' window.
    pub window: String,
    pub resolve_ratio: String,
    pub max_duration: String,
    pub target: String,
    pub grace: String,
    pub max_depth: String,
    pub max_oldest_age: String,
    pub max_failures: String,
    /// A checkbox: `true` when ticked.
    pub per_source: String,
    pub pairs: String,
    pub workflow: String,
    /// `team=data, tier=gold`.
    pub labels: String,
    pub environment: String,
    pub for_duration: String,
    pub resolve_after: String,
    pub renotify: String,
    pub severity: String,
    pub channels: Vec<String>,
    /// The backtest's span: 7 or 30 days.
    pub days: String,
}

impl RuleFields {
    /// The form's field names (`channels` repeats, one per ticked box).
    pub const NAMES: [&'static str; 25] = [
        "original",
        "name",
        "kind",
        "threshold",
        "ratio",
        "min_runs",
        "window",
        "resolve_ratio",
        "max_duration",
        "target",
        "grace",
        "max_depth",
        "max_oldest_age",
        "max_failures",
        "per_source",
        "pairs",
        "workflow",
        "labels",
        "environment",
        "for_duration",
        "resolve_after",
        "renotify",
        "severity",
        "channels",
        "days",
    ];

    /// From a url-encoded form or query (`channels` once per value;
    /// `channels[]` and `rule[name]` as a server function writes them are
    /// read too). Unknown names are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> RuleFields {
        let mut f = RuleFields::default();
        for (key, value) in pairs {
            let key = bare(key);
            let slot = match key {
                "channels" => {
                    if !value.trim().is_empty() {
                        f.channels.push(value.trim().to_owned());
                    }
                    continue;
                }
                "original" => &mut f.original,
                "name" => &mut f.name,
                "kind" => &mut f.kind,
                "threshold" => &mut f.threshold,
                "ratio" => &mut f.ratio,
                "min_runs" => &mut f.min_runs,
                "window" => &mut f.window,
                "resolve_ratio" => &mut f.resolve_ratio,
                "max_duration" => &mut f.max_duration,
                "target" => &mut f.target,
                "grace" => &mut f.grace,
                "max_depth" => &mut f.max_depth,
                "max_oldest_age" => &mut f.max_oldest_age,
                "max_failures" => &mut f.max_failures,
                "per_source" => &mut f.per_source,
                "pairs" => &mut f.pairs,
                "workflow" => &mut f.workflow,
                "labels" => &mut f.labels,
                "environment" => &mut f.environment,
                "for_duration" => &mut f.for_duration,
                "resolve_after" => &mut f.resolve_after,
                "renotify" => &mut f.renotify,
                "severity" => &mut f.severity,
                "days" => &mut f.days,
                _ => continue,
            };
            slot.clone_from(value);
        }
        f
    }

    /// A saved rule as the form shows it for editing.
    pub fn of(spec: &RuleSpec) -> RuleFields {
        use gantry_core::alert::RuleKind as K;
        let mut f = RuleFields {
            original: spec.name.clone(),
            name: spec.name.clone(),
            kind: spec.kind.as_str().to_owned(),
            workflow: spec.workflow.clone().unwrap_or_default(),
            labels: spec
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            environment: spec.environment.clone().unwrap_or_default(),
            for_duration: text_of(spec.for_duration),
            resolve_after: spec.resolve_after.to_string(),
            renotify: text_of(spec.renotify),
            severity: spec.severity.as_str().to_owned(),
            channels: spec.channels.clone(),
            ..RuleFields::default()
        };
        match &spec.kind {
            K::ConsecutiveFailures { threshold } => f.threshold = threshold.to_string(),
            K::FailureRatio {
                ratio,
                min_runs,
                window,
                resolve_ratio,
            } => {
                f.ratio = ratio.to_string();
                f.min_runs = min_runs.to_string();
                f.window = window.to_string();
                f.resolve_ratio = resolve_ratio.map(|r| r.to_string()).unwrap_or_default();
            }
            K::RunTooLong {
                max_duration,
                target,
            } => {
                f.max_duration = max_duration.to_string();
                f.target = target.as_str().to_owned();
            }
            K::MissedSchedule { grace } => f.grace = grace.to_string(),
            K::QueueBacklog {
                max_depth,
                max_oldest_age,
            } => {
                f.max_depth = max_depth.map(|d| d.to_string()).unwrap_or_default();
                f.max_oldest_age = text_of(*max_oldest_age);
            }
            K::AuthFailures {
                max_failures,
                window,
                per_source,
            } => {
                f.max_failures = max_failures.to_string();
                f.window = window.to_string();
                f.per_source = if *per_source {
                    "true".into()
                } else {
                    String::new()
                };
            }
            K::PrivilegeEscalation {} => {}
            K::SloBurn { pairs } => {
                f.pairs = match pairs {
                    gantry_core::slo::Severity::Page => "page".into(),
                    gantry_core::slo::Severity::Ticket => "ticket".into(),
                }
            }
        }
        f
    }

    /// The rule the form describes, or every field that can't be read.
    /// Bounds are the port's to check.
    pub fn to_spec(&self) -> Result<RuleSpec, PortError> {
        let mut r = Reader::default();
        let kind = self.kind(&mut r);
        let labels = parse_labels(&self.labels, &mut r.problems);
        let resolve_after = if self.resolve_after.trim().is_empty() {
            Some(1)
        } else {
            r.number::<u32>(
                &self.resolve_after,
                "resolve_after",
                "a whole number, e.g. 2",
            )
        };
        let for_duration = r.optional_duration(&self.for_duration, "for_duration");
        let renotify = r.optional_duration(&self.renotify, "renotify");
        let severity = match self.severity.trim() {
            "" => Some(Default::default()),
            s => {
                let parsed = serde_json::from_value(serde_json::Value::String(s.to_owned())).ok();
                if parsed.is_none() {
                    r.problem("severity", "choose critical, error, warning or info");
                }
                parsed
            }
        };
        match (kind, resolve_after, for_duration, renotify, severity) {
            (
                Some(kind),
                Some(resolve_after),
                Some(for_duration),
                Some(renotify),
                Some(severity),
            ) if r.problems.is_empty() => Ok(RuleSpec {
                name: self.name.trim().to_owned(),
                kind,
                workflow: given(&self.workflow),
                labels,
                environment: given(&self.environment),
                resolve_after,
                for_duration,
                renotify,
                channels: self.channels.clone(),
                severity,
            }),
            _ => Err(PortError::Unprocessable {
                message: "the rule is not valid".into(),
                problems: r.problems,
            }),
        }
    }

    fn kind(&self, r: &mut Reader) -> Option<gantry_core::alert::RuleKind> {
        use gantry_core::alert::RuleKind as K;
        Some(match self.kind.trim() {
            "consecutive_failures" => K::ConsecutiveFailures {
                threshold: r.number(&self.threshold, "threshold", "a whole number, e.g. 3")?,
            },
            "failure_ratio" => {
                let ratio = r.number(&self.ratio, "ratio", "a fraction, e.g. 0.5 for 50%");
                let min_runs = r.number(&self.min_runs, "min_runs", "a whole number, e.g. 5");
                let window = r.duration(&self.window, "window");
                let resolve_ratio = if self.resolve_ratio.trim().is_empty() {
                    Some(None)
                } else {
                    r.number(
                        &self.resolve_ratio,
                        "resolve_ratio",
                        "a fraction below the ratio, e.g. 0.2",
                    )
                    .map(Some)
                };
                K::FailureRatio {
                    ratio: ratio?,
                    min_runs: min_runs?,
                    window: window?,
                    resolve_ratio: resolve_ratio?,
                }
            }
            "run_too_long" => {
                let max_duration = r.duration(&self.max_duration, "max_duration");
                let target = match self.target.trim() {
                    "" | "run" => Some(gantry_core::alert::LongTarget::Run),
                    "step" => Some(gantry_core::alert::LongTarget::Step),
                    _ => {
                        r.problem("target", "choose run or step");
                        None
                    }
                };
                K::RunTooLong {
                    max_duration: max_duration?,
                    target: target?,
                }
            }
            "missed_schedule" => K::MissedSchedule {
                grace: r.duration(&self.grace, "grace")?,
            },
            "queue_backlog" => {
                let max_depth = if self.max_depth.trim().is_empty() {
                    Some(None)
                } else {
                    r.number(&self.max_depth, "max_depth", "a whole number of steps")
                        .map(Some)
                };
                let max_oldest_age = r.optional_duration(&self.max_oldest_age, "max_oldest_age");
                K::QueueBacklog {
                    max_depth: max_depth?,
                    max_oldest_age: max_oldest_age?,
                }
            }
            "auth_failures" => {
                let max_failures = r.number(
                    &self.max_failures,
                    "max_failures",
                    "a whole number, e.g. 20",
                );
                let window = r.duration(&self.window, "window");
                K::AuthFailures {
                    max_failures: max_failures?,
                    window: window?,
                    per_source: checked(&self.per_source),
                }
            }
            "privilege_escalation" => K::PrivilegeEscalation {},
            "slo_burn" => K::SloBurn {
                pairs: match self.pairs.trim() {
                    "" | "page" => gantry_core::slo::Severity::Page,
                    "ticket" => gantry_core::slo::Severity::Ticket,
                    _ => {
                        r.problem("pairs", "choose page or ticket");
                        return None;
                    }
                },
            },
            other => {
                r.problem(
                    "kind",
                    format!("{other:?} is not a kind of rule; choose one from the list"),
                );
                return None;
            }
        })
    }

    /// The backtest's span in days (7 unless 30 was chosen).
    pub fn backtest_days(&self) -> u32 {
        match self.days.trim() {
            "30" => 30,
            _ => 7,
        }
    }
}

/// A channel form as typed. Credentials are write-only: the form never
/// shows them back, and a refused form is shown again without them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelFields {
    /// Editing: the channel's name (channels can't be renamed).
    pub original: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub key_id: String,
    pub key_secret: String,
    pub next_key_id: String,
    pub next_key_secret: String,
    pub routing_key: String,
    pub bearer_token: String,
}

impl std::fmt::Debug for ChannelFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelFields")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl ChannelFields {
    pub const NAMES: [&'static str; 10] = [
        "original",
        "name",
        "kind",
        "url",
        "key_id",
        "key_secret",
        "next_key_id",
        "next_key_secret",
        "routing_key",
        "bearer_token",
    ];

    pub fn from_pairs(pairs: &[(String, String)]) -> ChannelFields {
        let mut f = ChannelFields::default();
        for (key, value) in pairs {
            let slot = match bare(key) {
                "original" => &mut f.original,
                "name" => &mut f.name,
                "kind" => &mut f.kind,
                "url" => &mut f.url,
                "key_id" => &mut f.key_id,
                "key_secret" => &mut f.key_secret,
                "next_key_id" => &mut f.next_key_id,
                "next_key_secret" => &mut f.next_key_secret,
                "routing_key" => &mut f.routing_key,
                "bearer_token" => &mut f.bearer_token,
                _ => continue,
            };
            slot.clone_from(value);
        }
        f
    }

    /// What may be shown again: everything but the credentials (and Slack's
    /// URL, which is one).
    pub fn without_credentials(&self) -> ChannelFields {
        ChannelFields {
            original: self.original.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            url: if self.kind == "slack" {
                String::new()
            } else {
                self.url.clone()
            },
            key_id: self.key_id.clone(),
            next_key_id: self.next_key_id.clone(),
            ..ChannelFields::default()
        }
    }

    /// The channel the form describes; the port checks the rest.
    pub fn to_spec(&self) -> Result<ChannelSpec, PortError> {
        let kind = match self.kind.trim() {
            "webhook" => ChannelKind::Webhook,
            "slack" => ChannelKind::Slack,
            "pagerduty" => ChannelKind::Pagerduty,
            "alertmanager" => ChannelKind::Alertmanager,
            other => {
                return Err(PortError::Unprocessable {
                    message: "the channel is not valid".into(),
                    problems: vec![SpecProblem::new(
                        "kind",
                        format!(
                            "{other:?} is not a kind of channel: webhook, slack, pagerduty or alertmanager"
                        ),
                    )],
                });
            }
        };
        let mut signing_keys = Vec::new();
        if kind == ChannelKind::Webhook {
            for (id, secret) in [
                (&self.key_id, &self.key_secret),
                (&self.next_key_id, &self.next_key_secret),
            ] {
                if !(id.trim().is_empty() && secret.is_empty()) {
                    signing_keys.push(SigningKey {
                        id: id.trim().to_owned(),
                        secret: secret.clone(),
                    });
                }
            }
        }
        let only = |wanted: ChannelKind, text: &str| {
            (kind == wanted)
                .then(|| text.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        Ok(ChannelSpec {
            name: self.name.trim().to_owned(),
            kind: Some(kind),
            url: given(&self.url),
            signing_keys,
            routing_key: only(ChannelKind::Pagerduty, &self.routing_key),
            bearer_token: only(ChannelKind::Alertmanager, &self.bearer_token),
        })
    }
}

/// A silence or mute window form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SilenceFields {
    pub rule: String,
    pub workflow: String,
    pub environment: String,
    /// `once` (a silence) or `window` (a recurring mute window).
    pub mode: String,
    /// A `datetime-local` value in UTC, or RFC 3339.
    pub ends_at: String,
    /// A silence's length instead of its end (`2h`).
    pub lasts: String,
    pub cron: String,
    pub duration: String,
    pub time_zone: String,
    pub reason: String,
}

impl SilenceFields {
    pub const NAMES: [&'static str; 10] = [
        "rule",
        "workflow",
        "environment",
        "mode",
        "ends_at",
        "lasts",
        "cron",
        "duration",
        "time_zone",
        "reason",
    ];

    pub fn from_pairs(pairs: &[(String, String)]) -> SilenceFields {
        let mut f = SilenceFields::default();
        for (key, value) in pairs {
            let slot = match bare(key) {
                "rule" => &mut f.rule,
                "workflow" => &mut f.workflow,
                "environment" => &mut f.environment,
                "mode" => &mut f.mode,
                "ends_at" => &mut f.ends_at,
                "lasts" => &mut f.lasts,
                "cron" => &mut f.cron,
                "duration" => &mut f.duration,
                "time_zone" => &mut f.time_zone,
                "reason" => &mut f.reason,
                _ => continue,
            };
            slot.clone_from(value);
        }
        f
    }

    pub fn is_window(&self) -> bool {
        self.mode.trim() == "window"
    }

    /// The silence the form describes, ending `lasts` after `now` when no
    /// end is given. The port checks the rest.
    pub fn to_spec(&self, now: DateTime<Utc>) -> Result<SilenceSpec, PortError> {
        let mut r = Reader::default();
        let mut spec = SilenceSpec {
            rule: given(&self.rule),
            workflow: given(&self.workflow),
            environment: given(&self.environment),
            reason: self.reason.trim().to_owned(),
            ..SilenceSpec::default()
        };
        if self.is_window() {
            spec.cron = given(&self.cron);
            spec.duration = r.optional_duration(&self.duration, "duration").flatten();
            spec.time_zone = given(&self.time_zone);
        } else if !self.ends_at.trim().is_empty() {
            match crate::api::parse_at(&self.ends_at) {
                Ok(at) => spec.ends_at = Some(at),
                Err(_) => r.problem(
                    "ends_at",
                    "write the end like 2026-03-01T14:30 (UTC), or give how long it lasts",
                ),
            }
        } else if let Some(Some(lasts)) = r.optional_duration(&self.lasts, "lasts") {
            spec.ends_at = chrono::Duration::from_std(lasts.0)
                .ok()
                .and_then(|d| now.checked_add_signed(d));
        }
        if r.problems.is_empty() {
            Ok(spec)
        } else {
            Err(PortError::Unprocessable {
                message: "the silence is not valid".into(),
                problems: r.problems,
            })
        }
    }
}

/// `rule[name]` → `name`, `channels[]` → `channels`.
fn bare(key: &str) -> &str {
    let key = key
        .strip_prefix("rule[")
        .or_else(|| key.strip_prefix("channel["))
        .or_else(|| key.strip_prefix("silence["))
        .map_or(key, |rest| rest.split(']').next().unwrap_or(rest));
    key.strip_suffix("[]").unwrap_or(key)
}

/// A ticked checkbox.
pub fn checked(value: &str) -> bool {
    matches!(value.trim(), "true" | "on" | "1")
}

fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A duration as the form shows it (`5m`, `1h 30m`).
fn text_of(d: Option<SpecDuration>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn parse_labels(text: &str, problems: &mut Vec<SpecProblem>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for part in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                labels.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => problems.push(SpecProblem::new(
                "labels",
                format!(
                    "{part:?} is not a label; write key=value pairs, e.g. team=data, tier=gold"
                ),
            )),
        }
    }
    labels
}

/// Collects the problems of one form while reading it.
#[derive(Default)]
struct Reader {
    problems: Vec<SpecProblem>,
}

impl Reader {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(SpecProblem::new(path, message));
    }

    fn number<T: std::str::FromStr>(&mut self, text: &str, path: &str, what: &str) -> Option<T> {
        let parsed = text.trim().parse::<T>().ok();
        if parsed.is_none() {
            let message = if text.trim().is_empty() {
                format!("required: {what}")
            } else {
                format!("{:?} is not a number; write {what}", text.trim())
            };
            self.problem(path, message);
        }
        parsed
    }

    fn duration(&mut self, text: &str, path: &str) -> Option<SpecDuration> {
        if text.trim().is_empty() {
            self.problem(path, "required: a duration like 30m, 2h or 1d");
            return None;
        }
        self.optional_duration(text, path).flatten()
    }

    /// `Some(None)` for an empty field, `None` for one that can't be read.
    fn optional_duration(&mut self, text: &str, path: &str) -> Option<Option<SpecDuration>> {
        let text = text.trim();
        if text.is_empty() {
            return Some(None);
        }
        match serde_json::from_value::<SpecDuration>(serde_json::Value::String(text.to_owned())) {
            Ok(d) => Some(Some(d)),
            Err(_) => {
                self.problem(
                    path,
                    format!("{text:?} is not a duration; write it like 30m, 2h or 1d"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::alert::RuleKind;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_consecutive_failures_form_reads_as_the_rule_the_api_takes() {
        let fields = RuleFields::from_pairs(&pairs(&[
            ("name", " flaky keeps failing "),
            ("kind", "consecutive_failures"),
            ("threshold", "3"),
            ("ratio", "not read for this kind"),
            ("workflow", "flaky"),
            ("environment", "dev"),
            ("labels", "team=data, tier = gold"),
            ("resolve_after", "2"),
            ("for_duration", "5m"),
            ("severity", "critical"),
            ("channels", "ops"),
            ("channels[]", "pager"),
        ]));
        let spec = fields.to_spec().unwrap();
        let api: RuleSpec = serde_json::from_value(serde_json::json!({
            "name": "flaky keeps failing", "kind": "consecutive_failures", "threshold": 3,
            "workflow": "flaky", "environment": "dev", "labels": {"team": "data", "tier": "gold"},
            "resolve_after": 2, "for_duration": "5m", "severity": "critical",
            "channels": ["ops", "pager"]
        }))
        .unwrap();
        assert_eq!(spec, api);
        // And back into the form for editing, then read again: the same rule.
        assert_eq!(RuleFields::of(&spec).to_spec().unwrap(), spec);
    }

    #[test]
    fn every_kind_round_trips_through_the_form() {
        let kinds = [
            serde_json::json!({"kind": "failure_ratio", "ratio": 0.5, "min_runs": 4, "window": "1h", "resolve_ratio": 0.2}),
            serde_json::json!({"kind": "run_too_long", "max_duration": "2h", "target": "step"}),
            serde_json::json!({"kind": "missed_schedule", "grace": "10m"}),
            serde_json::json!({"kind": "queue_backlog", "max_depth": 100, "max_oldest_age": "5m"}),
            serde_json::json!({"kind": "auth_failures", "max_failures": 20, "window": "5m", "per_source": true}),
            serde_json::json!({"kind": "privilege_escalation"}),
            serde_json::json!({"kind": "slo_burn", "pairs": "ticket"}),
        ];
        for mut kind in kinds {
            kind["name"] = "r".into();
            let spec: RuleSpec = serde_json::from_value(kind).unwrap();
            let fields = RuleFields::of(&spec);
            assert_eq!(fields.to_spec().unwrap(), spec, "{fields:?}");
        }
        assert_eq!(RULE_KINDS.len(), 8);
    }

    #[test]
    fn every_unreadable_field_is_named_under_the_ports_name_for_it() {
        let fields = RuleFields {
            name: "r".into(),
            kind: "failure_ratio".into(),
            ratio: "half".into(),
            min_runs: String::new(),
            window: "soon".into(),
            labels: "team".into(),
            resolve_after: "two".into(),
            renotify: "often".into(),
            ..RuleFields::default()
        };
        let Err(PortError::Unprocessable { problems, .. }) = fields.to_spec() else {
            panic!("expected problems");
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "ratio",
                "min_runs",
                "window",
                "labels",
                "resolve_after",
                "renotify"
            ]
        );
        let unknown = RuleFields {
            kind: "canary".into(),
            ..RuleFields::default()
        };
        assert!(unknown.to_spec().is_err());
        assert!(matches!(
            RuleFields {
                kind: "privilege_escalation".into(),
                ..RuleFields::default()
            }
            .to_spec()
            .unwrap()
            .kind,
            RuleKind::PrivilegeEscalation {}
        ));
    }

    #[test]
    fn channel_credentials_go_to_the_port_and_never_back_into_the_form() {
        let fields = ChannelFields::from_pairs(&pairs(&[
            ("name", "ops"),
            ("kind", "webhook"),
            ("url", "http://127.0.0.1:9/hook"),
            ("key_id", "k2"),
            ("key_secret", "0123456789abcdef-secret"),
            ("routing_key", "ignored for webhooks"),
        ]));
        let spec = fields.to_spec().unwrap();
        assert_eq!(spec.signing_keys.len(), 1);
        assert_eq!(spec.signing_keys[0].id, "k2");
        assert_eq!(spec.routing_key, None);
        let shown = fields.without_credentials();
        assert_eq!(shown.key_secret, "");
        assert_eq!(shown.url, "http://127.0.0.1:9/hook");
        assert!(!format!("{fields:?}").contains("secret"));
        let slack = ChannelFields {
            kind: "slack".into(),
            url: "https://hooks.slack.example/T/B/X".into(),
            ..ChannelFields::default()
        };
        assert_eq!(slack.without_credentials().url, "");
    }

    #[test]
    fn a_silence_ends_at_a_moment_or_after_a_while_and_a_window_recurs() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let lasting = SilenceFields {
            workflow: "flaky".into(),
            lasts: "2h".into(),
            reason: "deploying".into(),
            ..SilenceFields::default()
        };
        let spec = lasting.to_spec(now).unwrap();
        assert_eq!(spec.ends_at, Some(now + chrono::Duration::hours(2)));
        assert_eq!(spec.workflow.as_deref(), Some("flaky"));
        let until = SilenceFields {
            ends_at: "2026-03-02T08:30".into(),
            ..lasting.clone()
        };
        assert_eq!(
            until.to_spec(now).unwrap().ends_at.map(|t| t.to_rfc3339()),
            Some("2026-03-02T08:30:00+00:00".into())
        );
        let window = SilenceFields {
            mode: "window".into(),
            cron: "0 2 * * *".into(),
            duration: "2h".into(),
            time_zone: "Europe/Berlin".into(),
            ..lasting
        };
        let spec = window.to_spec(now).unwrap();
        assert_eq!(spec.cron.as_deref(), Some("0 2 * * *"));
        assert_eq!(spec.ends_at, None);
        let bad = SilenceFields {
            ends_at: "tomorrow".into(),
            ..SilenceFields::default()
        };
        assert!(bad.to_spec(now).is_err());
    }
}
