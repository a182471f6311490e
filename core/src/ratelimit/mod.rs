//! Rate limits: which class a request falls in, how much of it one
//! principal may send (a quota: so many requests per window, refilled
//! evenly: GCRA), and the overrides admins set per token or per group.
//! The server enforces them (`server/src/ratelimit/`); this is the pure
//! part, shared with the dashboard. See docs/security.md, "Rate limits".

mod class;
mod quota;
mod standing;

pub use class::{RouteClass, classify};
pub use quota::{QUOTA_PATTERN, Quota, QuotaError};
pub use standing::{Standing, admit};

use serde::{Deserialize, Serialize};

/// Who an override is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OverrideSubject {
    /// A service token, by id.
    Token,
    /// Everyone whose roles come from this identity-provider group (the
    /// `group:NAME` source of their grants).
    Group,
}

impl OverrideSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideSubject::Token => "token",
            OverrideSubject::Group => "group",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "token" => Some(OverrideSubject::Token),
            "group" => Some(OverrideSubject::Group),
            _ => None,
        }
    }
}

/// A quota an admin set for one token or group in one class, in place of
/// the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLimitOverride {
    pub id: String,
    pub subject_kind: OverrideSubject,
    /// The token's id or the group's name.
    pub subject: String,
    pub class: RouteClass,
    /// `None`: unlimited.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "600/1m"))]
    pub quota: Option<Quota>,
    pub note: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What an admin asks to set; the same subject and class replace the
/// earlier override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OverrideAsk {
    pub subject_kind: OverrideSubject,
    /// The token's id or the group's name, 1 to 256 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, pattern = "\\S")
    )]
    pub subject: String,
    pub class: RouteClass,
    /// `REQUESTS/WINDOW` (`600/1m`, `20/1s`), or `off` for no limit.
    #[cfg_attr(feature = "openapi", schema(example = "600/1m"))]
    pub quota: String,
    /// Why (shown beside the override).
    #[serde(default)]
    pub note: String,
}

/// One class's default quota, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassDefault {
    pub class: RouteClass,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "1200/10s"))]
    pub quota: Option<Quota>,
    /// What a request in this class gets when the limiter's store can't
    /// be reached: let through (`true`) or refused with 503.
    pub fail_open: bool,
}

/// The limits in force: defaults per class and the overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLimits {
    pub defaults: Vec<ClassDefault>,
    pub overrides: Vec<RateLimitOverride>,
    /// `memory` (this process's counters) or `database` (shared by every
    /// process on the database).
    pub store: String,
}

/// The quota that applies to a principal in `class`: a token override,
/// else the most generous override of its groups, else the default.
/// (`token` is the token's id when the principal is a token; `groups` the
/// groups its roles come from.)
pub fn quota_for(
    class: RouteClass,
    default: Option<Quota>,
    token: Option<&str>,
    groups: &[&str],
    overrides: &[RateLimitOverride],
) -> Option<Quota> {
    let in_class = || overrides.iter().filter(|o| o.class == class);
    if let Some(token) = token
        && let Some(o) =
            in_class().find(|o| o.subject_kind == OverrideSubject::Token && o.subject == token)
    {
        return o.quota;
    }
    let mut best: Option<Option<Quota>> = None;
    for o in in_class().filter(|o| {
        o.subject_kind == OverrideSubject::Group && groups.contains(&o.subject.as_str())
    }) {
        best = Some(match (best, o.quota) {
            (None, q) => q,
            // Unlimited beats any quota.
            (Some(None), _) | (Some(_), None) => None,
            (Some(Some(a)), Some(b)) => Some(Quota::more_generous(a, b)),
        });
    }
    best.unwrap_or(default)
}

#[cfg(test)]
mod tests;
