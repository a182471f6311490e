//! A workflow's own rules (`alerts:` in its spec) as they are evaluated:
//! one rule per spec rule × environment where the version carrying it is
//! active, about that workflow in that environment only, named
//! `WORKFLOW:RULE@ENVIRONMENT` (no slash, so the name stays one segment
//! in `/api/v1/alerts/rules/{name}`). They follow the active version:
//! promoting a version brings its rules into the next environment, rolling
//! back brings the earlier ones back, and an environment's rules never
//! change because another environment got a new version.
//!
//! The id is derived from workflow, environment and rule name, so an
//! instance keeps its state (and its fingerprint, the receivers' dedup
//! key) across versions that keep the rule's name.

use super::rule::RuleSpec;
use super::state::fingerprint_of;
use crate::spec::WorkflowSpec;

/// Where a spec rule comes from, as `RuleView::origin` shows it.
pub fn origin(workflow: &str) -> String {
    format!("workflow:{workflow}")
}

/// Whether an origin is a workflow's spec (rather than the API).
pub fn is_spec_origin(origin: &str) -> bool {
    origin.starts_with("workflow:")
}

/// The rule's name on the Alerts page, in silences and notifications.
pub fn rule_name(workflow: &str, rule: &str, environment: &str) -> String {
    format!("{workflow}:{rule}@{environment}")
}

/// The stored rule's id.
pub fn rule_id(workflow: &str, rule: &str, environment: &str) -> String {
    format!(
        "spec-{}",
        fingerprint_of(&["spec rule", workflow, environment, rule])
    )
}

/// One rule to evaluate, derived from an active version's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecRule {
    pub id: String,
    pub spec: RuleSpec,
    pub origin: String,
}

/// The rules `spec` (the version active in `environment`) carries there:
/// its rules without an environment, and those naming this one.
pub fn derive(spec: &WorkflowSpec, environment: &str) -> Vec<SpecRule> {
    spec.alerts
        .iter()
        .filter(|r| r.environment.as_deref().is_none_or(|e| e == environment))
        .map(|r| {
            let name = r.name.trim();
            SpecRule {
                id: rule_id(&spec.name, name, environment),
                spec: RuleSpec {
                    name: rule_name(&spec.name, name, environment),
                    workflow: Some(spec.name.clone()),
                    labels: Default::default(),
                    environment: Some(environment.to_owned()),
                    ..r.clone()
                },
                origin: origin(&spec.name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "name: orders\nschedule: '0 3 * * *'\nalerts:\n  - name: failing\n    kind: consecutive_failures\n    threshold: 3\n    channels: [ops]\n  - name: late\n    kind: missed_schedule\n    grace: 10m\n    environment: prod\nsteps:\n  - id: go\n    run: 'true'\n";

    #[test]
    fn a_spec_rule_is_about_its_workflow_in_one_environment() {
        let spec = crate::spec::parse(SPEC).unwrap();
        let dev = derive(&spec, "dev");
        assert_eq!(dev.len(), 1, "the prod-only rule is not in dev");
        let rule = &dev[0];
        assert_eq!(rule.spec.name, "orders:failing@dev");
        assert_eq!(rule.spec.workflow.as_deref(), Some("orders"));
        assert_eq!(rule.spec.environment.as_deref(), Some("dev"));
        assert_eq!(rule.spec.channels, ["ops"]);
        assert_eq!(rule.origin, "workflow:orders");
        assert!(is_spec_origin(&rule.origin) && !is_spec_origin("api"));
        let prod: Vec<String> = derive(&spec, "prod")
            .into_iter()
            .map(|r| r.spec.name)
            .collect();
        assert_eq!(prod, ["orders:failing@prod", "orders:late@prod"]);
    }

    #[test]
    fn ids_are_stable_and_tell_environments_apart() {
        let spec = crate::spec::parse(SPEC).unwrap();
        let changed = crate::spec::parse(&SPEC.replace("threshold: 3", "threshold: 5")).unwrap();
        assert_eq!(derive(&spec, "dev")[0].id, derive(&changed, "dev")[0].id);
        assert_ne!(
            derive(&spec, "dev")[0].spec,
            derive(&changed, "dev")[0].spec
        );
        assert_ne!(derive(&spec, "dev")[0].id, derive(&spec, "prod")[0].id);
        assert!(derive(&spec, "dev")[0].id.starts_with("spec-"));
    }
}
