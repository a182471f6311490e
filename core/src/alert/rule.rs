//! An alert rule as people write it (the Alerts page, `POST
//! /api/v1/alerts/rules`, a spec's `alerts:`): what it watches, where, and
//! how it fires and resolves. `kind` picks the condition; the other fields
//! are shared. Validation is in `rule_validate`, scopes in `scope`.

use super::kinds::LongTarget;
use super::state::Policy;
use crate::slo::Severity as BurnSeverity;
use crate::spec::SpecDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What a rule watches. Run-based kinds are judged after every finished
/// run of the workflow in the environment; the others on each evaluation
/// pass ([`RuleKind::judged_on`]).
///
/// Unknown fields are refused, so a misspelt field (`treshold`,
/// `resolve_afer`) is an error rather than a rule that silently uses a
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleKind {
    /// The last `threshold` runs all failed.
    ConsecutiveFailures {
        /// 1 to 1000.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        threshold: u32,
    },
    /// At least `ratio` of the runs within `window` failed, counted only
    /// once there are `min_runs`; resolves under `resolve_ratio` (lower,
    /// the hysteresis that keeps a ratio hovering at the line from
    /// flapping).
    FailureRatio {
        ratio: f64,
        min_runs: u32,
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1h"))]
        window: SpecDuration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolve_ratio: Option<f64>,
    },
    /// A run (`target: run`, the default) or a step (`target: step`) of
    /// the workflow is still going `max_duration` after it started.
    RunTooLong {
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2h"))]
        max_duration: SpecDuration,
        #[serde(default)]
        target: LongTarget,
    },
    /// A cron slot of the workflow whose run has not started `grace` after
    /// the slot.
    MissedSchedule {
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "10m"))]
        grace: SpecDuration,
    },
    /// More than `max_depth` steps ready and waiting for a worker, or the
    /// oldest of them waiting longer than `max_oldest_age` (at least one
    /// of the two); the rule's `for_duration` says for how long.
    QueueBacklog {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_depth: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "5m"))]
        max_oldest_age: Option<SpecDuration>,
    },
    /// More than `max_failures` failed sign-ins and rejected credentials
    /// within `window`: per source address (`per_source`) or overall.
    AuthFailures {
        max_failures: u32,
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "5m"))]
        window: SpecDuration,
        #[serde(default)]
        per_source: bool,
    },
    /// An audit record that widens who may do what: an admin-capable token
    /// made, a group the role mapping makes admin changed, an environment
    /// policy changed, a freeze broken. Each record fires on its own.
    PrivilegeEscalation {},
    /// The workflow's SLO (its spec's `slo:`) burns error budget faster
    /// than the SRE workbook's `page` pairs (14.4× over 1h and 5m, 6× over
    /// 6h and 30m) or `ticket` pairs (3× over 1d and 2h, 1× over 3d and 6h).
    SloBurn {
        #[cfg_attr(feature = "openapi", schema(inline))]
        pairs: BurnSeverity,
    },
    /// A rollout into the environment waits on a person: a canary paused
    /// as inconclusive or holding promotions after its automatic rollback,
    /// or a failed verification after promotion.
    RolloutAttention {},
}

/// `PartialEq` compares the ratios as floats. Validation refuses a NaN
/// ratio (the only value unequal to itself), and JSON cannot carry one, so
/// every rule that is stored or applied compares equal to itself; `Eq` lets
/// a workflow spec, which may carry rules, stay `Eq`.
impl Eq for RuleKind {}

/// When a rule is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// After each finished run of the workflow in the environment, on the
    /// run history ([`super::observe`]).
    RunEnd,
    /// On each evaluation pass, on facts the server reads
    /// ([`super::kinds`]).
    Pass,
}

/// What a rule's instances are told apart by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// One instance per workflow × environment.
    Workflow,
    /// About the installation, not one workflow: one instance (per source
    /// address or audit record where the kind says so); `workflow` and
    /// `labels` don't apply, `environment` only where noted.
    Installation,
}

impl RuleKind {
    /// The `kind` tag, as the API writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleKind::ConsecutiveFailures { .. } => "consecutive_failures",
            RuleKind::FailureRatio { .. } => "failure_ratio",
            RuleKind::RunTooLong { .. } => "run_too_long",
            RuleKind::MissedSchedule { .. } => "missed_schedule",
            RuleKind::QueueBacklog { .. } => "queue_backlog",
            RuleKind::AuthFailures { .. } => "auth_failures",
            RuleKind::PrivilegeEscalation {} => "privilege_escalation",
            RuleKind::SloBurn { .. } => "slo_burn",
            RuleKind::RolloutAttention {} => "rollout_attention",
        }
    }

    /// Run-based kinds on each finished run, the others on each pass.
    pub fn judged_on(&self) -> Judged {
        match self {
            RuleKind::ConsecutiveFailures { .. } | RuleKind::FailureRatio { .. } => Judged::RunEnd,
            RuleKind::RunTooLong { .. }
            | RuleKind::MissedSchedule { .. }
            | RuleKind::QueueBacklog { .. }
            | RuleKind::AuthFailures { .. }
            | RuleKind::PrivilegeEscalation {}
            | RuleKind::SloBurn { .. }
            | RuleKind::RolloutAttention {} => Judged::Pass,
        }
    }

    pub fn reach(&self) -> Reach {
        match self {
            RuleKind::QueueBacklog { .. }
            | RuleKind::AuthFailures { .. }
            | RuleKind::PrivilegeEscalation {} => Reach::Installation,
            _ => Reach::Workflow,
        }
    }
}

/// One line for people (a notification's summary, the promotion diff):
/// what the rule fires on.
impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleKind::ConsecutiveFailures { threshold } => {
                write!(f, "{threshold} failed runs in a row")
            }
            RuleKind::FailureRatio {
                ratio,
                min_runs,
                window,
                resolve_ratio,
            } => {
                write!(
                    f,
                    "{}% or more of at least {min_runs} runs within {window} failed",
                    percent(*ratio)
                )?;
                match resolve_ratio {
                    Some(r) => write!(f, " (resolves under {}%)", percent(*r)),
                    None => Ok(()),
                }
            }
            RuleKind::RunTooLong {
                max_duration,
                target,
            } => write!(f, "a {} still going after {max_duration}", target.as_str()),
            RuleKind::MissedSchedule { grace } => {
                write!(f, "a scheduled run not started {grace} after its slot")
            }
            RuleKind::QueueBacklog {
                max_depth,
                max_oldest_age,
            } => {
                let depth = max_depth.map(|d| format!("more than {d} steps waiting"));
                let age = max_oldest_age.map(|a| format!("one waiting longer than {a}"));
                let parts: Vec<String> = depth.into_iter().chain(age).collect();
                write!(f, "queue backlog: {}", parts.join(" or "))
            }
            RuleKind::AuthFailures {
                max_failures,
                window,
                per_source,
            } => write!(
                f,
                "more than {max_failures} authentication failures within {window}{}",
                if *per_source { " from one address" } else { "" }
            ),
            RuleKind::PrivilegeEscalation {} => {
                f.write_str("a privilege escalation in the audit log")
            }
            RuleKind::SloBurn { pairs } => write!(
                f,
                "SLO burning error budget at {} rates",
                match pairs {
                    BurnSeverity::Page => "page",
                    BurnSeverity::Ticket => "ticket",
                }
            ),
            RuleKind::RolloutAttention {} => {
                f.write_str("a canary or a verification waiting on a person")
            }
        }
    }
}

/// `0.2` as `20`, `0.125` as `12.5`.
fn percent(ratio: f64) -> String {
    let p = (ratio * 1000.0).round() / 10.0;
    format!("{p}")
}

/// A rule: a kind, a scope and how it fires and resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSpec {
    /// 1 to 100 characters, not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "\\S")
    )]
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    /// A workflow name, or a pattern where `*` stands for any characters
    /// and `?` for one (`etl-*`); `None`: every workflow. Not in a spec's
    /// `alerts:`, which are about that spec's workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Only workflows whose spec has all these labels (`{team: data}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// An environment; `None`: every environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::Environment>))]
    pub environment: Option<String>,
    /// Successful runs in a row (or clear evaluations) before a firing
    /// alert resolves. At least 1.
    #[serde(default = "one")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub resolve_after: u32,
    /// How long the condition must hold before pending becomes firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "5m"))]
    pub for_duration: Option<SpecDuration>,
    /// Send a reminder this often while firing; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "4h"))]
    pub renotify: Option<SpecDuration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(default)]
    pub severity: super::notification::Severity,
}

fn one() -> u32 {
    1
}

/// One line with everything but the name (which the promotion diff shows
/// as the key): `3 failed runs in a row; workflow etl-*, prod; resolve
/// after 2; warning to ops`.
impl fmt::Display for RuleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let mut scope: Vec<String> = Vec::new();
        if let Some(w) = &self.workflow {
            scope.push(format!("workflow {w}"));
        }
        if !self.labels.is_empty() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            scope.push(format!("labels {}", labels.join(", ")));
        }
        if let Some(e) = &self.environment {
            scope.push(e.clone());
        }
        if !scope.is_empty() {
            write!(f, "; {}", scope.join(", "))?;
        }
        if let Some(d) = self.for_duration {
            write!(f, "; for {d}")?;
        }
        write!(f, "; resolve after {}", self.resolve_after)?;
        if let Some(every) = self.renotify {
            write!(f, "; remind every {every}")?;
        }
        write!(f, "; {}", self.severity.as_str())?;
        if !self.channels.is_empty() {
            write!(f, " to {}", self.channels.join(", "))?;
        }
        Ok(())
    }
}

/// What is wrong with a rule, naming the field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: &'static str,
    pub message: String,
}

impl RuleSpec {
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
#[path = "rule_tests.rs"]
mod tests;
