//! Secret references in a spec: a step names what it needs from a secret
//! provider, never the value. `secrets: { DB_PASSWORD: "vault:kv/data/{env}/db#password" }`
//! or the long form `DB_CERT: { ref: "file:/run/secrets/ca.pem", as: file }`.
//!
//! The reference grammar is `PROVIDER:PATH[#KEY]`:
//! - `PROVIDER`: a lowercase word, `[a-z][a-z0-9-]{0,31}` (`vault`,
//!   `vault-db`, `env`, `file`, …). Whether it is configured is the
//!   server's question ([`referenced_providers`]).
//! - `PATH`: 1..=512 characters, no whitespace, controls, `#`, or braces
//!   other than the placeholders `{env}` and `{workflow}`.
//! - `KEY`: 1..=128 of `[A-Za-z0-9_.-]`; required for `vault` (a KV entry
//!   holds several keys), refused for `vault-db` (a dynamic engine returns
//!   one credential), `env` and `file`.
//!
//! Checking is pure and never reads a value.

use super::WorkflowSpec;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// Most references one step may declare.
pub const MAX_SECRETS_PER_STEP: usize = 32;
/// Longest secret name.
pub const MAX_SECRET_NAME_CHARS: usize = 64;
/// Longest path of a reference.
pub const MAX_SECRET_PATH_CHARS: usize = 512;
/// Longest key of a reference.
pub const MAX_SECRET_KEY_CHARS: usize = 128;
const MAX_PROVIDER_CHARS: usize = 32;

/// Environment names a secret may not take: the shell and the loader read
/// them before the script runs, so a secret there would change how the step
/// runs rather than hand it a value. `GANTRY_*` is reserved as well.
pub const RESERVED_SECRET_NAMES: [&str; 16] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "PWD",
    "OLDPWD",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS4",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
];

/// How a secret reaches a shell step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecretMount {
    /// An environment variable named after the secret.
    #[default]
    Env,
    /// A file under the attempt's working directory (certificates, keys);
    /// its path is in the variable named after the secret.
    File,
}

/// One declared secret, as written. The reference stays text here so a bad
/// one is reported with its field path by validation; [`SecretRef::parse`]
/// reads it. Serializes to the short form whenever `as` is `env`, so both
/// spellings of the same declaration hash the same.
/// (The OpenAPI schema of this either-form value is given where
/// `StepSpec::secrets` is declared.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepSecret {
    pub reference: String,
    pub mount: SecretMount,
}

impl Serialize for StepSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.mount {
            SecretMount::Env => serializer.serialize_str(&self.reference),
            SecretMount::File => LongForm {
                reference: self.reference.clone(),
                mount: self.mount,
            }
            .serialize(serializer),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LongForm {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "as", default)]
    mount: SecretMount,
}

impl<'de> Deserialize<'de> for StepSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = StepSecret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reference \"provider:path#key\" or {ref: …, as: env|file}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StepSecret, E> {
        Ok(StepSecret {
            reference: v.to_owned(),
            mount: SecretMount::Env,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StepSecret, A::Error> {
        let long = LongForm::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(StepSecret {
            reference: long.reference,
            mount: long.mount,
        })
    }
}

/// A placeholder in a reference's path, filled in per run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    /// `{env}`: the run's environment.
    Env,
    /// `{workflow}`: the workflow's name.
    Workflow,
}

/// A parsed reference `provider:path[#key]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretRef {
    provider: String,
    path: String,
    key: Option<String>,
    placeholders: Vec<Placeholder>,
}

impl SecretRef {
    /// Reads a reference, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hint = "write provider:path#key, e.g. vault:kv/data/{env}/db#password";
        let Some((provider, rest)) = text.split_once(':') else {
            return Err(format!(
                "secret reference \"{text}\" has no provider; {hint}"
            ));
        };
        let provider_ok = (1..=MAX_PROVIDER_CHARS).contains(&provider.len())
            && provider
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
            && provider
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if !provider_ok {
            return Err(format!(
                "secret provider \"{provider}\" must be 1-{MAX_PROVIDER_CHARS} lowercase letters, digits and -, starting with a letter"
            ));
        }
        let (path, key) = match rest.split_once('#') {
            Some((path, key)) => (path, Some(key)),
            None => (rest, None),
        };
        let placeholders = check_path(path)?;
        if let Some(key) = key {
            let key_ok = (1..=MAX_SECRET_KEY_CHARS).contains(&key.len())
                && key
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
            if !key_ok {
                return Err(format!(
                    "secret key \"{key}\" must be 1-{MAX_SECRET_KEY_CHARS} letters, digits, _, . or -"
                ));
            }
        }
        check_provider_rules(provider, path, key)?;
        Ok(SecretRef {
            provider: provider.to_owned(),
            path: path.to_owned(),
            key: key.map(str::to_owned),
            placeholders,
        })
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The path as written, placeholders unfilled.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The distinct placeholders in the path, in order of first use.
    pub fn placeholders(&self) -> &[Placeholder] {
        &self.placeholders
    }

    /// The path with `{env}` and `{workflow}` filled in.
    pub fn resolve_path(&self, environment: &str, workflow: &str) -> String {
        self.path
            .replace("{env}", environment)
            .replace("{workflow}", workflow)
    }

    /// The whole reference for one run, as the fetch and its messages name it
    /// (`vault:kv/data/prod/db#password`).
    pub fn resolve(&self, environment: &str, workflow: &str) -> String {
        let path = self.resolve_path(environment, workflow);
        match &self.key {
            Some(key) => format!("{}:{path}#{key}", self.provider),
            None => format!("{}:{path}", self.provider),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.path)?;
        if let Some(key) = &self.key {
            write!(f, "#{key}")?;
        }
        Ok(())
    }
}

/// The path's shape; returns its placeholders.
fn check_path(path: &str) -> Result<Vec<Placeholder>, String> {
    if path.is_empty() {
        return Err("secret reference has an empty path after the provider".to_owned());
    }
    if path.chars().count() > MAX_SECRET_PATH_CHARS {
        return Err(format!(
            "secret path is longer than {MAX_SECRET_PATH_CHARS} characters"
        ));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "secret path \"{path}\" contains whitespace or control characters"
        ));
    }
    let mut placeholders = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open..];
        let (found, len) = if after.starts_with("{env}") {
            (Placeholder::Env, "{env}".len())
        } else if after.starts_with("{workflow}") {
            (Placeholder::Workflow, "{workflow}".len())
        } else {
            let near: String = after.chars().take(20).collect();
            return Err(format!(
                "unknown placeholder near \"{near}\" in secret path; only {{env}} and {{workflow}} are filled in"
            ));
        };
        if !placeholders.contains(&found) {
            placeholders.push(found);
        }
        rest = &after[len..];
    }
    Ok(placeholders)
}

/// What the known providers need; unknown providers pass here and are
/// refused by the server when not configured.
fn check_provider_rules(provider: &str, path: &str, key: Option<&str>) -> Result<(), String> {
    match (provider, key) {
        ("vault", None) => Err(format!(
            "a vault reference names a key of the KV entry: vault:{path}#KEY"
        )),
        ("vault-db" | "env" | "file", Some(key)) => Err(format!(
            "{provider} references have no #key; remove \"#{key}\""
        )),
        ("env", None) if !super::names::is_env_name(path) => Err(format!(
            "env:{path} must name an environment variable (letters, digits and _)"
        )),
        ("file", None) if !path.starts_with('/') => Err(format!(
            "file:{path} must be an absolute path, e.g. file:/run/secrets/db"
        )),
        _ => Ok(()),
    }
}

/// Why `name` can't be a secret's name, if it can't.
pub fn secret_name_problem(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let shape = (1..=MAX_SECRET_NAME_CHARS).contains(&b.len())
        && b.first()
            .is_some_and(|c| c.is_ascii_uppercase() || *c == b'_')
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    if !shape {
        Some(format!(
            "secret name \"{name}\" must be 1-{MAX_SECRET_NAME_CHARS} uppercase letters, digits and _, not starting with a digit"
        ))
    } else if name.starts_with(super::names::RESERVED_ENV_PREFIX) {
        Some(format!(
            "secret names starting with {} are reserved for Gantry; rename {name}",
            super::names::RESERVED_ENV_PREFIX
        ))
    } else if RESERVED_SECRET_NAMES.contains(&name) {
        Some(format!(
            "{name} is set by the shell or the system and can't be a secret's name; rename it"
        ))
    } else {
        None
    }
}

/// The providers a spec's references use (parseable references only), so
/// the server can refuse an apply naming one it has not configured.
pub fn referenced_providers(spec: &WorkflowSpec) -> BTreeSet<String> {
    spec.steps
        .iter()
        .flat_map(|s| s.secrets.values())
        .filter_map(|s| SecretRef::parse(&s.reference).ok())
        .map(|r| r.provider)
        .collect()
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
