//! Environment policies: what a promotion *into* an environment needs. They
//! are data the environment's admins edit (`PUT
//! /api/v1/environments/{env}/policy`), never part of a workflow spec: a
//! workflow's author must not be able to weaken their own gate.

use super::checklist::{ChecklistItemTemplate, default_checklist};
use super::duration::PolicyDuration;
use super::verification::VerificationPolicy;
use crate::canary::CanaryPolicy;
use crate::environment::{Environment, Environments};
use crate::error::PortError;
use crate::identity::Role;
use crate::spec::SpecProblem;
use serde::{Deserialize, Serialize};

/// Most distinct approvers a policy may require: more can't be met by the
/// small teams that run an environment, and would lock it.
pub const MAX_REQUIRED_APPROVALS: u32 = 5;
/// Most checklist items: a list longer than this stops being read.
pub const MAX_CHECKLIST_ITEMS: usize = 20;
/// How long a request waits by default before it expires.
pub const DEFAULT_REQUEST_TTL: PolicyDuration = PolicyDuration::from_days(7);
/// A request needs at least an hour to gather approvals, and one older
/// than 30 days reviews a world that has moved on.
pub const MIN_REQUEST_TTL: PolicyDuration = PolicyDuration::from_hours(1);
pub const MAX_REQUEST_TTL: PolicyDuration = PolicyDuration::from_days(30);

/// Where an environment stands in the promotion order, which decides its
/// default policy and the step-up floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentPosition {
    /// Versions become active here on apply; nothing is promoted into it.
    First,
    Middle,
    /// The most critical (`prod` by default). With a single environment it
    /// is this, not `First`: criticality is what counts.
    Last,
}

impl EnvironmentPosition {
    /// `None` when `env` is not configured.
    pub fn of(envs: &Environments, env: &Environment) -> Option<Self> {
        let i = envs.position(env)?;
        Some(if envs.is_last(env) {
            Self::Last
        } else if i == 0 {
            Self::First
        } else {
            Self::Middle
        })
    }
}

/// What a promotion into one environment needs, and who may roll it back.
/// Every field has a default, so `{}` is a valid body: nothing required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPolicy {
    /// Distinct people who must approve (0 = none), 0..=5.
    #[serde(default)]
    pub required_approvals: u32,
    /// Who may ask for a promotion into this environment: holders of this
    /// role (or admin) *in this environment*. Default operator.
    #[serde(default = "operator")]
    pub request_role: Role,
    /// Who may roll back here: holders of this role (or admin) in this
    /// environment. Default operator, so on-call can act at 3 a.m.
    #[serde(default = "operator")]
    pub rollback_role: Role,
    /// Whether approving, rejecting, rolling back and a request that
    /// promotes at once need a recent sign-in here. Always true in the last
    /// environment.
    #[serde(default)]
    pub step_up: bool,
    /// The rollout checklist every promotion into this environment gets.
    #[serde(default)]
    pub checklist: Vec<ChecklistItemTemplate>,
    /// How long a request waits before it expires, 1 h ..= 30 d. Default 7 d.
    #[serde(default = "default_ttl")]
    pub request_ttl: PolicyDuration,
    /// Promotions into this environment become canaries taking a growing
    /// share of its runs (docs/canary.md). `null`: the new version takes
    /// every run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryPolicy>,
    /// A workflow run here after every promotion and rollback into this
    /// environment (docs/promotions.md#verification). `null`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationPolicy>,
}

fn operator() -> Role {
    Role::Operator
}

fn default_ttl() -> PolicyDuration {
    DEFAULT_REQUEST_TTL
}

impl Default for EnvironmentPolicy {
    /// Nothing required: what `dev` and `stage` start with.
    fn default() -> Self {
        EnvironmentPolicy {
            required_approvals: 0,
            request_role: Role::Operator,
            rollback_role: Role::Operator,
            step_up: false,
            checklist: Vec::new(),
            request_ttl: DEFAULT_REQUEST_TTL,
            canary: None,
            verification: None,
        }
    }
}

impl EnvironmentPolicy {
    /// The policy an environment has until its admins set one: the first
    /// and middle environments need nothing; the last needs one approver,
    /// a recent sign-in and the [`default_checklist`].
    pub fn default_for(position: EnvironmentPosition) -> Self {
        match position {
            EnvironmentPosition::First | EnvironmentPosition::Middle => Self::default(),
            EnvironmentPosition::Last => EnvironmentPolicy {
                required_approvals: 1,
                step_up: true,
                checklist: default_checklist(),
                ..Self::default()
            },
        }
    }

    /// Whether the sensitive acts here need a recent sign-in: the policy
    /// says so, or this is the last environment (a floor no policy lowers).
    pub fn step_up_applies(&self, position: EnvironmentPosition) -> bool {
        self.step_up || position == EnvironmentPosition::Last
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&ChecklistItemTemplate> {
        self.checklist.iter().find(|i| i.id == id)
    }

    /// Every problem with this policy for `environment`, each naming its
    /// field and what to write instead.
    pub fn problems(
        &self,
        environment: &Environment,
        position: EnvironmentPosition,
    ) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        let mut add = |path: &str, message: String| problems.push(SpecProblem::new(path, message));
        if self.required_approvals > MAX_REQUIRED_APPROVALS {
            add(
                "required_approvals",
                format!(
                    "{} is more than the {MAX_REQUIRED_APPROVALS} allowed; use 0 (no approval) \
                     to {MAX_REQUIRED_APPROVALS}",
                    self.required_approvals
                ),
            );
        }
        for (field, role) in [
            ("request_role", self.request_role),
            ("rollback_role", self.rollback_role),
        ] {
            if !matches!(role, Role::Operator | Role::Approver | Role::Admin) {
                add(
                    field,
                    format!("{role} is a read-only role; use operator, approver or admin"),
                );
            }
        }
        if position == EnvironmentPosition::Last && !self.step_up {
            add(
                "step_up",
                format!(
                    "{environment} is the last environment, where step-up always applies; \
                     set step_up to true"
                ),
            );
        }
        if position == EnvironmentPosition::First
            && (self.required_approvals > 0 || !self.checklist.is_empty())
        {
            add(
                "",
                format!(
                    "nothing is promoted into {environment}, the first environment (versions \
                     become active there on apply), so it can't require approvals or a \
                     checklist; set required_approvals to 0 and leave the checklist empty"
                ),
            );
        }
        if self.canary.is_some() && position == EnvironmentPosition::First {
            add(
                "canary",
                format!(
                    "nothing is promoted into {environment}, the first environment, so it \
                     can't have canaries; set canary to null"
                ),
            );
        }
        if self.verification.is_some() && position == EnvironmentPosition::First {
            add(
                "verification",
                format!(
                    "nothing is promoted into {environment}, the first environment, so there \
                     is nothing to verify there; set verification to null"
                ),
            );
        }
        if let Some(why) = self.request_ttl.check(MIN_REQUEST_TTL, MAX_REQUEST_TTL) {
            add("request_ttl", why);
        }
        if self.checklist.len() > MAX_CHECKLIST_ITEMS {
            add(
                "checklist",
                format!(
                    "{} items is more than the {MAX_CHECKLIST_ITEMS} allowed; keep the ones \
                     that catch real problems",
                    self.checklist.len()
                ),
            );
        }
        for (i, item) in self.checklist.iter().enumerate() {
            problems.extend(item.problems(&format!("checklist[{i}]")));
            if let Some(first) = self.checklist[..i].iter().position(|o| o.id == item.id) {
                problems.push(SpecProblem::new(
                    format!("checklist[{i}].id"),
                    format!(
                        "{} is also the id of checklist[{first}]; ids name items in URLs and \
                         ticks, so make each unique",
                        crate::text::quoted(&item.id)
                    ),
                ));
            }
        }
        if let Some(canary) = &self.canary {
            problems.extend(canary.problems("canary"));
        }
        if let Some(verification) = &self.verification {
            problems.extend(verification.problems("verification"));
        }
        problems
    }

    /// Checks a policy as `PUT .../policy` receives it: every problem at
    /// once, as a 422 whose problems name their fields.
    pub fn validate(
        &self,
        environment: &Environment,
        position: EnvironmentPosition,
    ) -> Result<(), PortError> {
        let problems = self.problems(environment, position);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PortError::Unprocessable {
                message: format!("the policy for {environment} was not saved"),
                problems,
            })
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
