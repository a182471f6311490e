//! The Alerts page's forms as typed: a rule, a channel and a silence, each
//! as text fields, read into the port's types with every field that can't
//! be read named at once (under the names the port uses for its own
//! problems, so both show beside the same field). The same reading serves
//! the server functions (hydrated page) and the server's plain form routes
//! (no JavaScript), which render the page again with the fields as typed.
//!
//! One file per form (`rule.rs`, `channel.rs`, `silence.rs`); the reading
//! they share (`Reader`, field names, durations, labels) is here.

mod channel;
mod rule;
mod silence;
#[cfg(test)]
mod tests;

pub use channel::ChannelFields;
pub use rule::RuleFields;
pub use silence::SilenceFields;

use gantry_core::spec::{SpecDuration, SpecProblem};
use std::collections::BTreeMap;

/// Every rule kind, its form value and how the page names it.
pub const RULE_KINDS: [(&str, &str); 9] = [
    ("consecutive_failures", "Consecutive failures"),
    ("failure_ratio", "Failure ratio"),
    ("run_too_long", "Run too long"),
    ("missed_schedule", "Missed schedule"),
    ("queue_backlog", "Queue backlog"),
    ("auth_failures", "Authentication failures"),
    ("privilege_escalation", "Privilege escalation"),
    ("slo_burn", "SLO burn"),
    ("rollout_attention", "Rollout needs a person"),
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

/// `rule[name]` → `name`, `channels[]` → `channels`.
pub(super) fn bare(key: &str) -> &str {
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

pub(super) fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A duration as the form shows it (`5m`, `1h 30m`).
pub(super) fn text_of(d: Option<SpecDuration>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

pub(super) fn parse_labels(
    text: &str,
    problems: &mut Vec<SpecProblem>,
) -> BTreeMap<String, String> {
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
pub(super) struct Reader {
    pub(super) problems: Vec<SpecProblem>,
}

impl Reader {
    pub(super) fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(SpecProblem::new(path, message));
    }

    pub(super) fn number<T: std::str::FromStr>(
        &mut self,
        text: &str,
        path: &str,
        what: &str,
    ) -> Option<T> {
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

    pub(super) fn duration(&mut self, text: &str, path: &str) -> Option<SpecDuration> {
        if text.trim().is_empty() {
            self.problem(path, "required: a duration like 30m, 2h or 1d");
            return None;
        }
        self.optional_duration(text, path).flatten()
    }

    /// `Some(None)` for an empty field, `None` for one that can't be read.
    pub(super) fn optional_duration(
        &mut self,
        text: &str,
        path: &str,
    ) -> Option<Option<SpecDuration>> {
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
