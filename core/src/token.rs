//! Service tokens: named, scoped credentials for CI systems and scripts.
//! What one looks like to the UI and API, and the pure rules for making one
//! (names, `role@environment` grants, lifetimes of at most a year), and
//! what a token may make when it is the maker ([`check_token_maker`]).

use crate::approval::Person;
use crate::environment::{EnvScope, Environments};
use crate::error::PortError;
use crate::identity::Role;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Tokens live at most this long.
pub const MAX_LIFETIME_DAYS: i64 = 365;
/// When the request doesn't say.
pub const DEFAULT_LIFETIME_DAYS: i64 = 90;

/// A service token as listed: never its secret, which exists only in the
/// answer to its creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceToken {
    pub id: String,
    pub name: String,
    /// What it is for: the REST API and CLI, or SCIM provisioning only.
    #[serde(default)]
    pub kind: TokenKind,
    /// `role@environment` (`*`: every environment), e.g. `operator@dev`.
    pub roles: Vec<String>,
    /// The secret's first characters, to tell tokens apart (`gantry_AbC1…`).
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The person answerable for it, whom it acts for in four-eyes: who
    /// made it, or for a token made by a token, that token's maker;
    /// `system` for the bootstrap token and tokens made with
    /// `gantry token create`. `None` for tokens made before Gantry
    /// recorded it (they can't approve).
    #[serde(default)]
    pub maker: Option<Person>,
    /// It may make tokens itself (never outliving it).
    #[serde(default)]
    pub can_create_tokens: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a token is for. A SCIM token holds no roles: it is accepted on
/// `/scim/v2` only, where it provisions users and groups; every other
/// token is refused there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    #[default]
    Service,
    Scim,
    /// A worker's credential for the execution API (`/exec/v1`): holds no
    /// roles, and can only lease, heartbeat, log and report step attempts.
    Worker,
    /// A Prometheus scraper's credential for `GET /metrics` on the main
    /// port: holds no roles, and reads metrics only.
    Metrics,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Service => "service",
            TokenKind::Scim => "scim",
            TokenKind::Worker => "worker",
            TokenKind::Metrics => "metrics",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            TokenKind::Service,
            TokenKind::Scim,
            TokenKind::Worker,
            TokenKind::Metrics,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl ServiceToken {
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

/// A request to create a token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// 1–64 of `a-z 0-9 - _ .`, unique.
    #[cfg_attr(feature = "openapi", schema(example = "ci-deploy"))]
    pub name: String,
    /// `role@environment`; a bare role means every environment. Empty for
    /// a SCIM token.
    #[cfg_attr(feature = "openapi", schema(example = json!(["operator@dev", "viewer@*"])))]
    #[serde(default)]
    pub roles: Vec<String>,
    /// How long until it expires, e.g. `30d` or `12h`: at most 365 days,
    /// 90 days when left out.
    #[cfg_attr(feature = "openapi", schema(example = "90d"))]
    pub expires_in: Option<String>,
    /// A SCIM provisioning token (no roles; accepted on `/scim/v2` only).
    /// Making one needs admin in every environment.
    #[serde(default)]
    pub scim: bool,
    /// A worker token for `gantry worker --server` (no roles; accepted on
    /// the execution API only). Making one needs admin in every environment.
    #[serde(default)]
    pub worker: bool,
    /// A metrics token for Prometheus (no roles; accepted on `GET /metrics`
    /// only). Making one needs admin in every environment.
    #[serde(default)]
    pub metrics: bool,
    /// The token may make tokens itself (none that outlive it). Only a
    /// person who manages tokens, or a token that holds this, grants it.
    #[serde(default)]
    pub can_create_tokens: bool,
}

/// The answer to a creation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: ServiceToken,
    /// Send as `Authorization: Bearer …`. Not stored: copy it now.
    pub secret: String,
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPlan {
    pub name: String,
    pub kind: TokenKind,
    pub grants: Vec<(Role, EnvScope)>,
    pub expires_at: DateTime<Utc>,
    pub can_create_tokens: bool,
}

/// Who is making a token, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenMaker {
    /// A signed-in person, or the system (the CLI): the usual lifetime
    /// rules.
    Person,
    /// A token: it needs `can_create_tokens`, and what it makes can't
    /// outlive it.
    Token {
        name: String,
        expires_at: Option<DateTime<Utc>>,
        can_create_tokens: bool,
    },
}

/// Refuses a token that its maker may not make: a token without
/// `can_create_tokens` makes none, and none that outlives it.
pub fn check_token_maker(
    maker: &TokenMaker,
    plan: &TokenPlan,
    now: DateTime<Utc>,
) -> Result<(), PortError> {
    let TokenMaker::Token {
        name,
        expires_at,
        can_create_tokens,
    } = maker
    else {
        return Ok(());
    };
    if !can_create_tokens {
        return Err(PortError::forbidden(format!(
            "token {name} may not make tokens: only tokens granted can_create_tokens may; \
             ask a person who manages tokens"
        )));
    }
    if let Some(limit) = expires_at
        && plan.expires_at > *limit
    {
        let left = (*limit - now).num_seconds().max(0);
        return Err(PortError::invalid(
            "expires_in",
            format!(
                "a token can't outlive the token that makes it: {name} expires at {}; \
                 ask for at most {}",
                limit.format("%Y-%m-%d %H:%M UTC"),
                describe_seconds(left)
            ),
        ));
    }
    Ok(())
}

/// `12d`, `5h`, `42m` or `30s`: the largest whole unit, rounded down, so
/// asking for it stays within the limit.
fn describe_seconds(s: i64) -> String {
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

pub fn valid_token_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// Parses `role@environment` (or a bare role, meaning every environment)
/// against the server's environments.
pub fn parse_grant(text: &str, environments: &Environments) -> Result<(Role, EnvScope), String> {
    let text = text.trim();
    let (role, scope) = text.split_once('@').unwrap_or((text, "*"));
    let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let role = Role::parse(role)
        .ok_or_else(|| format!("{role:?} is not a role; use one of {}", names.join(", ")))?;
    let scope = EnvScope::parse(scope).map_err(|e| format!("{text:?}: {e}"))?;
    if let EnvScope::Only(env) = &scope
        && !environments.contains(env)
    {
        let known: Vec<&str> = environments.iter().map(|e| e.as_str()).collect();
        return Err(format!(
            "{text:?}: unknown environment {env}; this server has {} (or * for all)",
            known.join(", ")
        ));
    }
    Ok((role, scope))
}

/// Checks a creation request; the first problem names its field.
pub fn plan_token(
    request: &NewToken,
    environments: &Environments,
    now: DateTime<Utc>,
) -> Result<TokenPlan, PortError> {
    if !valid_token_name(&request.name) {
        return Err(PortError::invalid(
            "name",
            "use 1 to 64 characters: lowercase letters, digits, - _ or .",
        ));
    }
    let kinds = [request.scim, request.worker, request.metrics];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(PortError::invalid(
            "kind",
            "a token is for one of SCIM provisioning, a worker or metrics: set at most one of scim, worker, metrics",
        ));
    }
    if request.worker && !request.roles.is_empty() {
        return Err(PortError::invalid(
            "roles",
            "a worker token holds no roles (it only runs the steps it leases); leave roles empty",
        ));
    }
    if request.scim && !request.roles.is_empty() {
        return Err(PortError::invalid(
            "roles",
            "a SCIM token holds no roles (it only provisions users and groups); leave roles empty",
        ));
    }
    if request.scim && request.can_create_tokens {
        return Err(PortError::invalid(
            "can_create_tokens",
            "a SCIM token only provisions users and groups; it can't make tokens",
        ));
    }
    if request.worker && request.can_create_tokens {
        return Err(PortError::invalid(
            "can_create_tokens",
            "a worker token only runs the steps it leases; it can't make tokens",
        ));
    }
    if request.metrics && !request.roles.is_empty() {
        return Err(PortError::invalid(
            "roles",
            "a metrics token holds no roles (it only reads GET /metrics); leave roles empty",
        ));
    }
    if request.metrics && request.can_create_tokens {
        return Err(PortError::invalid(
            "can_create_tokens",
            "a metrics token only reads GET /metrics; it can't make tokens",
        ));
    }
    if !request.scim && !request.worker && !request.metrics && request.roles.is_empty() {
        return Err(PortError::invalid(
            "roles",
            "give at least one role, e.g. operator@dev",
        ));
    }
    let mut grants = Vec::new();
    for text in &request.roles {
        let grant = parse_grant(text, environments).map_err(|m| PortError::invalid("roles", m))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    let lifetime = match request.expires_in.as_deref().map(str::trim) {
        None | Some("") => Duration::days(DEFAULT_LIFETIME_DAYS),
        Some(text) => {
            let std = humantime::parse_duration(text).map_err(|_| {
                PortError::invalid(
                    "expires_in",
                    format!("{text:?} is not a duration; use e.g. 30d or 12h"),
                )
            })?;
            Duration::from_std(std).unwrap_or(Duration::MAX)
        }
    };
    if lifetime <= Duration::zero() || lifetime > Duration::days(MAX_LIFETIME_DAYS) {
        return Err(PortError::invalid(
            "expires_in",
            format!("tokens live from 1 second to {MAX_LIFETIME_DAYS} days"),
        ));
    }
    Ok(TokenPlan {
        name: request.name.clone(),
        kind: if request.scim {
            TokenKind::Scim
        } else if request.worker {
            TokenKind::Worker
        } else if request.metrics {
            TokenKind::Metrics
        } else {
            TokenKind::Service
        },
        grants,
        expires_at: now + lifetime,
        can_create_tokens: request.can_create_tokens,
    })
}

/// `role@scope`, the way tokens show their grants.
pub fn grant_text(role: Role, scope: &EnvScope) -> String {
    format!("{role}@{scope}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Environments {
        Environments::parse_list("dev,stage,prod").unwrap()
    }

    fn request(name: &str, roles: &[&str], expires_in: Option<&str>) -> NewToken {
        NewToken {
            name: name.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            expires_in: expires_in.map(str::to_owned),
            scim: false,
            worker: false,
            metrics: false,
            can_create_tokens: false,
        }
    }

    #[test]
    fn a_good_request_becomes_a_plan() {
        let now = Utc::now();
        let plan = plan_token(
            &request(
                "ci-deploy",
                &["operator@dev", "viewer", "operator@dev"],
                None,
            ),
            &envs(),
            now,
        )
        .unwrap();
        assert_eq!(plan.grants.len(), 2, "duplicates collapse");
        assert_eq!(plan.grants[1], (Role::Viewer, EnvScope::All));
        assert_eq!(plan.expires_at, now + Duration::days(90));
        let plan = plan_token(&request("x", &["admin@*"], Some("12h")), &envs(), now).unwrap();
        assert_eq!(plan.expires_at, now + Duration::hours(12));
    }

    #[test]
    fn each_bad_field_is_named() {
        let now = Utc::now();
        let field = |r: NewToken| match plan_token(&r, &envs(), now) {
            Err(PortError::Invalid { field, message }) => (field, message),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(field(request("Bad Name", &["viewer"], None)).0, "name");
        assert_eq!(field(request("", &["viewer"], None)).0, "name");
        assert_eq!(field(request("ok", &[], None)).0, "roles");
        let (f, m) = field(request("ok", &["root@dev"], None));
        assert_eq!(f, "roles");
        assert!(m.contains("operator"), "{m}");
        let (_, m) = field(request("ok", &["viewer@qa"], None));
        assert!(m.contains("unknown environment qa"), "{m}");
        assert_eq!(
            field(request("ok", &["viewer"], Some("366d"))).0,
            "expires_in"
        );
        assert_eq!(
            field(request("ok", &["viewer"], Some("0s"))).0,
            "expires_in"
        );
        assert_eq!(
            field(request("ok", &["viewer"], Some("soon"))).0,
            "expires_in"
        );
    }

    #[test]
    fn a_scim_token_holds_no_roles() {
        let now = Utc::now();
        let scim = NewToken {
            scim: true,
            ..request("okta", &[], Some("30d"))
        };
        let plan = plan_token(&scim, &envs(), now).unwrap();
        assert_eq!(plan.kind, TokenKind::Scim);
        assert!(plan.grants.is_empty());
        let with_roles = NewToken {
            scim: true,
            ..request("okta", &["viewer"], None)
        };
        let err = plan_token(&with_roles, &envs(), now).unwrap_err();
        assert!(
            err.to_string().contains("SCIM token holds no roles"),
            "{err}"
        );
        let service = plan_token(&request("ci", &["viewer"], None), &envs(), now).unwrap();
        assert_eq!(service.kind, TokenKind::Service);
    }

    #[test]
    fn a_worker_token_holds_no_roles_and_is_not_also_a_scim_token() {
        let now = Utc::now();
        let worker = NewToken {
            worker: true,
            ..request("runners", &[], None)
        };
        let plan = plan_token(&worker, &envs(), now).unwrap();
        assert_eq!(plan.kind, TokenKind::Worker);
        assert!(plan.grants.is_empty());
        let with_roles = NewToken {
            worker: true,
            ..request("runners", &["operator@dev"], None)
        };
        assert!(
            plan_token(&with_roles, &envs(), now)
                .unwrap_err()
                .to_string()
                .contains("worker token holds no roles")
        );
        let both = NewToken {
            scim: true,
            ..worker
        };
        assert!(plan_token(&both, &envs(), now).is_err());
    }

    #[test]
    fn a_metrics_token_holds_no_roles_and_is_one_kind_only() {
        let now = Utc::now();
        let metrics = NewToken {
            metrics: true,
            ..request("prometheus", &[], Some("30d"))
        };
        let plan = plan_token(&metrics, &envs(), now).unwrap();
        assert_eq!(plan.kind, TokenKind::Metrics);
        assert!(plan.grants.is_empty());
        assert_eq!(TokenKind::parse("metrics"), Some(TokenKind::Metrics));
        let refused = |r: NewToken| match plan_token(&r, &envs(), now) {
            Err(PortError::Invalid { field, message }) => (field, message),
            other => panic!("expected a refusal, got {other:?}"),
        };
        let (field, message) = refused(NewToken {
            metrics: true,
            ..request("prometheus", &["viewer"], None)
        });
        assert_eq!(field, "roles");
        assert!(
            message.contains("metrics token holds no roles"),
            "{message}"
        );
        let (field, _) = refused(NewToken {
            can_create_tokens: true,
            ..metrics.clone()
        });
        assert_eq!(field, "can_create_tokens");
        let (field, message) = refused(NewToken {
            worker: true,
            ..metrics
        });
        assert_eq!(field, "kind");
        assert!(message.contains("at most one"), "{message}");
    }

    #[test]
    fn a_token_makes_tokens_only_when_granted_and_never_outliving_itself() {
        let now = Utc::now();
        let plan = |days: &str| {
            plan_token(&request("child", &["viewer"], Some(days)), &envs(), now).unwrap()
        };
        let maker = |can: bool, days: Option<i64>| TokenMaker::Token {
            name: "ci".into(),
            expires_at: days.map(|d| now + Duration::days(d)),
            can_create_tokens: can,
        };
        // People and the system keep the usual rules.
        assert!(check_token_maker(&TokenMaker::Person, &plan("365d"), now).is_ok());
        // A token without the permission makes nothing.
        let err = check_token_maker(&maker(false, Some(90)), &plan("1d"), now).unwrap_err();
        assert_eq!(err.http_status(), 403, "{err}");
        assert!(err.to_string().contains("can_create_tokens"), "{err}");
        // A 90-day token can't make a 365-day one; the limit is named.
        match check_token_maker(&maker(true, Some(90)), &plan("365d"), now) {
            Err(PortError::Invalid { field, message }) => {
                assert_eq!(field, "expires_in");
                assert!(message.contains("at most 90d"), "{message}");
                assert!(message.contains("can't outlive"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(check_token_maker(&maker(true, Some(90)), &plan("90d"), now).is_ok());
        // A token that never expires (the bootstrap token) has no limit.
        assert!(check_token_maker(&maker(true, None), &plan("365d"), now).is_ok());
    }

    #[test]
    fn a_scim_token_cannot_make_tokens() {
        let scim = NewToken {
            scim: true,
            can_create_tokens: true,
            ..request("okta", &[], None)
        };
        let err = plan_token(&scim, &envs(), Utc::now()).unwrap_err();
        assert!(err.to_string().contains("can't make tokens"), "{err}");
    }

    #[test]
    fn state_follows_revocation_then_expiry() {
        let now = Utc::now();
        let mut t = ServiceToken {
            id: "1".into(),
            name: "t".into(),
            kind: TokenKind::Service,
            roles: vec![],
            hint: "gantry_ab".into(),
            created_at: now,
            created_by: "me".into(),
            maker: None,
            can_create_tokens: false,
            expires_at: Some(now + Duration::days(1)),
            last_used_at: None,
            revoked_at: None,
        };
        assert_eq!(t.state(now), TokenState::Active);
        assert_eq!(t.state(now + Duration::days(2)), TokenState::Expired);
        t.revoked_at = Some(now);
        assert_eq!(t.state(now), TokenState::Revoked);
    }
}
