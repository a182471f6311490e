//! People as an access review sees them: where each account comes from,
//! whether it may sign in, and every role it holds with what granted it.

use crate::identity::MeRole;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an account comes from, which says who keeps it up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserSource {
    /// A demo account `--dev` seeds.
    Dev,
    /// Made at its first single sign-on; refreshed at each one.
    Oidc,
    /// Provisioned by the identity provider over SCIM.
    Scim,
}

impl UserSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Dev => "dev",
            UserSource::Oidc => "oidc",
            UserSource::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [UserSource::Dev, UserSource::Oidc, UserSource::Scim]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// How the Users page names it.
    pub fn label(self) -> &'static str {
        match self {
            UserSource::Dev => "Demo account",
            UserSource::Oidc => "Single sign-on",
            UserSource::Scim => "SCIM",
        }
    }
}

/// One account, for the Users page and `GET /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub source: UserSource,
    /// A disabled account can't sign in, and its sessions ended when it was
    /// disabled.
    pub disabled: bool,
    /// Every role held, per environment, with the group or seed that gave it.
    pub roles: Vec<MeRole>,
    pub created_at: DateTime<Utc>,
    /// The last interactive sign-in, if any.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The identity provider manages this account over SCIM: its profile,
    /// whether it is active and its groups come from there.
    #[serde(default)]
    pub scim_managed: bool,
    /// Its provisioned groups (SCIM), by display name.
    #[serde(default)]
    pub groups: Vec<String>,
    /// When SCIM last changed it.
    #[serde(default)]
    pub provisioned_at: Option<DateTime<Utc>>,
}

/// What the Users page and `GET /api/v1/users` narrow the list to; every
/// part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Part of a name, username or e-mail address, case aside.
    pub q: Option<String>,
    pub source: Option<UserSource>,
    /// Only disabled (`true`) or only active (`false`) accounts.
    pub disabled: Option<bool>,
}

impl UserQuery {
    pub fn matches(&self, user: &UserSummary) -> bool {
        let text = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        let text_matches = text.is_none_or(|q| {
            [
                Some(user.display_name.as_str()),
                Some(user.username.as_str()),
                user.email.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&q))
        });
        text_matches
            && self.source.is_none_or(|s| s == user.source)
            && self.disabled.is_none_or(|d| d == user.disabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, username: &str, email: Option<&str>) -> UserSummary {
        UserSummary {
            id: "1".into(),
            username: username.into(),
            display_name: name.into(),
            email: email.map(str::to_owned),
            source: UserSource::Oidc,
            disabled: false,
            roles: vec![],
            created_at: chrono::DateTime::UNIX_EPOCH,
            last_sign_in_at: None,
            scim_managed: false,
            groups: vec![],
            provisioned_at: None,
        }
    }

    #[test]
    fn a_query_matches_names_addresses_source_and_state() {
        let alice = user("Alice Anders", "alice", Some("alice@Example.com"));
        let q = |q: &str| UserQuery {
            q: Some(q.into()),
            ..UserQuery::default()
        };
        assert!(UserQuery::default().matches(&alice));
        assert!(q("ANDERS").matches(&alice));
        assert!(q(" example.COM ").matches(&alice));
        assert!(q("").matches(&alice));
        assert!(!q("bob").matches(&alice));
        let scim_only = UserQuery {
            source: Some(UserSource::Scim),
            ..UserQuery::default()
        };
        assert!(!scim_only.matches(&alice));
        let disabled = UserQuery {
            disabled: Some(true),
            ..UserQuery::default()
        };
        assert!(!disabled.matches(&alice));
    }

    #[test]
    fn sources_round_trip_and_reject_the_unknown() {
        for s in [UserSource::Dev, UserSource::Oidc, UserSource::Scim] {
            assert_eq!(UserSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(UserSource::parse("ldap"), None);
    }
}
