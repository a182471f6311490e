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
        match SecretRef::parse(&secret.reference) {
            Err(why) => problems.add(&at, why),
            Ok(r) if r.provider() == DYNAMIC_PROVIDER => {
                check_dynamic(step, name, secret.mount, &at, problems)
            }
            Ok(_) => {}
        }
        if secret.mount == SecretMount::File && step.http.is_some() {
            problems.add(
                &at,
                "as: file is for shell steps (run); an http step uses ${{ secrets.NAME }} in headers or body",
            );
        }
    }
}

/// The provider of dynamic database credentials: a reference gives the step
/// `$NAME` (the password) and `$NAME_USERNAME`.
pub const DYNAMIC_PROVIDER: &str = "vault-db";

/// A dynamic credential is a pair of variables for a shell step.
fn check_dynamic(
    step: &StepSpec,
    name: &str,
    mount: SecretMount,
    at: &str,
    problems: &mut Problems,
) {
    if step.http.is_some() {
        problems.add(
            at,
            "vault-db credentials are for shell steps (run): they arrive as $NAME and $NAME_USERNAME",
        );
    } else if mount == SecretMount::File {
        problems.add(
            at,
            "vault-db credentials arrive as $NAME and $NAME_USERNAME; as: file is not offered",
        );
    }
    let username = format!("{name}_USERNAME");
    if let Some(why) = secret_name_problem(&username) {
        problems.add(
            at,
            format!("{username} (the credential's username variable): {why}"),
        );
    } else if step.secrets.contains_key(&username) || step.env.contains_key(&username) {
        problems.add(
            at,
            format!("{username} is where this credential's username goes; it is declared elsewhere in the step too, rename one"),
        );
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
