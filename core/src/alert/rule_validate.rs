//! The bounds a rule must keep, each problem naming its field. Durations a
//! pass judges are at least a minute: the server evaluates about that
//! often, so a shorter one could not be told from noise.

use super::rule::{Reach, RuleError, RuleKind, RuleSpec};
use super::scope;
use crate::spec::SpecDuration;
use crate::text::{self, Lines};
use std::time::Duration;

fn bad(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError {
        field,
        message: message.into(),
    }
}

const MAX_NAME: usize = text::MAX_NAME_CHARS;
const MAX_THRESHOLD: u32 = 1000;
const MAX_WINDOW: Duration = Duration::from_secs(90 * 24 * 3600);
const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_DEPTH: u64 = 10_000_000;
const MAX_AUTH_FAILURES: u32 = 100_000;

/// `Some(problem)` unless `min <= d <= max`.
fn outside(d: SpecDuration, min: Duration, max: Duration, range: &str) -> Option<String> {
    (d.0 < min || d.0 > max).then(|| format!("{d} is outside {range}"))
}

impl RuleSpec {
    /// Every problem at once, so a form can mark them all.
    pub fn validate(&self) -> Vec<RuleError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.push(bad(
                "name",
                format!("give the rule a name of 1 to {MAX_NAME} characters"),
            ));
        } else if let Err(why) = text::check(name, MAX_NAME, Lines::One) {
            // Shown on the page and in every notification: no control or
            // invisible characters that would disguise it.
            errors.push(bad("name", format!("the name {why}")));
        }
        check_kind(&self.kind, &mut errors);
        check_scope(self, &mut errors);
        if !(1..=MAX_THRESHOLD).contains(&self.resolve_after) {
            errors.push(bad(
                "resolve_after",
                format!("successes in a row before resolving must be 1 to {MAX_THRESHOLD}"),
            ));
        }
        if let Some(d) = self.for_duration {
            if d.0 > MAX_WINDOW {
                errors.push(bad("for_duration", "at most 90d"));
            } else if matches!(self.kind, RuleKind::PrivilegeEscalation {}) && !d.0.is_zero() {
                // The record is seen on one pass only: waiting for it to
                // last would mean it never fires.
                errors.push(bad(
                    "for_duration",
                    "a privilege escalation is one event and fires at once; remove for_duration",
                ));
            }
        }
        if self.renotify.is_some_and(|d| d.0 < MINUTE) {
            errors.push(bad("renotify", "remind at most once a minute (e.g. 4h)"));
        }
        errors
    }
}

fn check_kind(kind: &RuleKind, errors: &mut Vec<RuleError>) {
    match kind {
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
        RuleKind::RunTooLong { max_duration, .. } => {
            if let Some(why) = outside(*max_duration, MINUTE, WEEK, "1m to 7d") {
                errors.push(bad(
                    "max_duration",
                    format!("how long a run may go on: {why}"),
                ));
            }
        }
        RuleKind::MissedSchedule { grace } => {
            if let Some(why) = outside(*grace, MINUTE, WEEK, "1m to 7d") {
                errors.push(bad(
                    "grace",
                    format!("how late a slot's run may start: {why}"),
                ));
            }
        }
        RuleKind::QueueBacklog {
            max_depth,
            max_oldest_age,
        } => {
            if max_depth.is_none() && max_oldest_age.is_none() {
                errors.push(bad(
                    "max_depth",
                    "give max_depth (steps waiting), max_oldest_age (how long the oldest waits) or both",
                ));
            }
            if max_depth.is_some_and(|d| !(1..=MAX_DEPTH).contains(&d)) {
                errors.push(bad(
                    "max_depth",
                    format!("steps waiting must be 1 to {MAX_DEPTH}"),
                ));
            }
            if let Some(why) = max_oldest_age.and_then(|a| outside(a, MINUTE, WEEK, "1m to 7d")) {
                errors.push(bad("max_oldest_age", why));
            }
        }
        RuleKind::AuthFailures {
            max_failures,
            window,
            ..
        } => {
            if !(1..=MAX_AUTH_FAILURES).contains(max_failures) {
                errors.push(bad(
                    "max_failures",
                    format!("failures allowed within the window must be 1 to {MAX_AUTH_FAILURES}"),
                ));
            }
            if let Some(why) = outside(*window, MINUTE, DAY, "1m to 1d") {
                errors.push(bad("window", why));
            }
        }
        RuleKind::PrivilegeEscalation {}
        | RuleKind::SloBurn { .. }
        | RuleKind::RolloutAttention {} => {}
    }
}

fn check_scope(rule: &RuleSpec, errors: &mut Vec<RuleError>) {
    let about_installation = rule.kind.reach() == Reach::Installation;
    let kind = rule.kind.as_str();
    if let Some(pattern) = &rule.workflow {
        if about_installation {
            errors.push(bad(
                "workflow",
                format!("{kind} is about the whole installation, not a workflow; remove workflow"),
            ));
        } else if let Some(why) = scope::pattern_problem(pattern) {
            errors.push(bad("workflow", why));
        }
    }
    if !rule.labels.is_empty() && about_installation {
        errors.push(bad(
            "labels",
            format!("{kind} is about the whole installation, not workflows; remove labels"),
        ));
    } else if let Some(why) = scope::labels_problem(&rule.labels) {
        errors.push(bad("labels", why));
    }
    if let Some(env) = &rule.environment {
        if matches!(
            rule.kind,
            RuleKind::QueueBacklog { .. } | RuleKind::AuthFailures { .. }
        ) {
            errors.push(bad(
                "environment",
                format!("{kind} is not about one environment; remove environment"),
            ));
        } else if let Err(e) = crate::Environment::parse(env) {
            errors.push(bad("environment", e.to_string()));
        }
    }
}
