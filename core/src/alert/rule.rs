//! An alert rule as people write it (the Alerts page, `POST
//! /api/v1/alerts/rules`, a spec's `alerts:`): what it watches, where, and
//! how it fires and resolves. `kind` picks the condition; the other fields
//! are shared.

use super::state::Policy;
use crate::spec::SpecDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a rule watches. Run-based kinds are judged after every finished
/// run of the workflow in the environment; the others on each evaluation
/// pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RuleKind {
    /// The last `threshold` runs all failed.
    ConsecutiveFailures { threshold: u32 },
    /// At least `ratio` of the runs within `window` failed, counted only
    /// once there are `min_runs`; resolves under `resolve_ratio` (lower,
    /// the hysteresis that keeps a ratio hovering at the line from
    /// flapping).
    FailureRatio {
        ratio: f64,
        min_runs: u32,
        window: SpecDuration,
        #[serde(default)]
        resolve_ratio: Option<f64>,
    },
}

/// A rule: a kind, a scope and how it fires and resolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSpec {
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    /// A workflow name; `None`: every workflow.
    #[serde(default)]
    pub workflow: Option<String>,
    /// An environment; `None`: every environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Successful runs in a row (or clear evaluations) before a firing
    /// alert resolves. At least 1.
    #[serde(default = "one")]
    pub resolve_after: u32,
    /// How long the condition must hold before pending becomes firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<SpecDuration>,
    /// Send a reminder this often while firing; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renotify: Option<SpecDuration>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub severity: super::notification::Severity,
}

fn one() -> u32 {
    1
}

/// What is wrong with a rule, naming the field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError {
        field,
        message: message.into(),
    }
}

const MAX_NAME: usize = 100;
const MAX_THRESHOLD: u32 = 1000;
const MAX_WINDOW: Duration = Duration::from_secs(90 * 24 * 3600);

impl RuleSpec {
    /// Every problem at once, so a form can mark them all.
    pub fn validate(&self) -> Vec<RuleError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.len() > MAX_NAME {
            errors.push(bad(
                "name",
                format!("give the rule a name of 1 to {MAX_NAME} characters"),
            ));
        }
        match &self.kind {
            RuleKind::ConsecutiveFailures { threshold } => {
                if !(1..=MAX_THRESHOLD).contains(threshold) {
                    errors.push(bad(
                        "threshold",
                        format!("failures in a row must be 1 to {MAX_THRESHOLD}"),
                    ));
                }
            }
            RuleKind::FailureRatio {
                ratio,
                min_runs,
                window,
                resolve_ratio,
            } => {
                if !(*ratio > 0.0 && *ratio <= 1.0) {
                    errors.push(bad(
                        "ratio",
                        "a failure ratio above 0 and at most 1, e.g. 0.2",
                    ));
                }
                if !(1..=100_000).contains(min_runs) {
                    errors.push(bad("min_runs", "at least 1 run (and at most 100000)"));
                }
                if window.0.is_zero() || window.0 > MAX_WINDOW {
                    errors.push(bad("window", "a window from 1s to 90d"));
                }
                if let Some(r) = resolve_ratio
                    && !(*r >= 0.0 && r < ratio)
                {
                    errors.push(bad(
                        "resolve_ratio",
                        "resolve below a ratio lower than the firing one (0 up to, not including, ratio)",
                    ));
                }
            }
        }
        if !(1..=MAX_THRESHOLD).contains(&self.resolve_after) {
            errors.push(bad(
                "resolve_after",
                format!("successes in a row before resolving must be 1 to {MAX_THRESHOLD}"),
            ));
        }
        if self.for_duration.is_some_and(|d| d.0 > MAX_WINDOW) {
            errors.push(bad("for_duration", "at most 90d"));
        }
        if self.renotify.is_some_and(|d| d.0 < Duration::from_secs(60)) {
            errors.push(bad("renotify", "remind at most once a minute (e.g. 4h)"));
        }
        errors
    }

    /// The state machine's settings for this rule.
    pub fn policy(&self) -> Policy {
        Policy {
            for_duration: self.for_duration.map_or(Duration::ZERO, |d| d.0),
            resolve_after: self.resolve_after.max(1),
            renotify: self.renotify.map(|d| d.0),
            ..Policy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_rest_shape_parses() {
        let rule: RuleSpec = serde_json::from_str(
            r#"{"name": "nightly keeps failing", "kind": "consecutive_failures", "threshold": 3,
                "workflow": "nightly", "environment": "dev", "resolve_after": 2,
                "channels": ["ops-webhook"]}"#,
        )
        .unwrap();
        assert_eq!(rule.kind, RuleKind::ConsecutiveFailures { threshold: 3 });
        assert_eq!(rule.resolve_after, 2);
        assert_eq!(rule.channels, ["ops-webhook"]);
        assert!(rule.validate().is_empty());
        let ratio: RuleSpec = serde_json::from_str(
            r#"{"name": "flaky", "kind": "failure_ratio", "ratio": 0.2, "min_runs": 10,
                "window": "1h", "resolve_ratio": 0.05}"#,
        )
        .unwrap();
        assert!(ratio.validate().is_empty(), "{:?}", ratio.validate());
        let round: RuleSpec =
            serde_json::from_value(serde_json::to_value(&ratio).unwrap()).unwrap();
        assert_eq!(round, ratio);
    }

    #[test]
    fn every_bad_field_is_named() {
        let rule: RuleSpec = serde_json::from_str(
            r#"{"name": "", "kind": "failure_ratio", "ratio": 1.5, "min_runs": 0,
                "window": "1h", "resolve_ratio": 2.0, "resolve_after": 0, "renotify": "5s"}"#,
        )
        .unwrap();
        let fields: Vec<_> = rule.validate().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "ratio",
                "min_runs",
                "resolve_ratio",
                "resolve_after",
                "renotify"
            ]
        );
    }

    #[test]
    fn unknown_kinds_and_misspelt_fields_are_refused() {
        assert!(serde_json::from_str::<RuleSpec>(r#"{"name":"x","kind":"vibes"}"#).is_err());
        // A misspelt field leaves the real one missing.
        let typo = serde_json::from_str::<RuleSpec>(
            r#"{"name":"x","kind":"consecutive_failures","treshold":4}"#,
        )
        .unwrap_err();
        assert!(typo.to_string().contains("threshold"), "{typo}");
    }
}
