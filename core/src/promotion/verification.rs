//! Verification after a promotion or rollback: an environment's policy may
//! name a workflow (a smoke test, a synthetic check) that Gantry runs in
//! that environment right after every promotion and rollback into it, with
//! what moved as its inputs. Its outcome is shown on the ledger and the
//! request's page, decides whether a promotion is rolled back
//! automatically, and is an automatic checklist item of the next
//! environment. The server stores verifications and runs them; these are
//! the rules.

use super::checklist::{ChecklistItemTemplate, ItemCheck};
use super::ledger::DeploymentKind;
use super::policy::EnvironmentPolicy;
use crate::run::RunStatus;
use crate::spec::names::is_workflow_name;
use crate::spec::{InputSpec, InputType, SpecProblem};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The id of the checklist item a promotion gets when the environment it
/// comes from verifies (unless its policy lists the item itself).
pub const VERIFICATION_ITEM: &str = "verification";

/// What an environment's policy says about verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerificationPolicy {
    /// The workflow run after every promotion and rollback into the
    /// environment; it must be active there when that happens.
    pub workflow: String,
    /// What a failed verification of a promotion does (a failed
    /// verification of a rollback always holds: rolling back a rollback
    /// would ping-pong).
    #[serde(default)]
    pub on_failure: OnVerificationFailure,
}

/// What a failed verification of a promotion does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnVerificationFailure {
    /// The version stays; the failure is shown and alerted on, and the
    /// next environment's checklist holds it back.
    #[default]
    Hold,
    /// Roll the environment back to the version the promotion replaced,
    /// with a ledger row naming the failed verification run.
    Rollback,
}

impl OnVerificationFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            OnVerificationFailure::Hold => "hold",
            OnVerificationFailure::Rollback => "rollback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Hold, Self::Rollback]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl VerificationPolicy {
    /// Every problem, with paths under `path` (`verification`).
    pub fn problems(&self, path: &str) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        if !is_workflow_name(&self.workflow) {
            problems.push(SpecProblem::new(
                format!("{path}.workflow"),
                format!(
                    "{} is not a workflow name: use lowercase letters, digits and '-', \
                     starting with a letter",
                    crate::text::quoted(&self.workflow)
                ),
            ));
        }
        problems
    }

    /// Whether a ledger row of this kind is verified: promotions and
    /// rollbacks (a canary's start row moves nothing; applies happen only
    /// in the first environment, which promotes nothing in).
    pub fn verifies(kind: DeploymentKind) -> bool {
        matches!(kind, DeploymentKind::Promotion | DeploymentKind::Rollback)
    }
}

/// Where a verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Written with the ledger row; its run starts on the next pass.
    Pending,
    Running,
    Passed,
    Failed,
}

impl VerificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationState::Pending => "pending",
            VerificationState::Running => "running",
            VerificationState::Passed => "passed",
            VerificationState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Running, Self::Passed, Self::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, VerificationState::Passed | VerificationState::Failed)
    }
}

/// One verification: of the ledger row `deployment_id`, which made
/// `version` of `workflow` active in `environment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    /// Also the id of its run.
    pub id: String,
    pub deployment_id: String,
    pub workflow: String,
    pub environment: String,
    pub version: u32,
    /// `promotion` or `rollback`.
    pub kind: DeploymentKind,
    /// The verification workflow's name.
    pub verifier: String,
    pub on_failure: OnVerificationFailure,
    pub state: VerificationState,
    /// Set once its run was created.
    pub run_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed (or a sentence on how it passed).
    pub why: Option<String>,
    /// The rollback its failure made (ledger row id).
    pub rollback_id: Option<String>,
}

impl Verification {
    /// Whether its failure rolls the environment back: the policy says so,
    /// it verified a promotion, and that promotion is still the last move
    /// there (a person may have moved on already; then theirs stands).
    pub fn rolls_back(&self, last_move_id: Option<&str>) -> bool {
        self.state == VerificationState::Failed
            && self.on_failure == OnVerificationFailure::Rollback
            && self.kind == DeploymentKind::Promotion
            && last_move_id == Some(self.deployment_id.as_str())
    }
}

/// The inputs a verification run gets: of `workflow`, `version`,
/// `environment` and `kind` (`promotion` or `rollback`), those the
/// verification workflow declares, as the type it declares (a version
/// declared as a string gets `"7"`). Undeclared ones are left out, so a
/// smoke test needs no inputs at all.
pub fn inputs_for(
    declared: &IndexMap<String, InputSpec>,
    v: &Verification,
) -> BTreeMap<String, Value> {
    let offered: [(&str, Value); 4] = [
        ("workflow", Value::from(v.workflow.clone())),
        ("version", Value::from(v.version)),
        ("environment", Value::from(v.environment.clone())),
        ("kind", Value::from(v.kind.as_str())),
    ];
    offered
        .into_iter()
        .filter_map(|(name, value)| {
            let spec = declared.get(name)?;
            let value = match (spec.kind, &value) {
                (InputType::String | InputType::Choice, Value::Number(n)) => {
                    Value::from(n.to_string())
                }
                _ => value,
            };
            Some((name.to_owned(), value))
        })
        .collect()
}

/// What a finished run of the verification says: `None` while it runs.
/// A cancelled run did not show the version works, so it fails.
pub fn outcome_of(run_id: &str, status: RunStatus) -> Option<(VerificationState, String)> {
    let failed = |word: &str| {
        Some((
            VerificationState::Failed,
            format!("verification run {run_id} {word}"),
        ))
    };
    match status {
        RunStatus::Queued | RunStatus::Running => None,
        RunStatus::Succeeded => Some((
            VerificationState::Passed,
            format!("verification run {run_id} succeeded"),
        )),
        RunStatus::Failed => failed("failed"),
        RunStatus::TimedOut => failed("timed out"),
        RunStatus::Cancelled => failed("was cancelled before it could pass"),
    }
}

/// The checklist a promotion from `previous` into `target` is evaluated
/// with: the target's own, plus [`VERIFICATION_ITEM`] when the previous
/// environment verifies and the target's checklist doesn't ask already.
pub fn checklist_for(
    target: &EnvironmentPolicy,
    previous: &EnvironmentPolicy,
) -> Vec<ChecklistItemTemplate> {
    let mut items = target.checklist.clone();
    let asks = items
        .iter()
        .any(|i| i.check == ItemCheck::LastVerificationPassed);
    if previous.verification.is_some() && !asks {
        let id = if items.iter().any(|i| i.id == VERIFICATION_ITEM) {
            format!("{VERIFICATION_ITEM}-previous")
        } else {
            VERIFICATION_ITEM.to_owned()
        };
        items.push(ChecklistItemTemplate {
            id,
            check: ItemCheck::LastVerificationPassed,
        });
    }
    items
}

#[cfg(test)]
#[path = "verification_tests.rs"]
mod tests;
