//! A semantic diff of two workflow specs: the candidate for promotion
//! against the version active in the target environment (if any). It is
//! what approvers review, so an approval is bound to its
//! [`SpecDiff::digest`]; it is served at `GET /api/v1/workflows/{name}/diff`.
//!
//! Field-level: each changed field is named (`run`, `http.url`,
//! `env.DB_HOST`, `retries`, …) with its value before and after, rendered as
//! text. Sets (`needs`, `outputs`, expected statuses) compare regardless of
//! order. Ordering is deterministic: workflow fields in declaration order,
//! inputs and steps in the candidate's order followed by the removed ones in
//! the active spec's order, fields in the order of [`StepSpec`]'s
//! declaration.

use super::hosts::{HttpHost, http_hosts};
use crate::spec::{InputSpec, SecretMount, StepSpec, WorkflowSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One field that differs; `None` is "not set".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A step added, removed or changed. Added steps list every field they
/// set, removed ones every field they had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepDiff {
    pub id: String,
    pub change: Change,
    pub fields: Vec<FieldChange>,
}

/// An input added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputDiff {
    pub name: String,
    pub change: Change,
    pub fields: Vec<FieldChange>,
}

/// What promoting the candidate would change in the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecDiff {
    /// Nothing is active in the target: everything is new.
    pub first_deployment: bool,
    /// Workflow-level fields: description, schedule, timezone,
    /// concurrency, timeout, approval, SLOs per environment, labels, alert
    /// rules by name, and the order of inputs and steps.
    pub workflow: Vec<FieldChange>,
    pub inputs: Vec<InputDiff>,
    pub steps: Vec<StepDiff>,
    /// Hosts the candidate's HTTP steps call that the active version's
    /// don't.
    pub new_http_hosts: Vec<HttpHost>,
    /// Secret references the candidate has that the active version hasn't.
    pub new_secret_references: Vec<String>,
}

impl SpecDiff {
    /// No difference at all (the same spec).
    pub fn is_empty(&self) -> bool {
        self.workflow.is_empty()
            && self.inputs.is_empty()
            && self.steps.is_empty()
            && self.new_http_hosts.is_empty()
            && self.new_secret_references.is_empty()
    }

    /// The new hosts as checklist facts and acknowledgements name them.
    pub fn new_host_labels(&self) -> Vec<String> {
        self.new_http_hosts.iter().map(HttpHost::label).collect()
    }

    /// Lowercase hex SHA-256 of the diff's JSON: what an approval is bound
    /// to, so a changed comparison (the target's active version moved)
    /// asks for fresh approvals.
    pub fn digest(&self) -> String {
        // Serializing these plain types cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(json.as_bytes()))
    }
}

/// The secret references a spec makes, one per step and name, as
/// `steps.ID.secrets.NAME: provider:path#key` (placeholders unfilled, `as
/// file` marked). Keyed by step and name as well as the reference: giving an
/// existing reference to another step is new access, and the diff and the
/// `no_new_secret_references` checklist item must see it.
pub fn secret_references(spec: &WorkflowSpec) -> BTreeSet<String> {
    spec.steps
        .iter()
        .flat_map(|step| {
            step.secrets.iter().map(move |(name, secret)| {
                let file = match secret.mount {
                    SecretMount::File => " (as file)",
                    SecretMount::Env => "",
                };
                format!(
                    "steps.{}.secrets.{name}: {}{file}",
                    step.id, secret.reference
                )
            })
        })
        .collect()
}

/// Compares `candidate` with `active`, the version active in the target
/// (`None` when nothing is).
pub fn diff(active: Option<&WorkflowSpec>, candidate: &WorkflowSpec) -> SpecDiff {
    let before_hosts = active.map(http_hosts).unwrap_or_default();
    let before_refs = active.map(secret_references).unwrap_or_default();
    let mut workflow = compare(
        &active.map(workflow_fields).unwrap_or_default(),
        &workflow_fields(candidate),
    );
    if let Some(active) = active {
        let inputs = |s: &'_ WorkflowSpec| -> Vec<String> { s.inputs.keys().cloned().collect() };
        let steps =
            |s: &'_ WorkflowSpec| -> Vec<String> { s.steps.iter().map(|x| x.id.clone()).collect() };
        for (field, before, after) in [
            ("inputs (order)", inputs(active), inputs(candidate)),
            ("steps (order)", steps(active), steps(candidate)),
        ] {
            let before: Vec<&str> = before.iter().map(String::as_str).collect();
            let after: Vec<&str> = after.iter().map(String::as_str).collect();
            workflow.extend(order_change(field, &before, &after));
        }
    }
    SpecDiff {
        first_deployment: active.is_none(),
        workflow,
        inputs: keyed_diffs(
            active.map(|a| a.inputs.iter().map(|(k, v)| (k.as_str(), v)).collect()),
            candidate
                .inputs
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            input_fields,
        )
        .into_iter()
        .map(|(name, change, fields)| InputDiff {
            name,
            change,
            fields,
        })
        .collect(),
        steps: keyed_diffs(
            active.map(|a| a.steps.iter().map(|s| (s.id.as_str(), s)).collect()),
            candidate.steps.iter().map(|s| (s.id.as_str(), s)).collect(),
            step_fields,
        )
        .into_iter()
        .map(|(id, change, fields)| StepDiff { id, change, fields })
        .collect(),
        new_http_hosts: http_hosts(candidate)
            .difference(&before_hosts)
            .cloned()
            .collect(),
        new_secret_references: secret_references(candidate)
            .difference(&before_refs)
            .cloned()
            .collect(),
    }
}

/// Fields keyed by (rank, name) so they sort in declaration order.
type Fields = BTreeMap<(u8, String), String>;

fn compare(before: &Fields, after: &Fields) -> Vec<FieldChange> {
    let keys: BTreeSet<&(u8, String)> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (b, a) = (before.get(key), after.get(key));
            (b != a).then(|| FieldChange {
                field: key.1.clone(),
                before: b.cloned(),
                after: a.cloned(),
            })
        })
        .collect()
}

/// Diffs of named things (inputs, steps): the candidate's in its order,
/// then the removed ones in the active spec's order.
fn keyed_diffs<T>(
    before: Option<Vec<(&str, &T)>>,
    after: Vec<(&str, &T)>,
    fields: fn(&T) -> Fields,
) -> Vec<(String, Change, Vec<FieldChange>)> {
    let before = before.unwrap_or_default();
    let find = |list: &[(&str, &T)], key: &str| {
        list.iter().find(|(k, _)| *k == key).map(|(_, v)| fields(v))
    };
    let mut out = Vec::new();
    for (key, item) in &after {
        match find(&before, key) {
            None => out.push((
                key.to_string(),
                Change::Added,
                compare(&Fields::new(), &fields(item)),
            )),
            Some(old) => {
                let changes = compare(&old, &fields(item));
                if !changes.is_empty() {
                    out.push((key.to_string(), Change::Changed, changes));
                }
            }
        }
    }
    for (key, item) in &before {
        if find(&after, key).is_none() {
            out.push((
                key.to_string(),
                Change::Removed,
                compare(&fields(item), &Fields::new()),
            ));
        }
    }
    out
}

fn put(fields: &mut Fields, rank: u8, name: impl Into<String>, value: Option<String>) {
    if let Some(v) = value {
        fields.insert((rank, name.into()), v);
    }
}

/// A set as text: sorted, comma-separated; empty as not set.
fn set_text<T: ToString>(items: &[T]) -> Option<String> {
    let mut texts: Vec<String> = items.iter().map(ToString::to_string).collect();
    texts.sort();
    texts.dedup();
    (!texts.is_empty()).then(|| texts.join(", "))
}

/// A list whose order matters, as text; empty as not set.
fn list_text(items: &[&str]) -> Option<String> {
    (!items.is_empty()).then(|| items.join(", "))
}

fn workflow_fields(spec: &WorkflowSpec) -> Fields {
    let mut f = Fields::new();
    put(&mut f, 0, "description", spec.description.clone());
    put(&mut f, 1, "schedule", spec.schedule.clone());
    put(&mut f, 2, "timezone", spec.timezone.clone());
    put(
        &mut f,
        3,
        "concurrency",
        spec.concurrency.map(|c| c.to_string()),
    );
    put(&mut f, 4, "timeout", spec.timeout.map(|t| t.to_string()));
    put(
        &mut f,
        5,
        "approval.required_in",
        spec.approval
            .as_ref()
            .and_then(|a| set_text(&a.required_in)),
    );
    // Objectives move with the version: a reviewer sees them change.
    for (env, slo) in &spec.slo {
        put(&mut f, 6, format!("slo.{env}"), Some(slo.to_string()));
    }
    // Labels decide which rules on the Alerts page watch the workflow.
    let labels: Vec<String> = spec
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    put(
        &mut f,
        7,
        "labels",
        (!labels.is_empty()).then(|| labels.join(", ")),
    );
    // The workflow's own alert rules, by name: who gets told what changes.
    for rule in &spec.alerts {
        put(
            &mut f,
            8,
            format!("alerts.{}", rule.name),
            Some(rule.to_string()),
        );
    }
    f
}

/// The order of the names both lists share, when it differs: the form
/// shows inputs in declared order, and a reordering changes the content
/// hash, so the reviewer should see why. Additions and removals are
/// reported on their own.
fn order_change(field: &str, before: &[&str], after: &[&str]) -> Option<FieldChange> {
    let old: Vec<&str> = before
        .iter()
        .copied()
        .filter(|k| after.contains(k))
        .collect();
    let new: Vec<&str> = after
        .iter()
        .copied()
        .filter(|k| before.contains(k))
        .collect();
    (old != new).then(|| FieldChange {
        field: field.to_owned(),
        before: list_text(&old),
        after: list_text(&new),
    })
}

fn input_fields(input: &InputSpec) -> Fields {
    let mut f = Fields::new();
    put(&mut f, 0, "type", Some(input.kind.as_str().to_owned()));
    put(
        &mut f,
        1,
        "default",
        input.default.as_ref().map(|v| v.to_string()),
    );
    put(&mut f, 2, "description", input.description.clone());
    put(
        &mut f,
        3,
        "options",
        input
            .options
            .as_deref()
            .and_then(|o| list_text(&o.iter().map(String::as_str).collect::<Vec<_>>())),
    );
    f
}

fn step_fields(step: &StepSpec) -> Fields {
    let mut f = Fields::new();
    put(&mut f, 0, "name", step.name.clone());
    put(&mut f, 1, "needs", set_text(&step.needs));
    put(&mut f, 2, "run", step.run.clone());
    if let Some(http) = &step.http {
        put(
            &mut f,
            3,
            "http.method",
            Some(http.method.to_ascii_uppercase()),
        );
        put(&mut f, 4, "http.url", Some(http.url.clone()));
        for (name, value) in &http.headers {
            put(
                &mut f,
                5,
                format!("http.headers.{name}"),
                Some(value.clone()),
            );
        }
        put(&mut f, 6, "http.body", http.body.clone());
        put(
            &mut f,
            7,
            "http.expect_status",
            set_text(&http.expect_status),
        );
    }
    put(&mut f, 8, "timeout", step.timeout.map(|t| t.to_string()));
    put(
        &mut f,
        9,
        "retries",
        step.retries.as_ref().map(|r| {
            let mut text = format!(
                "{} attempts, {} backoff",
                r.max_attempts,
                match r.backoff {
                    crate::spec::Backoff::Fixed => "fixed",
                    crate::spec::Backoff::Exponential => "exponential",
                }
            );
            if let Some(initial) = r.initial {
                text.push_str(&format!(", first delay {initial}"));
            }
            if let Some(max) = r.max {
                text.push_str(&format!(", at most {max}"));
            }
            text
        }),
    );
    for (name, value) in &step.env {
        put(&mut f, 10, format!("env.{name}"), Some(value.clone()));
    }
    for (name, secret) in &step.secrets {
        let value = match secret.mount {
            SecretMount::Env => secret.reference.clone(),
            SecretMount::File => format!("{} (as file)", secret.reference),
        };
        put(&mut f, 10, format!("secrets.{name}"), Some(value));
    }
    put(&mut f, 11, "outputs", set_text(&step.outputs));
    if let Some(limits) = &step.limits {
        put(
            &mut f,
            12,
            "limits.memory",
            limits.memory.map(|m| m.to_string()),
        );
        put(&mut f, 13, "limits.cpu", limits.cpu.map(|c| c.to_string()));
    }
    f
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
