//! The rule form: every kind's fields, read into a `RuleSpec`.

use super::{Reader, bare, checked, given, parse_labels, text_of};
use gantry_core::PortError;
use gantry_core::alert::RuleSpec;
use serde::{Deserialize, Serialize};

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
            K::PrivilegeEscalation {} | K::RolloutAttention {} => {}
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
            "rollout_attention" => K::RolloutAttention {},
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
