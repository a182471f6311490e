//! Step rules: ids, what a step does, `needs` and the graph they form,
//! retries, env, outputs, HTTP fields and the templates inside them.

use super::names::{RESERVED_ENV_PREFIX, is_env_name, is_step_id};
use super::template::{Expr, expressions, with_placeholders};
use super::validate::{Problems, check_duration};
use super::{HttpStep, MAX_STEPS, StepSpec, WorkflowSpec};
use crate::dag::{Dag, DagError};
use std::collections::{HashMap, HashSet};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const MAX_RETRY_ATTEMPTS: u32 = 20;

pub(super) fn check_steps(spec: &WorkflowSpec, problems: &mut Problems) {
    let count = spec.steps.len();
    if count == 0 {
        problems.add("steps", "a workflow needs at least one step");
    } else if count > MAX_STEPS {
        problems.add(
            "steps",
            format!("a workflow has at most {MAX_STEPS} steps; this one has {count}"),
        );
    }

    // The first step with each id; later duplicates are reported and ignored.
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, step) in spec.steps.iter().enumerate() {
        let path = format!("steps[{i}]");
        if !is_step_id(&step.id) {
            problems.add(
                format!("{path}.id"),
                format!(
                    "step id {} must start with a lowercase letter, followed by up to 62 lowercase letters, digits, _ or -",
                    crate::text::quoted(&step.id)
                ),
            );
        }
        if let Some(earlier) = first.get(step.id.as_str()) {
            problems.add(
                format!("{path}.id"),
                format!(
                    "duplicate step id \"{}\"; steps[{earlier}] already uses it",
                    step.id
                ),
            );
        } else {
            first.insert(&step.id, i);
        }
    }

    for (i, step) in spec.steps.iter().enumerate() {
        let path = format!("steps[{i}]");
        check_kind(step, &path, problems);
        check_needs(step, &path, &first, problems);
        check_duration(&format!("{path}.timeout"), step.timeout, problems);
        check_retries(step, &path, problems);
        check_env(step, &path, problems);
        super::validate_secrets::check_secrets(step, &path, problems);
        check_outputs(step, &path, problems);
        check_limits(step, &path, problems);
        if let Some(http) = &step.http {
            check_http(http, &format!("{path}.http"), problems);
        }
    }

    let dag = check_graph(spec, &first, problems);
    check_templates(spec, &first, dag.as_ref(), problems);
}

fn check_kind(step: &StepSpec, path: &str, problems: &mut Problems) {
    match (&step.run, &step.http) {
        (Some(_), Some(_)) => problems.add(
            path,
            "a step has either run or http, not both; split it into two steps",
        ),
        (None, None) => problems.add(
            path,
            "add run (a shell command) or http (a request) to say what the step does",
        ),
        (Some(run), None) if run.trim().is_empty() => problems.add(
            format!("{path}.run"),
            "run is empty; write the command to run",
        ),
        _ => {}
    }
}

fn check_needs(step: &StepSpec, path: &str, known: &HashMap<&str, usize>, problems: &mut Problems) {
    for (j, need) in step.needs.iter().enumerate() {
        let at = format!("{path}.needs[{j}]");
        if *need == step.id {
            problems.add(at, "a step can't need itself; remove it from needs");
        } else if !known.contains_key(need.as_str()) {
            problems.add(
                at,
                format!("unknown step \"{need}\" in needs; no step has that id"),
            );
        } else if step.needs[..j].contains(need) {
            problems.add(at, format!("\"{need}\" is listed twice in needs"));
        }
    }
}

/// Limits bound a shell step's processes; an HTTP step has none to bound.
fn check_limits(step: &StepSpec, path: &str, problems: &mut Problems) {
    let Some(limits) = &step.limits else {
        return;
    };
    let path = format!("{path}.limits");
    if step.http.is_some() {
        problems.add(
            &path,
            "limits apply to shell steps (run) only; remove them from this http step",
        );
    }
    if let Some(why) = limits.memory.and_then(|m| m.out_of_memory_bounds()) {
        problems.add(format!("{path}.memory"), format!("memory {why}"));
    }
    check_duration(&format!("{path}.cpu"), limits.cpu, problems);
    if let Some(cpu) = limits.cpu
        && !cpu.0.is_zero()
        && cpu.0 < std::time::Duration::from_secs(1)
    {
        problems.add(
            format!("{path}.cpu"),
            "cpu is counted in whole seconds; use at least 1s",
        );
    }
}

fn check_retries(step: &StepSpec, path: &str, problems: &mut Problems) {
    let Some(retries) = &step.retries else {
        return;
    };
    let path = format!("{path}.retries");
    if !(1..=MAX_RETRY_ATTEMPTS).contains(&retries.max_attempts) {
        problems.add(
            format!("{path}.max_attempts"),
            format!(
                "max_attempts counts every attempt and must be between 1 and {MAX_RETRY_ATTEMPTS}, got {}",
                retries.max_attempts
            ),
        );
    }
    check_duration(&format!("{path}.initial"), retries.initial, problems);
    check_duration(&format!("{path}.max"), retries.max, problems);
    if let (Some(initial), Some(max)) = (retries.initial, retries.max)
        && initial > max
    {
        problems.add(
            format!("{path}.initial"),
            format!("initial delay {initial} is longer than max {max}"),
        );
    }
}

fn check_env(step: &StepSpec, path: &str, problems: &mut Problems) {
    for key in step.env.keys() {
        let at = format!("{path}.env.{key}");
        if !is_env_name(key) {
            problems.add(
                at,
                format!(
                    "env name \"{key}\" must be letters, digits and _, not starting with a digit"
                ),
            );
        } else if key.starts_with(RESERVED_ENV_PREFIX) {
            problems.add(
                at,
                format!("env names starting with {RESERVED_ENV_PREFIX} are reserved for Gantry; rename {key}"),
            );
        }
    }
}

fn check_outputs(step: &StepSpec, path: &str, problems: &mut Problems) {
    if step.http.is_some() && !step.outputs.is_empty() {
        problems.add(
            format!("{path}.outputs"),
            "only run steps write outputs (to $GANTRY_OUTPUT); remove outputs from this http step",
        );
    }
    for (j, key) in step.outputs.iter().enumerate() {
        let at = format!("{path}.outputs[{j}]");
        if !is_env_name(key) {
            problems.add(
                at,
                format!(
                    "output key \"{key}\" must be letters, digits and _, not starting with a digit"
                ),
            );
        } else if step.outputs[..j].contains(key) {
            problems.add(at, format!("output \"{key}\" is listed twice"));
        }
    }
}

fn check_http(http: &HttpStep, path: &str, problems: &mut Problems) {
    let method = http.method.trim().to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        problems.add(
            format!("{path}.method"),
            format!(
                "method \"{}\" is not supported; use one of {}",
                http.method,
                METHODS.join(", ")
            ),
        );
    }

    // The URL's literal shape; templates are checked with the others.
    if let Ok(url) = with_placeholders(&http.url, "x") {
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            problems.add(
                format!("{path}.url"),
                format!(
                    "url \"{}\" must start with http:// or https:// and a host (templates may fill in the rest)",
                    http.url
                ),
            );
        } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            problems.add(
                format!("{path}.url"),
                "url contains whitespace; percent-encode it (%20)",
            );
        }
    }

    for (j, status) in http.expect_status.iter().enumerate() {
        if !(100..=599).contains(status) {
            problems.add(
                format!("{path}.expect_status[{j}]"),
                format!("expected statuses must be between 100 and 599, got {status}"),
            );
        }
    }

    for (name, value) in &http.headers {
        let at = format!("{path}.headers.{name}");
        if name.is_empty() || !name.bytes().all(is_header_name_byte) {
            problems.add(
                at,
                format!("header name \"{name}\" may only use letters, digits and !#$%&'*+-.^_`|~"),
            );
        } else if value.contains(['\r', '\n']) {
            problems.add(at, "header values can't contain a line break");
        }
    }
}

/// RFC 9110 `tchar`.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Builds the graph from the needs that name real other steps (the rest is
/// already reported) and reports a cycle. `None` when there is one.
fn check_graph(
    spec: &WorkflowSpec,
    first: &HashMap<&str, usize>,
    problems: &mut Problems,
) -> Option<Dag> {
    let mut seen = HashSet::new();
    let edges: Vec<(&str, Vec<String>)> = spec
        .steps
        .iter()
        .filter(|s| seen.insert(s.id.as_str()))
        .map(|s| {
            let mut needs: Vec<String> = Vec::new();
            for n in &s.needs {
                if *n != s.id && first.contains_key(n.as_str()) && !needs.contains(n) {
                    needs.push(n.clone());
                }
            }
            (s.id.as_str(), needs)
        })
        .collect();
    match Dag::new(edges.iter().map(|(id, needs)| (*id, needs.as_slice()))) {
        Ok(dag) => Some(dag),
        Err(DagError::Cycle { cycle }) => {
            let at = cycle
                .first()
                .and_then(|id| first.get(id.as_str()))
                .map_or_else(|| "steps".to_owned(), |i| format!("steps[{i}].needs"));
            problems.add(
                at,
                format!(
                    "steps form a cycle: {} (each needs the next); remove one of these needs",
                    cycle.join(" → ")
                ),
            );
            None
        }
        // Unreachable after the filtering above, but never silently accept.
        Err(other) => {
            problems.add("steps", other.to_string());
            None
        }
    }
}

/// Every templated field of every step: expressions must parse and refer
/// to declared inputs, and to declared outputs of steps that finish first.
fn check_templates(
    spec: &WorkflowSpec,
    first: &HashMap<&str, usize>,
    dag: Option<&Dag>,
    problems: &mut Problems,
) {
    for (i, step) in spec.steps.iter().enumerate() {
        let path = format!("steps[{i}]");
        let mut fields: Vec<(String, &str)> = Vec::new();
        if let Some(run) = &step.run {
            fields.push((format!("{path}.run"), run));
        }
        for (key, value) in &step.env {
            fields.push((format!("{path}.env.{key}"), value));
        }
        if let Some(http) = &step.http {
            fields.push((format!("{path}.http.url"), &http.url));
            for (name, value) in &http.headers {
                fields.push((format!("{path}.http.headers.{name}"), value));
            }
            if let Some(body) = &http.body {
                fields.push((format!("{path}.http.body"), body));
            }
        }

        // Computed on first use: most steps reference no outputs.
        let mut ancestors: Option<HashSet<&str>> = None;
        for (at, text) in fields {
            let secrets_allowed = step.http.is_some()
                && (at.starts_with(&format!("{path}.http.headers."))
                    || at == format!("{path}.http.body"));
            let exprs = match expressions(text) {
                Ok(exprs) => exprs,
                Err(e) => {
                    problems.add(at, e.to_string());
                    continue;
                }
            };
            let mut checked = HashSet::new();
            for expr in exprs.iter().filter(|e| checked.insert(*e)) {
                let why = match expr {
                    Expr::Input { name } if !spec.inputs.contains_key(name) => Some(format!(
                        "unknown input \"{name}\" in ${{{{ {expr} }}}}; declare it under inputs"
                    )),
                    Expr::StepOutput { step: from, key } => {
                        let ancestors = ancestors.get_or_insert_with(|| {
                            dag.map(|d| d.ancestors(&step.id).into_iter().collect())
                                .unwrap_or_default()
                        });
                        output_problem(spec, step, first, dag.is_some(), ancestors, from, key)
                    }
                    Expr::Secret { name } => {
                        super::validate_secrets::template_problem(step, name, secrets_allowed)
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    problems.add(&at, why);
                }
            }
        }
    }
}

/// What is wrong with `${{ steps.FROM.outputs.KEY }}` used in `step`.
fn output_problem(
    spec: &WorkflowSpec,
    step: &StepSpec,
    first: &HashMap<&str, usize>,
    graph_known: bool,
    ancestors: &HashSet<&str>,
    from: &str,
    key: &str,
) -> Option<String> {
    let expr = format!("${{{{ steps.{from}.outputs.{key} }}}}");
    if from == step.id {
        return Some(format!(
            "a step can't read its own outputs ({expr}); they exist only after it finishes"
        ));
    }
    let Some(&index) = first.get(from) else {
        return Some(format!("unknown step \"{from}\" in {expr}"));
    };
    // With a cycle there is no meaningful ancestry; the cycle is reported.
    if graph_known && !ancestors.contains(from) {
        return Some(format!(
            "step {from} does not run before {id}, so its outputs may not exist yet; add {from} to the needs of {id}",
            id = step.id
        ));
    }
    let declared = spec
        .steps
        .get(index)
        .is_some_and(|s| s.outputs.iter().any(|o| o == key));
    if !declared {
        return Some(format!(
            "step {from} does not declare output \"{key}\"; add it to the outputs of {from}"
        ));
    }
    None
}
