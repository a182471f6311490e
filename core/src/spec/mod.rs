//! Workflow specs: the document a user writes (YAML or JSON) describing a
//! workflow's steps, their dependencies, inputs and schedule.
//!
//! The types are always compiled so the browser can show a spec; parsing and
//! validation (`parse`, `validate`) need the `ssr` feature because they pull
//! in the YAML parser and the cron/time-zone tables. Template rendering and
//! input resolution stay pure and always compiled.
//!
//! A spec has one canonical form ([`WorkflowSpec::canonical_json`]): the same
//! spec written with other comments, key order, whitespace, or as JSON instead
//! of YAML hashes the same ([`WorkflowSpec::content_hash`]), so re-applying an
//! unchanged file is recognisably a no-op.

mod duration;
pub mod inputs;
mod limits;
pub mod names;
mod problem;
mod retry;
pub mod secrets;
pub mod template;

#[cfg(feature = "ssr")]
mod locate;
#[cfg(feature = "ssr")]
mod parse;
#[cfg(feature = "ssr")]
mod validate;
#[cfg(feature = "ssr")]
mod validate_alerts;
#[cfg(feature = "ssr")]
mod validate_secrets;
#[cfg(feature = "ssr")]
mod validate_steps;
#[cfg(feature = "ssr")]
mod validate_text;

pub use duration::{MAX_DURATION, SpecDuration};
pub use inputs::resolve_inputs;
pub use limits::{MAX_MEMORY, MIN_MEMORY, SpecBytes, StepLimits};
pub use problem::{SpecProblem, SpecRejection};
pub use secrets::{
    MAX_SECRETS_PER_STEP, Placeholder, SecretMount, SecretRef, StepSecret, referenced_providers,
};
pub use template::{
    Expr, ShellScript, TemplateContext, TemplateError, expressions, render, render_shell,
    render_with_secrets,
};

#[cfg(feature = "ssr")]
pub use parse::{name_hint, parse};
#[cfg(feature = "ssr")]
pub use validate::validate;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Largest accepted spec source. Specs are configuration, not data; the cap
/// bounds parser memory and time before any YAML is read.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// Most steps one workflow may have. Keeps the DAG drawable and validation cheap.
pub const MAX_STEPS: usize = 500;

/// A whole workflow, as written by its author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// Lowercase letters, digits and dashes; at most 64 characters.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `key: value` pairs that alert rules select workflows by
    /// (`labels: {team: data}`). Left out of the canonical form when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Cron: five fields, or one of `@hourly`, `@daily`, `@weekly`,
    /// `@monthly`, `@yearly`. Evaluated in UTC unless `timezone` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// IANA time zone name; only meaningful together with `schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Parameters of a run. Declared order is kept: it is the UI form order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<String, InputSpec>,
    /// Most runs of this workflow at once per environment; absent = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Limit for the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<SpecDuration>,
    /// Four eyes: where a manual or API run waits for a second person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalSpec>,
    /// Service level objectives per environment (see [`crate::slo`]).
    /// Left out of the canonical form when empty, so specs written before
    /// SLOs existed keep their content hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    // Spelled out rather than `slo::SloSection`: utoipa would take the
    // alias for a schema of its own (named `BTreeMap`).
    pub slo: BTreeMap<String, crate::slo::SloSpec>,
    /// The workflow's own alert rules (see [`crate::alert`]), versioned and
    /// promoted with it; each is about this workflow, so none names one.
    /// Left out of the canonical form when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::alert::RuleSpec>,
    pub steps: Vec<StepSpec>,
}

/// `approval: {required_in: [prod]}`: in these environments a run someone
/// asks for starts only once a different person holding `approver` (or
/// `admin`) there approves it. Scheduled runs don't wait: nobody asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalSpec {
    pub required_in: Vec<String>,
}

impl WorkflowSpec {
    /// The spec's own alert rules, each scoped to this workflow.
    pub fn alert_rules(&self) -> Vec<crate::alert::RuleSpec> {
        self.alerts
            .iter()
            .map(|rule| crate::alert::RuleSpec {
                workflow: Some(self.name.clone()),
                ..rule.clone()
            })
            .collect()
    }

    /// Whether runs asked for in `environment` need a second person.
    pub fn needs_approval_in(&self, environment: &str) -> bool {
        self.approval
            .as_ref()
            .is_some_and(|a| a.required_in.iter().any(|e| e == environment))
    }
}

/// One declared input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    #[serde(rename = "type")]
    pub kind: InputType,
    /// Used when a run does not give the input; without it the input is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values; only for `choice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    String,
    Integer,
    Number,
    Boolean,
    Choice,
}

impl InputType {
    /// The word used in the spec and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
            InputType::Choice => "choice",
        }
    }
}

/// One step. Exactly one of `run` and `http` is set (validation ensures it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Starts with a lowercase letter; then lowercase letters, digits, `_`, `-`.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Steps that must succeed before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// A shell step, run as `/bin/sh -c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// An HTTP request step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<SpecDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetryPolicy>,
    /// Extra environment variables; names starting with `GANTRY_` are reserved.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secrets the step needs, by the name it sees them as (see
    /// [`secrets`]); references only, never values.
    /// Each value is `"provider:path#key"` or `{ref: "provider:path#key", as: env|file}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Object>))]
    pub secrets: BTreeMap<String, StepSecret>,
    /// Output keys the step writes to `$GANTRY_OUTPUT`; later steps read them
    /// as `${{ steps.ID.outputs.KEY }}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// Resource limits for a shell step's processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<StepLimits>,
}

/// An HTTP request made by the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// GET, POST, PUT, PATCH, DELETE or HEAD; `parse` upper-cases it.
    pub method: String,
    /// `http://` or `https://`; templates allowed.
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Statuses counting as success; empty means any 2xx.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<u16>,
}

/// How often and how patiently a failed step is tried again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts including the first, 1..=20.
    pub max_attempts: u32,
    #[serde(default)]
    pub backoff: Backoff,
    /// Delay before the second attempt; default 1s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<SpecDuration>,
    /// Cap on any delay; default 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<SpecDuration>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// The same delay before every retry.
    #[default]
    Fixed,
    /// The delay doubles before each retry.
    Exponential,
}

/// What a step does, borrowed from the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind<'a> {
    /// The script for `/bin/sh -c` (templates not yet rendered).
    Shell(&'a str),
    Http(&'a HttpStep),
}

impl StepSpec {
    /// What this step does. A validated spec has exactly one of `run`/`http`;
    /// on an unvalidated one `http` wins and a missing both reads as an empty
    /// script, so this never panics.
    pub fn kind(&self) -> StepKind<'_> {
        match (&self.http, &self.run) {
            (Some(http), _) => StepKind::Http(http),
            (None, Some(run)) => StepKind::Shell(run),
            (None, None) => StepKind::Shell(""),
        }
    }
}

impl WorkflowSpec {
    /// The canonical encoding: compact JSON, struct fields in declaration
    /// order, maps sorted (inputs keep their declared order because it is
    /// meaningful), empty and absent fields left out.
    pub fn canonical_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and
        // no custom Serialize impl returns an error.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Lowercase hex SHA-256 of [`Self::canonical_json`]: identifies a spec
    /// version regardless of formatting.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&StepSpec> {
        self.steps.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str) -> StepSpec {
        StepSpec {
            id: id.into(),
            name: None,
            needs: vec![],
            run: Some("true".into()),
            http: None,
            timeout: None,
            retries: None,
            env: BTreeMap::new(),
            secrets: BTreeMap::new(),
            outputs: vec![],
            limits: None,
        }
    }

    fn spec() -> WorkflowSpec {
        WorkflowSpec {
            name: "w".into(),
            description: None,
            schedule: None,
            timezone: None,
            inputs: IndexMap::new(),
            concurrency: None,
            timeout: None,
            approval: None,
            slo: BTreeMap::new(),
            labels: BTreeMap::new(),
            alerts: vec![],
            steps: vec![step("a"), step("b")],
        }
    }

    #[test]
    fn canonical_json_leaves_out_empty_and_absent_fields() {
        assert_eq!(
            spec().canonical_json(),
            r#"{"name":"w","steps":[{"id":"a","run":"true"},{"id":"b","run":"true"}]}"#
        );
    }

    #[test]
    fn content_hash_is_lowercase_hex_sha256() {
        let h = spec().content_hash();
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        let mut other = spec();
        other.steps[1].run = Some("false".into());
        assert_ne!(other.content_hash(), h);
    }

    #[test]
    fn canonical_json_round_trips() {
        let s = spec();
        let back: WorkflowSpec = serde_json::from_str(&s.canonical_json()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn step_finds_by_id() {
        let s = spec();
        assert_eq!(s.step("b").map(|s| s.id.as_str()), Some("b"));
        assert!(s.step("zz").is_none());
    }

    #[test]
    fn kind_reports_shell_or_http_and_never_panics() {
        let mut s = step("a");
        assert_eq!(s.kind(), StepKind::Shell("true"));
        s.run = None;
        assert_eq!(s.kind(), StepKind::Shell(""));
        let http = HttpStep {
            method: "GET".into(),
            url: "http://x".into(),
            headers: BTreeMap::new(),
            body: None,
            expect_status: vec![],
        };
        s.http = Some(http.clone());
        assert_eq!(s.kind(), StepKind::Http(&http));
    }
}
