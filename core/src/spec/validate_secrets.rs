//! Secret rules: each step's `secrets:` names and references, and where
//! `${{ secrets.NAME }}` may appear. References are checked for shape only;
//! whether their provider is configured is the server's question.

use super::StepSpec;
use super::secrets::{MAX_SECRETS_PER_STEP, SecretMount, SecretRef, secret_name_problem};
use super::validate::Problems;

pub(super) fn check_secrets(step: &StepSpec, path: &str, problems: &mut Problems) {
    if step.secrets.is_empty() {
        return;
    }
    let count = step.secrets.len();
    if count > MAX_SECRETS_PER_STEP {
        problems.add(
            format!("{path}.secrets"),
            format!("a step has at most {MAX_SECRETS_PER_STEP} secrets; this one has {count}"),
        );
    }
    for (name, secret) in &step.secrets {
        let at = format!("{path}.secrets.{name}");
        if let Some(why) = secret_name_problem(name) {
            problems.add(&at, why);
        } else if step.env.contains_key(name) {
            problems.add(
                &at,
                format!(
                    "{name} is also set under env; a variable comes from one place, rename one"
                ),
            );
        }
        if let Err(why) = SecretRef::parse(&secret.reference) {
            problems.add(&at, why);
        }
        if secret.mount == SecretMount::File && step.http.is_some() {
            problems.add(
                &at,
                "as: file is for shell steps (run); an http step uses ${{ secrets.NAME }} in headers or body",
            );
        }
    }
}

/// What is wrong with `${{ secrets.NAME }}` in a field of `step`, where
/// `allowed` says whether the field is an HTTP header or body.
pub(super) fn template_problem(step: &StepSpec, name: &str, allowed: bool) -> Option<String> {
    let expr = format!("${{{{ secrets.{name} }}}}");
    if !allowed {
        return Some(if step.http.is_some() {
            format!(
                "{expr} may only appear in an http step's headers or body; the url is stored and shown"
            )
        } else {
            format!(
                "{expr} can't be written into a shell step; declare {name} under secrets and read it as \"${name}\""
            )
        });
    }
    if !step.secrets.contains_key(name) {
        return Some(format!(
            "unknown secret \"{name}\" in {expr}; declare it under this step's secrets"
        ));
    }
    None
}

#[cfg(test)]
#[path = "validate_secrets_tests.rs"]
mod tests;
