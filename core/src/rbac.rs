//! Authorization: one pure decision function. The port implementation calls
//! it once per action; the UI may call it to hide what a user can't do, but
//! only the server's answer counts.

use crate::identity::{Principal, PrincipalKind, Role};
use serde::{Deserialize, Serialize};

/// What a principal asks to do. Environment-scoped actions carry their
/// environment; later issues add workflow, run and approval actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See the dashboard's read-only pages.
    ViewDashboard,
    /// Change one's own display preferences.
    UpdateOwnPreferences,
    /// Open the Admin area.
    ViewAdmin,
    /// Read the audit log.
    ViewAudit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Allow,
    Deny { reason: String },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    fn deny(reason: impl Into<String>) -> Self {
        Decision::Deny {
            reason: reason.into(),
        }
    }
}

/// Decides whether `principal` may perform `action`. Deny by default: every
/// arm names the roles that allow it.
pub fn decide(principal: &Principal, action: &Action) -> Decision {
    let any = |roles: &[Role]| roles.iter().any(|r| principal.holds_anywhere(*r));
    match action {
        Action::ViewDashboard => {
            if any(&[Role::Viewer, Role::Operator, Role::Approver, Role::Admin]) {
                Decision::Allow
            } else if any(&[Role::Auditor]) {
                Decision::deny("auditors can read the audit log only")
            } else {
                Decision::deny("you hold no role in any environment; ask an admin for access")
            }
        }
        Action::UpdateOwnPreferences => {
            if principal.kind == PrincipalKind::User {
                Decision::Allow
            } else {
                Decision::deny("only people have display preferences")
            }
        }
        Action::ViewAdmin => {
            if any(&[Role::Admin]) {
                Decision::Allow
            } else {
                Decision::deny("the Admin area needs the admin role")
            }
        }
        Action::ViewAudit => {
            if any(&[Role::Admin, Role::Auditor]) {
                Decision::Allow
            } else {
                Decision::deny("the audit log needs the admin or auditor role")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::EnvScope;
    use crate::identity::{RoleGrant, UserId};

    fn with(kind: PrincipalKind, roles: &[Role]) -> Principal {
        Principal {
            id: UserId("id".into()),
            kind,
            username: "u".into(),
            display_name: "U".into(),
            email: None,
            grants: roles
                .iter()
                .map(|r| RoleGrant {
                    role: *r,
                    scope: EnvScope::All,
                    source: "test".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn decision_table() {
        use Action::*;
        use Role::*;
        let user = PrincipalKind::User;
        // (kind, roles, action, allowed)
        let table: &[(PrincipalKind, &[Role], Action, bool)] = &[
            (user, &[], ViewDashboard, false),
            (user, &[Viewer], ViewDashboard, true),
            (user, &[Operator], ViewDashboard, true),
            (user, &[Approver], ViewDashboard, true),
            (user, &[Admin], ViewDashboard, true),
            (user, &[Auditor], ViewDashboard, false),
            (user, &[], UpdateOwnPreferences, true),
            (
                PrincipalKind::ServiceToken,
                &[Admin],
                UpdateOwnPreferences,
                false,
            ),
            (user, &[Viewer, Operator, Approver], ViewAdmin, false),
            (user, &[Admin], ViewAdmin, true),
            (user, &[Auditor], ViewAudit, true),
            (user, &[Admin], ViewAudit, true),
            (user, &[Operator], ViewAudit, false),
        ];
        for (kind, roles, action, allowed) in table {
            let d = decide(&with(*kind, roles), action);
            assert_eq!(
                d.is_allowed(),
                *allowed,
                "{kind:?} {roles:?} {action:?} -> {d:?}"
            );
        }
    }

    #[test]
    fn denials_say_why() {
        let d = decide(
            &with(PrincipalKind::User, &[Role::Viewer]),
            &Action::ViewAdmin,
        );
        assert_eq!(
            d,
            Decision::Deny {
                reason: "the Admin area needs the admin role".into()
            }
        );
    }
}
