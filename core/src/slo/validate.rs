//! The rules an `slo:` section must satisfy beyond its shape. Called from the
//! spec's own validation, so problems come back with paths (`slo.prod.window`)
//! that the parser turns into lines. Whether an environment is configured is
//! a server fact, checked separately by [`unknown_environments`].

use super::{SloSection, SloSpec};
use crate::spec::SpecProblem;
use crate::{Environment, Environments};

/// Every problem in the section; empty when it is fine (or absent).
pub fn validate(section: &SloSection) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    for (env, slo) in section {
        let path = format!("slo.{env}");
        if let Err(e) = Environment::parse(env) {
            problems.push(SpecProblem::new(&path, e.to_string()));
        }
        check(&path, slo, &mut problems);
    }
    problems
}

fn check(path: &str, slo: &SloSpec, problems: &mut Vec<SpecProblem>) {
    if slo.success.is_none() && slo.duration.is_none() {
        problems.push(SpecProblem::new(
            path,
            "an SLO needs an objective: success (e.g. 99%) and/or duration (e.g. {within: 10m, target: 95%})",
        ));
    }
    if let Some(why) = slo.window_out_of_bounds() {
        problems.push(SpecProblem::new(format!("{path}.window"), why));
    }
    if let Some(why) = slo.success.and_then(|t| t.out_of_bounds()) {
        problems.push(SpecProblem::new(
            format!("{path}.success"),
            format!("success target {why}"),
        ));
    }
    if let Some(duration) = &slo.duration {
        if let Some(why) = duration.within.out_of_bounds() {
            problems.push(SpecProblem::new(
                format!("{path}.duration.within"),
                format!("duration.within {why}"),
            ));
        }
        if let Some(why) = duration.target.out_of_bounds() {
            problems.push(SpecProblem::new(
                format!("{path}.duration.target"),
                format!("duration target {why}"),
            ));
        }
    }
}

/// The environments the section names that this server does not have:
/// an objective there would never see a run. Spec validation cannot know
/// the configured list, so whoever applies a spec calls this with it.
pub fn unknown_environments(section: &SloSection, known: &Environments) -> Vec<SpecProblem> {
    section
        .keys()
        .filter(|env| Environment::parse(env).is_ok_and(|e| !known.contains(&e)))
        .map(|env| {
            let names: Vec<&str> = known.iter().map(Environment::as_str).collect();
            SpecProblem::new(
                format!("slo.{env}"),
                format!(
                    "environment {env} is not configured here; the environments are {}",
                    names.join(", ")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(value: serde_json::Value) -> SloSection {
        serde_json::from_value(value).unwrap()
    }

    fn problems(value: serde_json::Value) -> Vec<(String, String)> {
        validate(&section(value))
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn a_sensible_section_passes() {
        assert!(
            problems(json!({
                "prod": {"window": "28d", "success": 0.999, "duration": {"within": "10m", "target": "95%"}},
                "dev": {"window": "7d", "success": "90%"},
                "stage": {"window": "90d", "duration": {"within": "7d", "target": 0.5}},
            }))
            .is_empty()
        );
        assert!(validate(&SloSection::new()).is_empty());
    }

    #[test]
    fn each_problem_names_its_place() {
        let cases = [
            (
                json!({"prod": {"window": "28d"}}),
                "slo.prod",
                "needs an objective",
            ),
            (
                json!({"Prod": {"window": "28d", "success": 0.9}}),
                "slo.Prod",
                "is invalid",
            ),
            (
                json!({"prod": {"window": "12h", "success": 0.9}}),
                "slo.prod.window",
                "shorter than 1 day",
            ),
            (
                json!({"prod": {"window": "91d", "success": 0.9}}),
                "slo.prod.window",
                "90 day limit",
            ),
            (
                json!({"prod": {"window": "28d", "success": 1}}),
                "slo.prod.success",
                "success target must be below 100%",
            ),
            (
                json!({"prod": {"window": "28d", "success": "0%"}}),
                "slo.prod.success",
                "must be above 0%",
            ),
            (
                json!({"prod": {"window": "28d", "duration": {"within": "8d", "target": 0.9}}}),
                "slo.prod.duration.within",
                "7 day limit",
            ),
            (
                json!({"prod": {"window": "28d", "duration": {"within": "0s", "target": 0.9}}}),
                "slo.prod.duration.within",
                "longer than zero",
            ),
            (
                json!({"prod": {"window": "28d", "duration": {"within": "1m", "target": "100%"}}}),
                "slo.prod.duration.target",
                "duration target must be below 100%",
            ),
        ];
        for (value, path, fragment) in cases {
            let got = problems(value.clone());
            assert!(
                got.iter().any(|(p, m)| p == path && m.contains(fragment)),
                "{value}: wanted {path} ~ {fragment}, got {got:?}"
            );
            assert_eq!(got.len(), 1, "{value}: {got:?}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let got = problems(json!({
            "prod": {"window": "1h", "success": 1, "duration": {"within": "0s", "target": 0}},
            "dev": {"window": "28d"},
        }));
        assert_eq!(got.len(), 5, "{got:?}");
    }

    #[test]
    fn unknown_environments_are_named_with_the_known_list() {
        let known = Environments::parse_list("dev,stage,prod").unwrap();
        let s = section(json!({
            "prod": {"window": "28d", "success": 0.99},
            "qa": {"window": "28d", "success": 0.99},
            "Bad": {"window": "28d", "success": 0.99},
        }));
        let got = unknown_environments(&s, &known);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].path, "slo.qa");
        assert!(
            got[0].message.contains("dev, stage, prod"),
            "{}",
            got[0].message
        );
    }
}
