//! Authorization: one pure decision function. The port implementation calls
//! it once per action; the UI may call it to hide what a user can't do, but
//! only the server's answer counts.

use crate::environment::{EnvScope, Environment};
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
    /// Open the Admin area (its landing page).
    ViewAdmin,
    /// Read the audit log.
    ViewAudit,
    /// See one environment's runs, their logs and its approval requests
    /// (lists leave out environments the caller may not see).
    ViewEnvironment { environment: Environment },
    /// Register a workflow version; it becomes active in `environment` (the
    /// first one, `dev` by default).
    ApplyWorkflow { environment: Environment },
    /// Start a run of a workflow in an environment.
    TriggerRun { environment: Environment },
    /// Cancel a queued or running run in an environment.
    CancelRun { environment: Environment },
    /// Turn a workflow's cron schedule on or off in an environment.
    ConfigureSchedule { environment: Environment },
    /// Approve or reject someone else's request in an environment.
    DecideApproval { environment: Environment },
    /// List, create and revoke service tokens.
    ManageTokens,
    /// Give a new token `role` in `scope`: only as far as one's own admin
    /// role reaches, so a token never holds more than its maker could grant.
    GrantTokenRole { role: Role, scope: EnvScope },
    /// List people and the roles they hold (access reviews).
    ViewUsers,
    /// Disable or re-enable a person's account. It cuts access in every
    /// environment, so it needs admin in every one.
    ManageUsers,
    /// Lease, heartbeat, log and report step attempts through the execution
    /// API: worker tokens only, and nothing else for them.
    ExecuteSteps,
    /// Drop cached secret values, so the next attempts fetch afresh. The
    /// cache serves every environment, so it needs admin in every one.
    InvalidateSecrets,
    /// Read `GET /metrics` on the main port: metrics tokens only, and
    /// nothing else for them.
    ScrapeMetrics,
    /// Create, change or delete alert rules and silences covering `scope`:
    /// the on-call role (operator) or admin there; every environment needs
    /// it in every one.
    ManageAlerts { scope: EnvScope },
    /// Create, change or delete notification channels. A channel carries
    /// every environment's alerts to wherever its URL points, so it needs
    /// admin in every environment.
    ManageAlertChannels,
    /// See and change rate-limit overrides. A token or group's limits
    /// apply in every environment, so it needs admin in every one.
    ManageRateLimits,
    /// Purge what is past its retention now. It deletes run history in
    /// every environment, so it needs admin in every one.
    PurgeRetention,
    /// Register a break-glass passkey for oneself: a way in that bypasses
    /// single sign-on, so only a person who is admin in every environment.
    RegisterPasskey,
}

impl Action {
    /// The action's kind as a metric label: no environment, role or scope,
    /// so the label's values stay few.
    pub fn name(&self) -> &'static str {
        match self {
            Action::ViewDashboard => "view_dashboard",
            Action::UpdateOwnPreferences => "update_own_preferences",
            Action::ViewAdmin => "view_admin",
            Action::ViewAudit => "view_audit",
            Action::ViewEnvironment { .. } => "view_environment",
            Action::ApplyWorkflow { .. } => "apply_workflow",
            Action::TriggerRun { .. } => "trigger_run",
            Action::CancelRun { .. } => "cancel_run",
            Action::ConfigureSchedule { .. } => "configure_schedule",
            Action::DecideApproval { .. } => "decide_approval",
            Action::ManageTokens => "manage_tokens",
            Action::GrantTokenRole { .. } => "grant_token_role",
            Action::ViewUsers => "view_users",
            Action::ManageUsers => "manage_users",
            Action::ExecuteSteps => "execute_steps",
            Action::InvalidateSecrets => "invalidate_secrets",
            Action::ScrapeMetrics => "scrape_metrics",
            Action::ManageAlerts { .. } => "manage_alerts",
            Action::ManageAlertChannels => "manage_alert_channels",
            Action::ManageRateLimits => "manage_rate_limits",
            Action::PurgeRetention => "purge_retention",
            Action::RegisterPasskey => "register_passkey",
        }
    }
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
    let in_env = |roles: &[Role], env: &Environment| roles.iter().any(|r| principal.holds(*r, env));
    // What acting on every environment at once needs (admin@*).
    let admin_everywhere = || {
        principal
            .grants
            .iter()
            .any(|g| g.role == Role::Admin && g.scope == EnvScope::All)
    };
    match action {
        Action::ViewDashboard => {
            if any(&[Role::Viewer, Role::Operator, Role::Approver, Role::Admin]) {
                Decision::Allow
            } else if any(&[Role::Auditor]) {
                Decision::deny("auditors can read the audit log and the user list only")
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
            // Auditors come for the Users page (access reviews); each page
            // in the area asks for its own action too.
            if any(&[Role::Admin, Role::Auditor]) {
                Decision::Allow
            } else {
                Decision::deny("the Admin area needs the admin or auditor role")
            }
        }
        Action::ViewAudit => {
            if any(&[Role::Admin, Role::Auditor]) {
                Decision::Allow
            } else {
                Decision::deny("the audit log needs the admin or auditor role")
            }
        }
        Action::ViewEnvironment { environment } => {
            if in_env(
                &[Role::Viewer, Role::Operator, Role::Approver, Role::Admin],
                environment,
            ) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "seeing runs and requests in {environment} needs a role there (viewer, operator, approver or admin)"
                ))
            }
        }
        Action::ApplyWorkflow { environment } => {
            if in_env(&[Role::Admin], environment) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "applying workflows needs the admin role in {environment}"
                ))
            }
        }
        Action::TriggerRun { environment } => {
            if in_env(&[Role::Operator, Role::Admin], environment) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "running workflows in {environment} needs the operator or admin role there"
                ))
            }
        }
        Action::ConfigureSchedule { environment } => {
            if in_env(&[Role::Admin], environment) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "turning schedules on or off in {environment} needs the admin role there"
                ))
            }
        }
        Action::DecideApproval { environment } => {
            if in_env(&[Role::Approver, Role::Admin], environment) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "deciding requests in {environment} needs the approver or admin role there"
                ))
            }
        }
        Action::ManageTokens => {
            if any(&[Role::Admin]) {
                Decision::Allow
            } else {
                Decision::deny("service tokens are managed by admins")
            }
        }
        Action::GrantTokenRole { role, scope } => {
            let covered = principal.grants.iter().any(|g| {
                g.role == Role::Admin
                    && match scope {
                        EnvScope::All => g.scope == EnvScope::All,
                        EnvScope::Only(env) => g.scope.covers(env),
                    }
            });
            if covered {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "granting {role}@{scope} needs the admin role in {}",
                    match scope {
                        EnvScope::All => "every environment (admin@*)".to_owned(),
                        EnvScope::Only(env) => env.to_string(),
                    }
                ))
            }
        }
        Action::ViewUsers => {
            if any(&[Role::Admin, Role::Auditor]) {
                Decision::Allow
            } else {
                Decision::deny("the user list needs the admin or auditor role")
            }
        }
        Action::InvalidateSecrets => {
            if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny(
                    "invalidating cached secrets needs the admin role in every environment (admin@*)",
                )
            }
        }
        Action::ManageUsers => {
            if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny(
                    "disabling or enabling accounts needs the admin role in every environment (admin@*)",
                )
            }
        }
        Action::ExecuteSteps => {
            // Roles don't enter into it: an admin's token that could claim
            // steps would be a way around the execution boundary.
            if principal.kind == PrincipalKind::Worker {
                Decision::Allow
            } else {
                Decision::deny(
                    "only a worker token may lease and report steps (make one with gantry token create --worker)",
                )
            }
        }
        Action::ScrapeMetrics => {
            // Like steps: a credential of its own kind, so the secret a
            // Prometheus server holds can read metrics and do nothing else,
            // and no admin token needs to sit in its configuration.
            if principal.kind == PrincipalKind::MetricsScraper {
                Decision::Allow
            } else {
                Decision::deny(
                    "only a metrics token may read /metrics (make one with gantry token create --metrics)",
                )
            }
        }
        Action::ManageAlerts { scope } => {
            let covered = principal.grants.iter().any(|g| {
                matches!(g.role, Role::Operator | Role::Admin)
                    && match scope {
                        EnvScope::All => g.scope == EnvScope::All,
                        EnvScope::Only(env) => g.scope.covers(env),
                    }
            });
            if covered {
                Decision::Allow
            } else {
                Decision::deny(match scope {
                    EnvScope::All => "alert rules and silences for every environment need the operator or admin role in every environment".to_owned(),
                    EnvScope::Only(env) => format!(
                        "alert rules and silences in {env} need the operator or admin role there"
                    ),
                })
            }
        }
        Action::ManageAlertChannels => {
            if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny(
                    "notification channels need the admin role in every environment (admin@*)",
                )
            }
        }
        Action::ManageRateLimits => {
            if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny("rate limits need the admin role in every environment (admin@*)")
            }
        }
        Action::RegisterPasskey => {
            if principal.kind != PrincipalKind::User {
                Decision::deny("break-glass passkeys belong to people: sign in to register one")
            } else if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny(
                    "break-glass passkeys are for admins: it needs the admin role in every environment (admin@*)",
                )
            }
        }
        Action::PurgeRetention => {
            if admin_everywhere() {
                Decision::Allow
            } else {
                Decision::deny("purging needs the admin role in every environment (admin@*)")
            }
        }
        Action::CancelRun { environment } => {
            if in_env(&[Role::Operator, Role::Admin], environment) {
                Decision::Allow
            } else {
                Decision::deny(format!(
                    "cancelling runs in {environment} needs the operator or admin role there"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RoleGrant, UserId};

    fn scoped(grants: &[(Role, &str)]) -> Principal {
        let mut p = with(PrincipalKind::User, &[]);
        p.grants = grants
            .iter()
            .map(|(role, scope)| RoleGrant {
                role: *role,
                scope: EnvScope::parse(scope).unwrap(),
                source: "test".into(),
            })
            .collect();
        p
    }

    #[test]
    fn environment_scoped_actions_table() {
        use Role::*;
        let env = |e: &str| Environment::parse(e).unwrap();
        let apply = |e: &str| Action::ApplyWorkflow {
            environment: env(e),
        };
        let trigger = |e: &str| Action::TriggerRun {
            environment: env(e),
        };
        let cancel = |e: &str| Action::CancelRun {
            environment: env(e),
        };
        let schedule = |e: &str| Action::ConfigureSchedule {
            environment: env(e),
        };
        type Row = (&'static [(Role, &'static str)], Action, bool);
        let table: Vec<Row> = vec![
            (&[(Admin, "*")], apply("dev"), true),
            (&[(Admin, "prod")], apply("dev"), false),
            (&[(Operator, "*")], apply("dev"), false),
            (&[(Operator, "dev")], trigger("dev"), true),
            (&[(Operator, "dev")], trigger("prod"), false),
            (&[(Admin, "prod")], trigger("prod"), true),
            (&[(Viewer, "*"), (Approver, "*")], trigger("dev"), false),
            (&[(Auditor, "*")], trigger("dev"), false),
            (&[(Operator, "stage")], cancel("stage"), true),
            (&[(Operator, "stage")], cancel("prod"), false),
            (&[(Viewer, "*")], cancel("dev"), false),
            (&[], trigger("dev"), false),
            (&[(Admin, "prod")], schedule("prod"), true),
            (&[(Admin, "dev")], schedule("prod"), false),
            (&[(Operator, "*")], schedule("dev"), false),
        ];
        for (grants, action, allowed) in table {
            let d = decide(&scoped(grants), &action);
            assert_eq!(d.is_allowed(), allowed, "{grants:?} {action:?} -> {d:?}");
        }
    }

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
            signed_in_at: None,
            break_glass_until: None,
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
            (user, &[Auditor], ViewAdmin, true),
            (user, &[Auditor], ViewAudit, true),
            (user, &[Admin], ViewAudit, true),
            (user, &[Operator], ViewAudit, false),
            (PrincipalKind::Worker, &[], ExecuteSteps, true),
            (user, &[Admin], ExecuteSteps, false),
            (PrincipalKind::ServiceToken, &[Admin], ExecuteSteps, false),
            (PrincipalKind::ScimClient, &[], ExecuteSteps, false),
            (PrincipalKind::System, &[Admin], ExecuteSteps, false),
            (PrincipalKind::Worker, &[], ViewDashboard, false),
            (PrincipalKind::MetricsScraper, &[], ScrapeMetrics, true),
            (user, &[Admin], ScrapeMetrics, false),
            (PrincipalKind::ServiceToken, &[Admin], ScrapeMetrics, false),
            (PrincipalKind::Worker, &[], ScrapeMetrics, false),
            (PrincipalKind::MetricsScraper, &[], ViewDashboard, false),
            (PrincipalKind::MetricsScraper, &[], ExecuteSteps, false),
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
                reason: "the Admin area needs the admin or auditor role".into()
            }
        );
    }

    #[test]
    fn tokens_can_only_carry_what_their_maker_administers() {
        use Role::*;
        let grant = |role, scope: &str| Action::GrantTokenRole {
            role,
            scope: EnvScope::parse(scope).unwrap(),
        };
        type Case = (&'static [(Role, &'static str)], Action, bool);
        let cases: &[Case] = &[
            (&[(Admin, "*")], grant(Admin, "*"), true),
            (&[(Admin, "*")], grant(Operator, "prod"), true),
            (&[(Admin, "dev")], grant(Operator, "dev"), true),
            (&[(Admin, "dev")], grant(Operator, "prod"), false),
            (&[(Admin, "dev")], grant(Viewer, "*"), false),
            (&[(Operator, "*")], grant(Viewer, "dev"), false),
            (&[(Admin, "dev")], Action::ManageTokens, true),
            (&[(Auditor, "*")], Action::ManageTokens, false),
            (&[(Operator, "*")], Action::ManageTokens, false),
        ];
        for (grants, action, allowed) in cases {
            let p = scoped(grants);
            assert_eq!(
                decide(&p, action).is_allowed(),
                *allowed,
                "{grants:?} {action:?}"
            );
        }
    }

    #[test]
    fn an_environment_is_seen_by_those_with_a_role_there() {
        use Role::*;
        let see = |e: &str| Action::ViewEnvironment {
            environment: Environment::parse(e).unwrap(),
        };
        type Case = (&'static [(Role, &'static str)], Action, bool);
        let cases: &[Case] = &[
            (&[(Viewer, "dev")], see("dev"), true),
            (&[(Viewer, "dev")], see("prod"), false),
            (&[(Operator, "*")], see("prod"), true),
            (&[(Approver, "prod")], see("prod"), true),
            (&[(Admin, "stage")], see("prod"), false),
            (&[(Auditor, "*")], see("dev"), false),
        ];
        for (grants, action, allowed) in cases {
            assert_eq!(
                decide(&scoped(grants), action).is_allowed(),
                *allowed,
                "{grants:?} {action:?}"
            );
        }
    }

    #[test]
    fn user_admin_needs_admin_everywhere_and_reviews_need_admin_or_auditor() {
        use Role::*;
        type Case = (&'static [(Role, &'static str)], Action, bool);
        let cases: &[Case] = &[
            (&[(Admin, "*")], Action::ManageUsers, true),
            (&[(Admin, "prod")], Action::ManageUsers, false),
            (
                &[(Admin, "dev"), (Admin, "stage"), (Admin, "prod")],
                Action::ManageUsers,
                false,
            ),
            (&[(Auditor, "*")], Action::ManageUsers, false),
            (&[(Admin, "*")], Action::InvalidateSecrets, true),
            (&[(Admin, "prod")], Action::InvalidateSecrets, false),
            (&[(Auditor, "*")], Action::InvalidateSecrets, false),
            (&[(Admin, "dev")], Action::ViewUsers, true),
            (&[(Auditor, "*")], Action::ViewUsers, true),
            (&[(Approver, "*")], Action::ViewUsers, false),
            (&[(Operator, "*"), (Viewer, "*")], Action::ViewUsers, false),
        ];
        for (grants, action, allowed) in cases {
            let p = scoped(grants);
            assert_eq!(
                decide(&p, action).is_allowed(),
                *allowed,
                "{grants:?} {action:?}"
            );
        }
    }
}
