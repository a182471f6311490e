//! What an environment's policy says about canaries: promotions into it
//! become canary promotions that take a growing share of the runs admitted
//! there, step by step, each step advancing only when it has enough runs,
//! enough time, and the analysis passes. Part of the environment policy
//! (`canary:`), edited by the environment's admins, never by a spec.

use super::analysis::Thresholds;
use super::assign::Weight;
use crate::promotion::PolicyDuration;
use crate::spec::SpecProblem;
use serde::{Deserialize, Serialize};

/// Most steps in a plan: more than this is a slow-motion promotion.
pub const MAX_STEPS: usize = 10;
/// Most critical step ids.
pub const MAX_CRITICAL_STEPS: usize = 50;
const DEFAULT_MIN_RUNS: u32 = 20;
const MAX_MIN_RUNS: u32 = 100_000;
const DEFAULT_MIN_TIME: PolicyDuration = PolicyDuration::from_mins(10);
const DEFAULT_TIME_LIMIT: PolicyDuration = PolicyDuration::from_hours(24);
const MAX_TIME: PolicyDuration = PolicyDuration::from_days(30);

/// A canary promotion's plan and how it is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CanaryPolicy {
    /// The weights the canary goes through, growing (e.g. 10, 50). Passing
    /// the last step makes the canary the active version (100%).
    pub steps: Vec<CanaryStep>,
    /// An input whose value decides the version instead of the run id, so
    /// one customer (tenant, region…) always gets the same version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_input: Option<String>,
    /// What happens to canary runs still running when the canary fails or
    /// is aborted. Queued ones always move to the stable version.
    #[serde(default)]
    pub running_on_failure: RunningOnFailure,
    /// Step ids whose first failure in a canary run fails the canary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub critical_steps: Vec<String>,
    #[serde(default)]
    pub analysis: AnalysisSettings,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CanaryStep {
    /// The canary's share of admissions, 1..=99 percent.
    pub weight: u8,
    /// Finished canary runs this step needs before it may pass. Default 20.
    #[serde(default = "default_min_runs")]
    pub min_runs: u32,
    /// Time at this weight before it may pass. Default 10m.
    #[serde(default = "default_min_time")]
    pub min_time: PolicyDuration,
    /// Without a decision by then the step is inconclusive and the canary
    /// pauses (it never passes by default). Default 24h.
    #[serde(default = "default_time_limit")]
    pub time_limit: PolicyDuration,
}

fn default_min_runs() -> u32 {
    DEFAULT_MIN_RUNS
}
fn default_min_time() -> PolicyDuration {
    DEFAULT_MIN_TIME
}
fn default_time_limit() -> PolicyDuration {
    DEFAULT_TIME_LIMIT
}

impl CanaryStep {
    pub fn weight(&self) -> Weight {
        Weight::from_ppm(u32::from(self.weight.min(100)) * 10_000).unwrap_or(Weight::ZERO)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunningOnFailure {
    /// Let them finish (their outcomes still show on the canary).
    #[default]
    Finish,
    Cancel,
}

/// How much worse than stable a canary may be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSettings {
    /// Allowed relative increase of the failure rate (0.5: half again).
    pub max_failure_increase: f64,
    /// Allowed absolute increase on top (0.005: half a point).
    pub max_failure_increase_absolute: f64,
    /// How sure a decision must be, 0.8..=0.999.
    pub confidence: f64,
    /// Fails when the canary's successful runs take this much longer at
    /// p95 (0.2: 20% slower), judged by ranks. `null`: durations not judged.
    pub max_slowdown: Option<f64>,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        let t = Thresholds::default();
        AnalysisSettings {
            max_failure_increase: t.relative,
            max_failure_increase_absolute: t.absolute,
            confidence: t.confidence,
            max_slowdown: Some(0.2),
        }
    }
}

impl AnalysisSettings {
    /// The thresholds for a step needing `min_runs` canary runs.
    pub fn thresholds(&self, min_runs: u32) -> Thresholds {
        Thresholds {
            relative: self.max_failure_increase,
            absolute: self.max_failure_increase_absolute,
            confidence: self.confidence,
            min_runs: u64::from(min_runs),
        }
    }
}

impl CanaryPolicy {
    /// Every problem, with paths under `at` (e.g. `canary`).
    pub fn problems(&self, at: &str) -> Vec<SpecProblem> {
        let mut out = Vec::new();
        let mut add = |path: String, message: String| out.push(SpecProblem::new(path, message));
        if self.steps.is_empty() {
            add(
                format!("{at}.steps"),
                "a canary needs at least one step, e.g. [{weight: 10}, {weight: 50}]".into(),
            );
        }
        if self.steps.len() > MAX_STEPS {
            add(
                format!("{at}.steps"),
                format!(
                    "{} steps is more than the {MAX_STEPS} allowed",
                    self.steps.len()
                ),
            );
        }
        let mut last = 0u8;
        for (i, step) in self.steps.iter().enumerate() {
            let path = format!("{at}.steps[{i}]");
            if !(1..=99).contains(&step.weight) {
                add(
                    format!("{path}.weight"),
                    format!(
                        "{} is not a canary share; use 1 to 99 (passing the last step makes \
                         the canary 100%)",
                        step.weight
                    ),
                );
            } else if step.weight <= last {
                add(
                    format!("{path}.weight"),
                    format!(
                        "{} does not grow from the step before ({last}); weights must increase",
                        step.weight
                    ),
                );
            }
            if step.weight <= 99 {
                last = last.max(step.weight);
            }
            if step.min_runs == 0 || step.min_runs > MAX_MIN_RUNS {
                add(
                    format!("{path}.min_runs"),
                    format!("{} is out of range; use 1 to {MAX_MIN_RUNS}", step.min_runs),
                );
            }
            if let Some(why) = step.min_time.check(PolicyDuration::from_secs(0), MAX_TIME) {
                add(format!("{path}.min_time"), why);
            }
            if let Some(why) = step
                .time_limit
                .check(PolicyDuration::from_mins(1), MAX_TIME)
            {
                add(format!("{path}.time_limit"), why);
            } else if step.time_limit <= step.min_time {
                add(
                    format!("{path}.time_limit"),
                    format!(
                        "{} leaves no time after min_time ({}); make it longer",
                        step.time_limit, step.min_time
                    ),
                );
            }
        }
        if let Some(input) = &self.sticky_input
            && (input.is_empty() || input.len() > 64)
        {
            add(
                format!("{at}.sticky_input"),
                "name an input of the workflow (1 to 64 characters)".into(),
            );
        }
        if self.critical_steps.len() > MAX_CRITICAL_STEPS {
            add(
                format!("{at}.critical_steps"),
                format!("more than {MAX_CRITICAL_STEPS} step ids"),
            );
        }
        for (i, id) in self.critical_steps.iter().enumerate() {
            if id.is_empty() || id.len() > 64 {
                add(
                    format!("{at}.critical_steps[{i}]"),
                    "name a step id (1 to 64 characters)".into(),
                );
            }
        }
        let a = &self.analysis;
        let at = format!("{at}.analysis");
        if !(0.0..=10.0).contains(&a.max_failure_increase) {
            add(
                format!("{at}.max_failure_increase"),
                format!(
                    "{} is out of range; use 0 to 10 (0.5: half again as many failures)",
                    a.max_failure_increase
                ),
            );
        }
        if !(0.0..=0.5).contains(&a.max_failure_increase_absolute) {
            add(
                format!("{at}.max_failure_increase_absolute"),
                format!(
                    "{} is out of range; use 0 to 0.5 (0.01: one point)",
                    a.max_failure_increase_absolute
                ),
            );
        }
        if !(0.8..=0.999).contains(&a.confidence) {
            add(
                format!("{at}.confidence"),
                format!("{} is out of range; use 0.8 to 0.999", a.confidence),
            );
        }
        if let Some(s) = a.max_slowdown
            && !(0.01..=10.0).contains(&s)
        {
            add(
                format!("{at}.max_slowdown"),
                format!("{s} is out of range; use 0.01 to 10 (0.2: 20% slower), or null"),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: serde_json::Value) -> CanaryPolicy {
        serde_json::from_value(json).expect("parses")
    }

    #[test]
    fn a_plan_of_weights_alone_takes_the_defaults() {
        let p = plan(serde_json::json!({ "steps": [{ "weight": 10 }, { "weight": 50 }] }));
        assert!(p.problems("canary").is_empty());
        assert_eq!(p.steps[0].min_runs, 20);
        assert_eq!(p.steps[0].min_time, PolicyDuration::from_mins(10));
        assert_eq!(p.steps[1].weight().ppm(), 500_000);
        assert_eq!(p.running_on_failure, RunningOnFailure::Finish);
        assert_eq!(p.analysis.max_slowdown, Some(0.2));
    }

    #[test]
    fn every_problem_names_its_field() {
        let p = plan(serde_json::json!({
            "steps": [{ "weight": 50 }, { "weight": 50, "min_runs": 0 }, { "weight": 100 },
                      { "weight": 60, "min_time": "2h", "time_limit": "1h" }],
            "sticky_input": "",
            "critical_steps": [""],
            "analysis": { "confidence": 0.5, "max_slowdown": 0.0 },
        }));
        let paths: Vec<String> = p.problems("canary").into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "canary.steps[1].weight",
                "canary.steps[1].min_runs",
                "canary.steps[2].weight",
                "canary.steps[3].time_limit",
                "canary.sticky_input",
                "canary.critical_steps[0]",
                "canary.analysis.confidence",
                "canary.analysis.max_slowdown",
            ]
        );
        let empty = plan(serde_json::json!({ "steps": [] }));
        assert_eq!(empty.problems("canary")[0].path, "canary.steps");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_value::<CanaryPolicy>(
            serde_json::json!({ "steps": [{ "weight": 10, "minruns": 3 }] }),
        )
        .unwrap_err();
        assert!(err.to_string().contains("minruns"), "{err}");
    }
}
