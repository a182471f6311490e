//! The Promote and Roll back forms of the Promotions page and a workflow's
//! page. Each sits in a `<details>`: opening it is the first step, the
//! form with its reason and a button naming exactly what will happen is
//! the confirmation, and it is a plain form post that works without
//! JavaScript.
//!
//! Which forms are offered follows the target environment's policy
//! ([`Powers`]); the port checks again on every post.

use crate::api::{RequestPromotion, RollBack, get_environment_policies};
use crate::components::layout::Shell;
use gantry_core::promotion::view::PolicyView;
use gantry_core::{Environment, Principal, Role};
use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the signed-in person may ask for promotions and roll back.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Powers {
    pub request_into: Vec<String>,
    pub roll_back_in: Vec<String>,
}

impl Powers {
    /// From each environment's policy (its `request_role` and
    /// `rollback_role`, or admin, held there); without the policies,
    /// operator as in the defaults.
    pub fn of(
        principal: Option<&Principal>,
        environments: &[String],
        policies: Option<&[PolicyView]>,
    ) -> Powers {
        let Some(p) = principal else {
            return Powers::default();
        };
        let policy = |env: &str| {
            policies
                .into_iter()
                .flatten()
                .find(|v| v.environment == env)
                .map(|v| &v.policy)
        };
        let holds = |role: Role, env: &str| {
            Environment::parse(env).is_ok_and(|e| p.holds(role, &e) || p.holds(Role::Admin, &e))
        };
        let mut powers = Powers::default();
        for env in environments {
            let (request, rollback) = policy(env).map_or((Role::Operator, Role::Operator), |p| {
                (p.request_role, p.rollback_role)
            });
            if holds(request, env) {
                powers.request_into.push(env.clone());
            }
            if holds(rollback, env) {
                powers.roll_back_in.push(env.clone());
            }
        }
        powers
    }

    pub fn may_request_into(&self, env: &str) -> bool {
        self.request_into.iter().any(|e| e == env)
    }

    pub fn may_roll_back_in(&self, env: &str) -> bool {
        self.roll_back_in.iter().any(|e| e == env)
    }
}

/// The signed-in person's [`Powers`] over `environments`. The policies are
/// a second read; when it fails the defaults stand in (the port decides
/// anyway).
pub async fn load_powers(shell: Shell, environments: &[String]) -> Powers {
    let principal = shell.principal().await;
    let policies = get_environment_policies().await.ok();
    Powers::of(principal.as_ref(), environments, policies.as_deref())
}

/// A stable fragment for element ids: workflow and environment names are
/// lowercase letters, digits, `-` and `_` already; anything else becomes
/// `-`.
pub fn id_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// What a promotion form moves where.
#[derive(Clone, Debug, PartialEq)]
pub struct PromoteTarget {
    pub workflow: String,
    pub version: u32,
    pub from: String,
    pub to: String,
    /// The version was rolled back in `to`: promoting it again needs an
    /// explicit confirmation.
    pub rolled_back_there: bool,
}

#[component]
pub fn PromoteForm(target: PromoteTarget, action: ServerAction<RequestPromotion>) -> impl IntoView {
    let PromoteTarget {
        workflow,
        version,
        from,
        to,
        rolled_back_there,
    } = target;
    let key = format!("{}-{}", id_part(&workflow), id_part(&to));
    let reason_id = format!("promote-reason-{key}");
    let confirm_id = format!("promote-confirm-{key}");
    let button = format!("Promote version {version} to {to}");
    let busy = move || action.pending().get();
    let confirm = rolled_back_there.then(|| {
        view! {
            <p class="alert alert-warn">
                "Version " {version} " was rolled back in " {to.clone()}
                ". Promote it again only if whatever made it go back is fixed."
            </p>
            <div class="field field-check">
                <input type="checkbox" id=confirm_id.clone() name="confirm_rolled_back" value="true" required />
                <label for=confirm_id>"Promote the rolled-back version " {version} " anyway"</label>
            </div>
        }
    });
    view! {
        <details class="cell-action promote" id=format!("promote-{key}")>
            <summary>"Promote to " {to.clone()}</summary>
            <ActionForm action attr:class="form promote-form">
                <input type="hidden" name="workflow" value=workflow.clone() />
                <input type="hidden" name="to_environment" value=to.clone() />
                <input type="hidden" name="version" value=version.to_string() />
                <p class="hint">
                    "Asks to move version " {version} " of " {workflow.clone()} " from " {from}
                    " to " {to.clone()} ". The policy of " {to.clone()}
                    " says which approvals and checks it needs first."
                </p>
                {confirm}
                <div class="field">
                    <label for=reason_id.clone()>"Reason"</label>
                    <textarea id=reason_id name="reason" rows="2" maxlength="1000" required></textarea>
                </div>
                <div class="actions">
                    <button type="submit" disabled=busy>{button}</button>
                </div>
            </ActionForm>
        </details>
    }
}

/// What a rollback form moves back.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackTarget {
    pub workflow: String,
    pub environment: String,
    pub current: u32,
    pub to: u32,
}

#[component]
pub fn RollbackForm(target: RollbackTarget, action: ServerAction<RollBack>) -> impl IntoView {
    let RollbackTarget {
        workflow,
        environment,
        current,
        to,
    } = target;
    let key = format!("{}-{}", id_part(&workflow), id_part(&environment));
    let reason_id = format!("rollback-reason-{key}");
    let cancel_id = format!("rollback-cancel-{key}");
    let button = format!("Roll back {environment} to version {to}");
    let busy = move || action.pending().get();
    view! {
        <details class="cell-action rollback" id=format!("rollback-{key}")>
            <summary>"Roll back…"</summary>
            <ActionForm action attr:class="form rollback-form">
                <input type="hidden" name="workflow" value=workflow.clone() />
                <input type="hidden" name="environment" value=environment.clone() />
                <input type="hidden" name="to_version" value=to.to_string() />
                <p class="hint">
                    "Makes version " {to} " of " {workflow} " active in " {environment.clone()}
                    " again, replacing version " {current}
                    ". No approval is needed: version " {to}
                    " passed its gate when it went in. Runs already going keep their version."
                </p>
                <div class="field">
                    <label for=reason_id.clone()>"Reason"</label>
                    <textarea id=reason_id name="reason" rows="2" maxlength="1000" required></textarea>
                </div>
                <div class="field field-check">
                    <input type="checkbox" id=cancel_id.clone() name="cancel_running" value="true" />
                    <label for=cancel_id>"Also cancel the runs of version " {current} " still going"</label>
                </div>
                <div class="actions">
                    <button type="submit" class="danger" disabled=busy>{button}</button>
                </div>
            </ActionForm>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::promotion::{EnvironmentPolicy, EnvironmentPosition};
    use gantry_core::{EnvScope, PrincipalKind, RoleGrant, UserId};

    fn principal(grants: &[(Role, &str)]) -> Principal {
        Principal {
            id: UserId("u1".into()),
            kind: PrincipalKind::User,
            username: "oscar".into(),
            display_name: "Oscar".into(),
            email: None,
            grants: grants
                .iter()
                .map(|(role, scope)| RoleGrant {
                    role: *role,
                    scope: EnvScope::parse(scope).unwrap(),
                    source: "test".into(),
                })
                .collect(),
            signed_in_at: None,
            break_glass_until: None,
        }
    }

    fn policy(env: &str, request: Role, rollback: Role) -> PolicyView {
        PolicyView {
            environment: env.into(),
            position: EnvironmentPosition::Last,
            policy: EnvironmentPolicy {
                request_role: request,
                rollback_role: rollback,
                ..EnvironmentPolicy::default()
            },
            is_default: false,
            updated_by: None,
            updated_at: None,
        }
    }

    #[test]
    fn powers_follow_each_targets_policy_or_the_operator_default() {
        let envs = ["dev".to_owned(), "stage".to_owned(), "prod".to_owned()];
        let operator_everywhere = principal(&[(Role::Operator, "*")]);
        let powers = Powers::of(Some(&operator_everywhere), &envs, None);
        assert_eq!(powers.request_into, envs);
        assert_eq!(powers.roll_back_in, envs);

        let policies = [policy("prod", Role::Approver, Role::Operator)];
        let powers = Powers::of(Some(&operator_everywhere), &envs, Some(&policies));
        assert!(!powers.may_request_into("prod"));
        assert!(powers.may_roll_back_in("prod"));

        let admin_prod = principal(&[(Role::Admin, "prod"), (Role::Viewer, "*")]);
        let powers = Powers::of(Some(&admin_prod), &envs, Some(&policies));
        assert_eq!(powers.request_into, ["prod"]);
        assert_eq!(powers.roll_back_in, ["prod"]);

        assert_eq!(Powers::of(None, &envs, None), Powers::default());
    }

    #[test]
    fn ids_are_built_from_safe_characters() {
        assert_eq!(id_part("nightly-report_2"), "nightly-report_2");
        assert_eq!(id_part("a b\"c"), "a-b-c");
    }
}
