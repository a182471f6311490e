//! `run_too_long`: a run (or a step) of a workflow still going after
//! `max_duration`. The server reads what is running now (the oldest
//! running run, or the oldest running step, per workflow × environment is
//! enough); an instance breaches while its oldest has gone on longer than
//! the limit and is clear once nothing that old is left running.

use super::{Finding, InstanceKey, human, with_open_cleared};
use crate::alert::state::Observation;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What `run_too_long` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LongTarget {
    /// A run, from starting to run (not from being queued) until now.
    #[default]
    Run,
    /// A step's current attempt, from its start until now.
    Step,
}

impl LongTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            LongTarget::Run => "run",
            LongTarget::Step => "step",
        }
    }
}

/// A run (with `step`: one of its steps) still going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub workflow: String,
    pub environment: String,
    pub run_id: String,
    /// The step's id when the rule times steps.
    pub step: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// What is running now, for the rule's target. Several entries per
/// workflow × environment are fine: the oldest counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunningFacts {
    pub running: Vec<Running>,
}

/// Breach for each workflow × environment whose oldest entry started more
/// than `max_duration` before `now` (exactly `max_duration` is not yet
/// over); clear for the others and for open instances with nothing running.
pub fn judge(
    max_duration: Duration,
    facts: &RunningFacts,
    open: &[InstanceKey],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut oldest: BTreeMap<InstanceKey, &Running> = BTreeMap::new();
    for r in &facts.running {
        let key = InstanceKey::new(&r.workflow, &r.environment);
        let entry = oldest.entry(key).or_insert(r);
        if r.started_at < entry.started_at {
            *entry = r;
        }
    }
    let findings = oldest
        .into_iter()
        .map(|(key, r)| {
            // A start in the future (clocks apart) has gone on for nothing.
            let gone = (now - r.started_at).to_std().unwrap_or_default();
            let what = match &r.step {
                Some(step) => format!("step {step} of run {}", r.run_id),
                None => format!("run {}", r.run_id),
            };
            if gone > max_duration {
                Finding::new(
                    key,
                    Observation::Breach,
                    format!(
                        "{what} has been running for {}, over the {} limit",
                        human(gone),
                        human(max_duration)
                    ),
                )
            } else {
                Finding::new(
                    key,
                    Observation::Clear,
                    format!(
                        "the longest running, {what}, has gone {} of {}",
                        human(gone),
                        human(max_duration)
                    ),
                )
            }
        })
        .collect();
    with_open_cleared(findings, open, "nothing running over the limit")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn running(workflow: &str, run: &str, step: Option<&str>, started: i64) -> Running {
        Running {
            workflow: workflow.into(),
            environment: "prod".into(),
            run_id: run.into(),
            step: step.map(Into::into),
            started_at: t(started),
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn seen(findings: &[Finding]) -> Vec<(&str, Observation)> {
        findings
            .iter()
            .map(|f| (f.key.workflow.as_str(), f.seen))
            .collect()
    }

    #[test]
    fn fires_only_once_the_limit_is_passed() {
        let facts = RunningFacts {
            running: vec![running("etl", "r1", None, 0)],
        };
        let at_limit = judge(HOUR, &facts, &[], t(3600));
        assert_eq!(seen(&at_limit), [("etl", Observation::Clear)], "exactly 1h");
        let over = judge(HOUR, &facts, &[], t(3601));
        assert_eq!(seen(&over), [("etl", Observation::Breach)]);
        assert_eq!(
            over[0].summary,
            "run r1 has been running for 1h 1s, over the 1h limit"
        );
    }

    #[test]
    fn the_oldest_run_of_an_instance_counts() {
        let facts = RunningFacts {
            running: vec![
                running("etl", "young", None, 3000),
                running("etl", "old", None, 0),
                running("web", "w", None, 3000),
            ],
        };
        let found = judge(HOUR, &facts, &[], t(4000));
        assert_eq!(
            seen(&found),
            [("etl", Observation::Breach), ("web", Observation::Clear)]
        );
        assert!(found[0].summary.contains("run old"), "{}", found[0].summary);
    }

    #[test]
    fn a_firing_instance_clears_when_its_run_is_gone() {
        let open = [InstanceKey::new("etl", "prod")];
        let found = judge(HOUR, &RunningFacts::default(), &open, t(9000));
        assert_eq!(seen(&found), [("etl", Observation::Clear)]);
        // Nothing open, nothing running: nothing to say.
        assert!(judge(HOUR, &RunningFacts::default(), &[], t(9000)).is_empty());
    }

    #[test]
    fn steps_are_named_and_a_start_in_the_future_is_not_late() {
        let facts = RunningFacts {
            running: vec![running("etl", "r1", Some("load"), 0)],
        };
        let found = judge(HOUR, &facts, &[], t(7200));
        assert!(found[0].summary.starts_with("step load of run r1"));
        let skewed = RunningFacts {
            running: vec![running("etl", "r1", None, 100)],
        };
        assert_eq!(
            seen(&judge(HOUR, &skewed, &[], t(0))),
            [("etl", Observation::Clear)]
        );
    }
}
