//! Who is acting: people (dev users now; OIDC and SCIM users later), service
//! tokens and the system itself, and the roles they hold per environment.

use crate::environment::{EnvScope, Environment};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable user id (a UUID as text). Never reused, unlike a username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read workflows, runs and their logs.
    Viewer,
    /// Viewer, plus trigger and cancel runs.
    Operator,
    /// Viewer, plus approve or reject other people's requests.
    Approver,
    /// Everything: workflows, alerts, tokens, users.
    Admin,
    /// The audit log and the user list (access reviews), read-only.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Operator,
        Role::Approver,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One role in one scope, and why the principal holds it (e.g. `dev seed`,
/// `group:sre`), so the UI can explain access.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: EnvScope,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    ServiceToken,
    /// An identity provider provisioning over SCIM with its SCIM token:
    /// holds no roles, and is let in on `/scim/v2` only.
    ScimClient,
    /// A worker holding a worker token: holds no roles, and is let in on
    /// the execution API (`/exec/v1`) only, for the steps it leased.
    Worker,
    /// Prometheus (or another scraper) holding a metrics token: holds no
    /// roles, and reads `GET /metrics` on the main port only.
    MetricsScraper,
    System,
}

/// The authenticated caller of a port method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub id: UserId,
    pub kind: PrincipalKind,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub grants: Vec<RoleGrant>,
    /// When a person last signed in interactively (their session's start);
    /// what step-up checks. `None` for service tokens and the system, which
    /// have no interactive sign-in and are not subject to step-up.
    #[serde(default)]
    pub signed_in_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A break-glass session (signed in with a passkey while single sign-on
    /// is down): when it ends. Every page says so and every record of its
    /// actions carries `break_glass: true` ([`crate::break_glass`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Principal {
    /// True when some grant gives `role` in `env`.
    pub fn holds(&self, role: Role, env: &Environment) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.scope.covers(env))
    }

    /// True when some grant gives `role` in at least one environment.
    pub fn holds_anywhere(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Short summary for the UI, e.g. `admin@*, viewer@prod`.
    pub fn roles_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .grants
            .iter()
            .map(|g| format!("{}@{}", g.role, g.scope))
            .collect();
        parts.sort();
        parts.dedup();
        parts.join(", ")
    }
}

/// What `GET /api/v1/me` says about the caller: who they are and every role
/// they hold, per environment, with what granted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub kind: PrincipalKind,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<MeRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeRole {
    pub role: Role,
    /// An environment, or `*` for every one.
    pub environment: String,
    /// What granted it: `group:sre`, `token ci-deploy`, `dev seed`…
    pub source: String,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        Me {
            id: p.id.0.clone(),
            kind: p.kind,
            username: p.username.clone(),
            display_name: p.display_name.clone(),
            email: p.email.clone(),
            roles: explain_roles(&p.grants),
        }
    }
}

/// Grants as the roles they give, each with what granted it, sorted by role
/// then environment: how `/me` and the Users page explain access.
pub fn explain_roles(grants: &[RoleGrant]) -> Vec<MeRole> {
    let mut roles: Vec<MeRole> = grants
        .iter()
        .map(|g| MeRole {
            role: g.role,
            environment: g.scope.to_string(),
            source: g.source.clone(),
        })
        .collect();
    roles.sort_by(|a, b| {
        (a.role, &a.environment, &a.source).cmp(&(b.role, &b.environment, &b.source))
    });
    roles
}

/// A person as their identity provider vouched for them in a verified ID
/// token (and UserInfo): who (issuer + subject, stable), what to call them,
/// and their groups, which the role mapping turns into grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// A seeded demo account offered on the sign-in page in dev mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub description: String,
}

impl DevUser {
    /// The demo accounts `--dev` seeds, one per everyday role plus an
    /// auditor, each granted in every environment.
    pub fn seeds() -> Vec<DevUser> {
        [
            (
                "admin",
                "Ada Admin",
                Role::Admin,
                "Manages workflows, tokens, users and alerts",
            ),
            (
                "approver",
                "Avery Approver",
                Role::Approver,
                "Approves other people's requests",
            ),
            (
                "operator",
                "Oscar Operator",
                Role::Operator,
                "Triggers and cancels runs",
            ),
            (
                "viewer",
                "Vera Viewer",
                Role::Viewer,
                "Reads workflows, runs and logs",
            ),
            (
                "auditor",
                "Aubrey Auditor",
                Role::Auditor,
                "Reads the audit log, nothing else",
            ),
        ]
        .into_iter()
        .map(|(username, name, role, description)| DevUser {
            username: username.into(),
            display_name: name.into(),
            role,
            description: description.into(),
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: &[(Role, &str)]) -> Principal {
        Principal {
            id: UserId("u1".into()),
            kind: PrincipalKind::User,
            username: "sam".into(),
            display_name: "Sam".into(),
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

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_grant_applies_only_in_its_scope() {
        let p = principal(&[(Role::Operator, "dev"), (Role::Approver, "*")]);
        let dev = Environment::parse("dev").unwrap();
        let prod = Environment::parse("prod").unwrap();
        assert!(p.holds(Role::Operator, &dev));
        assert!(!p.holds(Role::Operator, &prod));
        assert!(p.holds(Role::Approver, &prod));
        assert!(p.holds_anywhere(Role::Operator));
        assert!(!p.holds_anywhere(Role::Admin));
        assert_eq!(p.roles_summary(), "approver@*, operator@dev");
    }

    #[test]
    fn dev_seeds_cover_the_four_everyday_roles_and_the_auditor_once_each() {
        let seeds = DevUser::seeds();
        let roles: Vec<_> = seeds.iter().map(|u| u.role).collect();
        assert_eq!(
            roles,
            [
                Role::Admin,
                Role::Approver,
                Role::Operator,
                Role::Viewer,
                Role::Auditor
            ]
        );
    }
}
