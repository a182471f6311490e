//! A hook as an admin asks for it, and what is wrong with it, by field.

use crate::spec::SpecProblem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which headers carry the signature, the event and the delivery id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureMode {
    /// `X-Gantry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
    /// `X-Gantry-Event`, `X-Gantry-Delivery` (Stripe-style, with a timestamp).
    #[default]
    Gantry,
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`,
    /// `X-GitHub-Event`, `X-GitHub-Delivery` (GitHub, and GitLab or Gitea
    /// configured for it). No timestamp: the delivery id stops replays.
    Github,
}

impl SignatureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMode::Gantry => "gantry",
            SignatureMode::Github => "github",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "gantry" => Some(SignatureMode::Gantry),
            "github" => Some(SignatureMode::Github),
            _ => None,
        }
    }
}

/// Creating a hook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookAsk {
    /// Its address: `POST /hooks/{name}`; 1 to 64 of a-z, 0-9, `-` and
    /// `_`, starting with a letter or digit.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[a-z0-9][a-z0-9_-]{0,63}$",
            min_length = 1,
            max_length = 64
        )
    )]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::Environment))]
    pub environment: String,
    /// The workflow it starts.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = "\\S"))]
    pub workflow: String,
    #[serde(default)]
    pub mode: SignatureMode,
    /// Run input name → JSON pointer into the payload (RFC 6901), e.g.
    /// `ref` → `/ref`.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Event types that start a run; empty: every event.
    #[serde(default)]
    pub events: Vec<String>,
}

const MAX_NAME: usize = 64;
const MAX_POINTER: usize = 256;
const MAX_EVENTS: usize = 32;
const MAX_INPUTS: usize = 32;

/// Everything wrong with `ask`, by field path; empty when it is good. The
/// workflow and environment are checked against the server by the plane.
pub fn validate(ask: &WebhookAsk) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let name = ask.name.trim();
    let name_ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !name_ok {
        problems.push(SpecProblem::new(
            "name",
            format!(
                "1 to {MAX_NAME} characters of a-z, 0-9, - and _, starting with a letter or \
                 digit (it is the hook's URL: /hooks/<name>)"
            ),
        ));
    }
    if ask.workflow.trim().is_empty() {
        problems.push(SpecProblem::new("workflow", "name the workflow to start"));
    }
    if ask.environment.trim().is_empty() {
        problems.push(SpecProblem::new("environment", "name the environment"));
    }
    if ask.inputs.len() > MAX_INPUTS {
        problems.push(SpecProblem::new(
            "inputs",
            format!("at most {MAX_INPUTS} inputs"),
        ));
    }
    for (input, pointer) in &ask.inputs {
        let path = format!("inputs.{input}");
        if input.trim().is_empty() {
            problems.push(SpecProblem::new(path.clone(), "an input needs a name"));
        }
        if !pointer.is_empty() && !pointer.starts_with('/') {
            problems.push(SpecProblem::new(
                path,
                format!(
                    "{pointer:?} is not a JSON pointer: it starts with / (e.g. /ref or \
                     /pull_request/head/sha), or is empty for the whole payload"
                ),
            ));
        } else if pointer.len() > MAX_POINTER || has_bad_escape(pointer) {
            problems.push(SpecProblem::new(
                path,
                format!("{pointer:?} is not a JSON pointer: ~ must be followed by 0 or 1"),
            ));
        }
    }
    if ask.events.len() > MAX_EVENTS {
        problems.push(SpecProblem::new(
            "events",
            format!("at most {MAX_EVENTS} event types"),
        ));
    }
    for (i, event) in ask.events.iter().enumerate() {
        let ok = !event.is_empty()
            && event.len() <= MAX_NAME
            && event
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c));
        if !ok {
            problems.push(SpecProblem::new(
                format!("events[{i}]"),
                format!("{event:?}: an event type is 1 to {MAX_NAME} of a-z, 0-9, . _ - :"),
            ));
        }
    }
    problems
}

/// RFC 6901 §3: `~` is only ever `~0` or `~1`.
fn has_bad_escape(pointer: &str) -> bool {
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask() -> WebhookAsk {
        WebhookAsk {
            name: "github-push".into(),
            environment: "dev".into(),
            workflow: "deploy".into(),
            mode: SignatureMode::Github,
            inputs: [("git_ref".to_owned(), "/ref".to_owned())].into(),
            events: vec!["push".into()],
        }
    }

    fn paths(ask: &WebhookAsk) -> Vec<String> {
        validate(ask).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_good_hook_has_no_problems() {
        assert!(validate(&ask()).is_empty());
    }

    #[test]
    fn bad_pointers_are_named_by_their_input() {
        let mut a = ask();
        a.inputs.insert("sha".into(), "after".into());
        a.inputs.insert("odd".into(), "/a~2b".into());
        assert_eq!(paths(&a), ["inputs.odd", "inputs.sha"]);
    }

    #[test]
    fn names_and_events_are_checked() {
        let mut a = ask();
        a.name = "Has Spaces".into();
        a.events = vec!["push".into(), "bad event".into()];
        a.workflow = " ".into();
        assert_eq!(paths(&a), ["name", "workflow", "events[1]"]);
    }
}
