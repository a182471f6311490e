//! Which move a promotion request asks for: the version active in the
//! environment before the target, into the target, never skipping one
//! (the `--environments` order). Refusals are 409s that say what to do
//! instead; a version that doesn't exist is the server's 404.

use crate::environment::{Environment, Environments};
use crate::error::PortError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A move the order allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionStep {
    pub from: Environment,
    pub to: Environment,
    pub version: u32,
    /// The version active in the target now, which the diff compares with.
    pub replaces: Option<u32>,
}

/// Why a promotion can't go where it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StepRefusal {
    #[error("environment {environment} is not configured; the environments are {configured}")]
    UnknownEnvironment {
        environment: String,
        configured: String,
    },
    #[error(
        "{environment} is the first environment: versions become active there when applied, \
         not by promotion"
    )]
    FirstEnvironment { environment: String },
    #[error("nothing is active in {from}, so there is nothing to promote to {to}")]
    NothingToPromote { from: String, to: String },
    #[error("version {version} is already active in {to}")]
    AlreadyActive { version: u32, to: String },
    /// The version is further back: promoting it here would skip `next`.
    #[error(
        "version {version} is active in {active_in} but not in {next}; promote it to {next} \
         first (promotions never skip an environment)"
    )]
    Skipping {
        version: u32,
        active_in: String,
        next: String,
        to: String,
    },
    #[error(
        "version {version} is not active in {from}{}; only the version active in {from} can be \
         promoted to {to}",
        active.map(|v| format!(" (version {v} is)")).unwrap_or_default()
    )]
    NotActiveInSource {
        version: u32,
        from: String,
        active: Option<u32>,
        to: String,
    },
    /// Rolled back in the target: promoting it again needs an explicit
    /// confirmation, so nobody does it by accident.
    #[error(
        "version {version} was rolled back in {to}; to promote it there again, confirm that \
         you mean to (confirm_rolled_back: true)"
    )]
    RolledBack { version: u32, to: String },
}

impl From<StepRefusal> for PortError {
    fn from(refusal: StepRefusal) -> Self {
        match refusal {
            StepRefusal::UnknownEnvironment { .. } => {
                PortError::invalid("to_environment", refusal.to_string())
            }
            _ => PortError::Conflict {
                message: refusal.to_string(),
            },
        }
    }
}

/// Plans promoting `version` (by default the one active in the previous
/// environment) into `to`, given what is active where (`active`:
/// environment → version, for this workflow).
pub fn plan_promotion(
    envs: &Environments,
    active: &BTreeMap<Environment, u32>,
    to: &Environment,
    version: Option<u32>,
) -> Result<PromotionStep, StepRefusal> {
    let Some(position) = envs.position(to) else {
        return Err(StepRefusal::UnknownEnvironment {
            environment: to.to_string(),
            configured: envs.describe(),
        });
    };
    let Some(from) = envs.previous_before(to) else {
        return Err(StepRefusal::FirstEnvironment {
            environment: to.to_string(),
        });
    };
    let in_source = active.get(from).copied();
    let replaces = active.get(to).copied();
    // Nothing named and nothing in the source: if a version waits further
    // back, the answer is where it must go next (skipping is the mistake).
    let fallback = version.or(in_source).or_else(|| {
        envs.iter()
            .take(position.saturating_sub(1))
            .filter_map(|e| active.get(e).copied())
            .last()
    });
    let Some(version) = fallback else {
        return Err(StepRefusal::NothingToPromote {
            from: from.to_string(),
            to: to.to_string(),
        });
    };
    if replaces == Some(version) {
        return Err(StepRefusal::AlreadyActive {
            version,
            to: to.to_string(),
        });
    }
    if in_source != Some(version) {
        // Active further back: name the environment it must reach next.
        let behind = envs
            .iter()
            .take(position.saturating_sub(1))
            .filter(|e| active.get(*e) == Some(&version))
            .last();
        if let Some(active_in) = behind
            && let Some(next) = envs.next_after(active_in)
        {
            return Err(StepRefusal::Skipping {
                version,
                active_in: active_in.to_string(),
                next: next.to_string(),
                to: to.to_string(),
            });
        }
        return Err(StepRefusal::NotActiveInSource {
            version,
            from: from.to_string(),
            active: in_source,
            to: to.to_string(),
        });
    }
    Ok(PromotionStep {
        from: from.clone(),
        to: to.clone(),
        version,
        replaces,
    })
}

/// Refuses promoting a version that was rolled back in the target unless
/// the caller confirmed it (see `ledger::rolled_back_versions`).
pub fn check_not_rolled_back(
    step: &PromotionStep,
    rolled_back_in_target: &[u32],
    confirmed: bool,
) -> Result<(), StepRefusal> {
    if confirmed || !rolled_back_in_target.contains(&step.version) {
        Ok(())
    } else {
        Err(StepRefusal::RolledBack {
            version: step.version,
            to: step.to.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(e: &str) -> Environment {
        Environment::parse(e).unwrap()
    }

    fn active(pairs: &[(&str, u32)]) -> BTreeMap<Environment, u32> {
        pairs.iter().map(|(e, v)| (env(e), *v)).collect()
    }

    #[test]
    fn promotions_move_the_previous_environments_version_one_step() {
        let envs = Environments::parse_list("dev,stage,qa,prod").unwrap();
        let at = active(&[("dev", 9), ("stage", 7), ("qa", 6), ("prod", 5)]);
        // (to, version asked, outcome: Ok((from, version, replaces)) or the refusal's message)
        type Case = (
            &'static str,
            Option<u32>,
            Result<(&'static str, u32, Option<u32>), &'static str>,
        );
        let cases: &[Case] = &[
            ("stage", None, Ok(("dev", 9, Some(7)))),
            ("stage", Some(9), Ok(("dev", 9, Some(7)))),
            ("qa", None, Ok(("stage", 7, Some(6)))),
            ("prod", None, Ok(("qa", 6, Some(5)))),
            (
                "prod",
                Some(9),
                Err(
                    "version 9 is active in dev but not in stage; promote it to stage first (promotions never skip an environment)",
                ),
            ),
            (
                "prod",
                Some(7),
                Err(
                    "version 7 is active in stage but not in qa; promote it to qa first (promotions never skip an environment)",
                ),
            ),
            ("prod", Some(5), Err("version 5 is already active in prod")),
            (
                "stage",
                Some(4),
                Err(
                    "version 4 is not active in dev (version 9 is); only the version active in dev can be promoted to stage",
                ),
            ),
            (
                "dev",
                None,
                Err(
                    "dev is the first environment: versions become active there when applied, not by promotion",
                ),
            ),
            (
                "live",
                None,
                Err(
                    "environment live is not configured; the environments are dev, stage, qa, prod",
                ),
            ),
        ];
        for (to, version, expected) in cases {
            let got = plan_promotion(&envs, &at, &env(to), *version);
            match expected {
                Ok((from, v, replaces)) => assert_eq!(
                    got,
                    Ok(PromotionStep {
                        from: env(from),
                        to: env(to),
                        version: *v,
                        replaces: *replaces
                    }),
                    "{to} {version:?}"
                ),
                Err(message) => {
                    assert_eq!(got.unwrap_err().to_string(), *message, "{to} {version:?}")
                }
            }
        }
    }

    #[test]
    fn empty_environments_and_first_deployments() {
        let envs = Environments::default();
        // Nothing in stage yet: the first promotion into it replaces nothing.
        let step = plan_promotion(&envs, &active(&[("dev", 1)]), &env("stage"), None).unwrap();
        assert_eq!(step.replaces, None);
        // Nothing in stage but version 1 waits in dev: it must go to stage.
        let err = plan_promotion(&envs, &active(&[("dev", 1)]), &env("prod"), None).unwrap_err();
        assert!(matches!(err, StepRefusal::Skipping { ref next, .. } if next == "stage"));
        // Nothing anywhere before: nothing to promote.
        let err = plan_promotion(&envs, &active(&[]), &env("prod"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing is active in stage, so there is nothing to promote to prod"
        );
        // Asked for by number, it is further back: skipping.
        let err = plan_promotion(&envs, &active(&[("dev", 1)]), &env("prod"), Some(1)).unwrap_err();
        assert!(matches!(err, StepRefusal::Skipping { ref next, .. } if next == "stage"));
        // Not active anywhere before: not in the source, nothing to name.
        let err =
            plan_promotion(&envs, &active(&[("prod", 3)]), &env("stage"), Some(3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "version 3 is not active in dev; only the version active in dev can be promoted to stage"
        );
    }

    #[test]
    fn refusals_map_to_conflicts_but_an_unknown_environment_is_bad_input() {
        let envs = Environments::default();
        let unknown = plan_promotion(&envs, &active(&[]), &env("qa"), None).unwrap_err();
        let err = PortError::from(unknown);
        assert_eq!(err.http_status(), 400);
        assert!(matches!(err, PortError::Invalid { ref field, .. } if field == "to_environment"));
        let skip =
            plan_promotion(&envs, &active(&[("dev", 2)]), &env("prod"), Some(2)).unwrap_err();
        let err = PortError::from(skip);
        assert_eq!(err.http_status(), 409);
        assert!(
            err.to_string().contains("promote it to stage first"),
            "{err}"
        );
    }

    #[test]
    fn rolled_back_versions_need_a_confirmation() {
        let envs = Environments::default();
        let step = plan_promotion(
            &envs,
            &active(&[("stage", 4), ("prod", 3)]),
            &env("prod"),
            None,
        )
        .unwrap();
        assert_eq!(check_not_rolled_back(&step, &[2], false), Ok(()));
        let err = check_not_rolled_back(&step, &[2, 4], false).unwrap_err();
        assert!(
            err.to_string().contains("confirm_rolled_back: true"),
            "{err}"
        );
        assert_eq!(PortError::from(err).http_status(), 409);
        assert_eq!(check_not_rolled_back(&step, &[4], true), Ok(()));
    }

    #[test]
    fn refusals_serialize_with_their_reason() {
        let r = StepRefusal::AlreadyActive {
            version: 3,
            to: "prod".into(),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"reason": "already_active", "version": 3, "to": "prod"})
        );
    }
}
