//! Deployment environments (`dev`, `stage`, `prod`, …): an ordered list that
//! promotion walks from first to last.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest environment name `Environment::parse` accepts.
pub const MAX_ENVIRONMENT_NAME_LEN: usize = 32;
/// `Environment::parse`'s rule as a regular expression, for the OpenAPI
/// document (a unit test keeps the two in step).
pub const ENVIRONMENT_NAME_PATTERN: &str = "^[a-z][a-z0-9-]{0,31}$";

/// One environment name: 1–32 characters of `[a-z0-9-]`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Environment(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    #[error(
        "environment name {0:?} is invalid: use 1-32 characters of a-z, 0-9 and '-', starting with a letter"
    )]
    InvalidName(String),
    #[error("environment {0:?} is listed twice")]
    Duplicate(String),
    #[error("at least one environment is required")]
    Empty,
}

impl Environment {
    pub fn parse(name: &str) -> Result<Self, EnvironmentError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_ENVIRONMENT_NAME_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(EnvironmentError::InvalidName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An environment name in the OpenAPI document, referred to by every path
/// parameter, query filter and body field naming one. The server narrows it
/// to its configured environments when it serves the document
/// (`api::openapi::document_for`).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Environment {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(ENVIRONMENT_NAME_PATTERN))
            .min_length(Some(1))
            .max_length(Some(MAX_ENVIRONMENT_NAME_LEN))
            .description(Some(
                "An environment of this server (`--environments`): 1-32 characters of a-z, \
                 0-9 and '-', starting with a letter.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Environment {}

impl TryFrom<String> for Environment {
    type Error = EnvironmentError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Environment> for String {
    fn from(value: Environment) -> Self {
        value.0
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The configured environments, in promotion order (first = least critical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environments(Vec<Environment>);

impl Environments {
    /// Parses a comma-separated list such as `dev,stage,prod`.
    pub fn parse_list(list: &str) -> Result<Self, EnvironmentError> {
        let mut envs: Vec<Environment> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let env = Environment::parse(name)?;
            if envs.contains(&env) {
                return Err(EnvironmentError::Duplicate(name.to_owned()));
            }
            envs.push(env);
        }
        if envs.is_empty() {
            return Err(EnvironmentError::Empty);
        }
        Ok(Self(envs))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Environment> {
        self.0.iter()
    }

    pub fn contains(&self, env: &Environment) -> bool {
        self.0.contains(env)
    }

    pub fn first(&self) -> &Environment {
        // Construction guarantees at least one element.
        &self.0[0]
    }

    /// The most critical environment (`prod` by default), where promotion ends.
    pub fn last(&self) -> &Environment {
        // Construction guarantees at least one element.
        &self.0[self.0.len() - 1]
    }
}

/// Order questions promotion asks: where an environment stands, what comes
/// after it and before it.
impl Environments {
    /// Where `env` stands in the promotion order (0 = first); `None` when it
    /// is not configured.
    pub fn position(&self, env: &Environment) -> Option<usize> {
        self.0.iter().position(|e| e == env)
    }

    /// The environment a promotion from `env` goes to; `None` for the last
    /// one, or one that is not configured.
    pub fn next_after(&self, env: &Environment) -> Option<&Environment> {
        self.position(env).and_then(|i| self.0.get(i + 1))
    }

    /// The environment a promotion into `env` comes from; `None` for the
    /// first one, or one that is not configured.
    pub fn previous_before(&self, env: &Environment) -> Option<&Environment> {
        self.position(env)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.0.get(i))
    }

    /// Whether `env` is the last (most critical) environment.
    pub fn is_last(&self, env: &Environment) -> bool {
        self.last() == env
    }

    /// The names in order, comma-separated, for messages: `dev, stage, prod`.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(Environment::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Default for Environments {
    fn default() -> Self {
        Self(
            ["dev", "stage", "prod"]
                .into_iter()
                .map(|n| Environment(n.to_owned()))
                .collect(),
        )
    }
}

/// Where a role grant applies: every environment, or one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvScope {
    All,
    Only(Environment),
}

impl EnvScope {
    /// `*` means every environment; anything else must be an environment name.
    pub fn parse(s: &str) -> Result<Self, EnvironmentError> {
        if s == "*" {
            Ok(Self::All)
        } else {
            Environment::parse(s).map(Self::Only)
        }
    }

    pub fn covers(&self, env: &Environment) -> bool {
        match self {
            Self::All => true,
            Self::Only(e) => e == env,
        }
    }
}

impl fmt::Display for EnvScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Only(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's pattern says what `parse` does.
    #[test]
    fn the_name_pattern_mirrors_parse() {
        assert_eq!(
            ENVIRONMENT_NAME_PATTERN,
            format!("^[a-z][a-z0-9-]{{0,{}}}$", MAX_ENVIRONMENT_NAME_LEN - 1)
        );
        let longest = format!("a{}", "-".repeat(MAX_ENVIRONMENT_NAME_LEN - 1));
        assert!(Environment::parse(&longest).is_ok());
        assert!(Environment::parse(&format!("{longest}a")).is_err());
        for bad in ["", "0", "-a", "A", "a_b", "é"] {
            assert!(Environment::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a0", "prod-eu-1"] {
            assert!(Environment::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn accepts_lowercase_names_with_digits_and_dashes() {
        for ok in ["dev", "prod-eu-1", "qa2"] {
            assert_eq!(
                Environment::parse(ok).map(|e| e.to_string()),
                Ok(ok.to_owned())
            );
        }
    }

    #[test]
    fn rejects_names_that_would_break_urls_or_config() {
        for bad in ["", "Prod", "1dev", "dev stage", "dev/x", &"a".repeat(33)] {
            assert!(
                Environment::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn list_keeps_promotion_order_and_rejects_duplicates() {
        let envs = Environments::parse_list("dev, stage ,prod").unwrap();
        let names: Vec<_> = envs.iter().map(Environment::as_str).collect();
        assert_eq!(names, ["dev", "stage", "prod"]);
        assert_eq!(envs.first().as_str(), "dev");
        assert_eq!(
            Environments::parse_list("dev,dev"),
            Err(EnvironmentError::Duplicate("dev".into()))
        );
        assert_eq!(
            Environments::parse_list(" , "),
            Err(EnvironmentError::Empty)
        );
    }

    #[test]
    fn order_helpers_walk_the_promotion_order() {
        let envs = Environments::parse_list("dev,stage,prod").unwrap();
        let env = |e: &str| Environment::parse(e).unwrap();
        // (environment, position, next, previous, last)
        type Row = (
            &'static str,
            Option<usize>,
            Option<&'static str>,
            Option<&'static str>,
            bool,
        );
        let rows: &[Row] = &[
            ("dev", Some(0), Some("stage"), None, false),
            ("stage", Some(1), Some("prod"), Some("dev"), false),
            ("prod", Some(2), None, Some("stage"), true),
            ("qa", None, None, None, false),
        ];
        for (name, position, next, previous, last) in rows {
            let e = env(name);
            assert_eq!(envs.position(&e), *position, "{name}");
            assert_eq!(
                envs.next_after(&e).map(Environment::as_str),
                *next,
                "{name}"
            );
            assert_eq!(
                envs.previous_before(&e).map(Environment::as_str),
                *previous,
                "{name}"
            );
            assert_eq!(envs.is_last(&e), *last, "{name}");
        }
        assert_eq!(envs.describe(), "dev, stage, prod");
        // One environment is first and last at once: nothing to promote to.
        let single = Environments::parse_list("prod").unwrap();
        assert!(single.is_last(&env("prod")));
        assert_eq!(single.next_after(&env("prod")), None);
        assert_eq!(single.previous_before(&env("prod")), None);
    }

    #[test]
    fn scope_star_covers_every_environment() {
        let prod = Environment::parse("prod").unwrap();
        assert!(EnvScope::parse("*").unwrap().covers(&prod));
        assert!(EnvScope::parse("prod").unwrap().covers(&prod));
        assert!(!EnvScope::parse("dev").unwrap().covers(&prod));
    }

    #[test]
    fn deserializing_validates_the_name() {
        assert!(serde_json::from_str::<Environment>("\"Bad Name\"").is_err());
        assert!(serde_json::from_str::<Environment>("\"stage\"").is_ok());
    }
}
