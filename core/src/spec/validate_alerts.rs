//! A spec's `labels:` and its own alert rules (`alerts:`). Each rule is
//! checked as the Alerts page checks one ([`RuleSpec::validate`]), its
//! problems placed at `alerts[i].FIELD`, plus what only the spec can tell:
//! a spec's rules are about its workflow (no `workflow` or `labels` of
//! their own, no installation-wide kinds), a missed-schedule rule needs a
//! schedule and an SLO-burn rule an SLO. Whether the named channels exist
//! is a server fact, checked where the spec is applied.

use super::WorkflowSpec;
use super::validate::Problems;
use crate::alert::scope::{MAX_LABELS, label_problem};
use crate::alert::{Reach, RuleKind, RuleSpec};
use crate::text::quoted;

/// Most rules one spec may carry: each is evaluated on every run or pass.
pub const MAX_SPEC_ALERTS: usize = 50;

pub(super) fn check_labels(spec: &WorkflowSpec, problems: &mut Problems) {
    if spec.labels.len() > MAX_LABELS {
        problems.add(
            "labels",
            format!("at most {MAX_LABELS} labels, not {}", spec.labels.len()),
        );
    }
    for (key, value) in &spec.labels {
        if let Some(why) = label_problem(key, value) {
            problems.add(format!("labels.{key}"), why);
        }
    }
}

pub(super) fn check_alerts(spec: &WorkflowSpec, problems: &mut Problems) {
    if spec.alerts.len() > MAX_SPEC_ALERTS {
        problems.add(
            "alerts",
            format!(
                "at most {MAX_SPEC_ALERTS} rules, not {}; rules about many workflows belong on the Alerts page, selecting them by labels",
                spec.alerts.len()
            ),
        );
    }
    for (i, rule) in spec.alerts.iter().enumerate() {
        let at = |field: &str| format!("alerts[{i}].{field}");
        let installation = rule.kind.reach() == Reach::Installation;
        if installation {
            problems.add(
                at("kind"),
                format!(
                    "{} is about the whole installation, not this workflow; create it on the Alerts page",
                    rule.kind.as_str()
                ),
            );
        }
        if rule.workflow.is_some() {
            problems.add(
                at("workflow"),
                "a spec's rules are about its own workflow; remove workflow",
            );
        }
        if !rule.labels.is_empty() {
            problems.add(
                at("labels"),
                "a spec's rules are about its own workflow; remove labels",
            );
        }
        // The rule's own checks, but for the scope fields just reported.
        for e in rule.validate() {
            if !matches!(e.field, "workflow" | "labels") {
                problems.add(at(e.field), e.message);
            }
        }
        if !installation {
            check_needs(spec, rule, &at, problems);
        }
        let name = rule.name.trim();
        if spec.alerts[..i].iter().any(|r| r.name.trim() == name) {
            problems.add(
                at("name"),
                format!("rule name {} is used twice", quoted(name)),
            );
        }
    }
}

/// What a rule needs from the rest of the spec.
fn check_needs(
    spec: &WorkflowSpec,
    rule: &RuleSpec,
    at: &dyn Fn(&str) -> String,
    problems: &mut Problems,
) {
    match rule.kind {
        RuleKind::MissedSchedule { .. } if spec.schedule.is_none() => problems.add(
            at("kind"),
            "missed_schedule watches the schedule, and this workflow has none; add schedule or remove the rule",
        ),
        RuleKind::SloBurn { .. } if spec.slo.is_empty() => problems.add(
            at("kind"),
            "slo_burn watches the workflow's SLO, and it has none; add an slo: section or remove the rule",
        ),
        RuleKind::SloBurn { .. } => {
            if let Some(env) = &rule.environment
                && !spec.slo.contains_key(env)
            {
                let has: Vec<&str> = spec.slo.keys().map(String::as_str).collect();
                problems.add(
                    at("environment"),
                    format!(
                        "there is no SLO in {env}; the slo: section sets {}",
                        has.join(", ")
                    ),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "validate_alerts_tests.rs"]
mod tests;
