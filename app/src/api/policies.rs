//! Server functions for environment policies: every environment's policy,
//! and saving one from the Policies page's form.
//!
//! The form sends each checklist item as a row of text fields
//! (`checklist[3][min_runs]`). Rows may be marked for removal, and a blank
//! row adds nothing, so the policy's item `k` is not always the form's row
//! `k`: problems are reported at the form's rows (`checklist[3].check.…`),
//! whether this file found them reading the text or the port found them
//! checking the policy, so each shows next to its field.

// The policy form's server function takes its fields one each (the
// macro's items, on both the server and the browser side).
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
#[cfg(any(feature = "ssr", test))]
use gantry_core::PortError;
use gantry_core::promotion::view::PolicyView;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// One checklist row of the policy form, as typed. Only the fields of the
/// row's `kind` are read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemFields {
    #[serde(default)]
    pub id: String,
    /// An `ItemCheck` kind (`soak_time`, `manual`, …); empty in a blank row.
    #[serde(default)]
    pub kind: String,
    /// A checkbox: present means drop this item.
    #[serde(default)]
    pub remove: Option<String>,
    #[serde(default)]
    pub min_runs: String,
    #[serde(default)]
    pub window: String,
    #[serde(default)]
    pub min_success_ratio: String,
    /// A soak time.
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub evidence_required: Option<String>,
}

/// The whole policy form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyFields {
    pub environment: String,
    pub required_approvals: String,
    pub request_role: String,
    pub rollback_role: String,
    pub step_up: bool,
    pub request_ttl: String,
    pub checklist: Vec<ItemFields>,
    #[serde(default)]
    pub verification: VerificationFields,
}

/// The verification fields (`verification[workflow]`, …), as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerificationFields {
    /// The verification workflow's name; empty for none.
    #[serde(default)]
    pub workflow: String,
    /// `hold` or `rollback`.
    #[serde(default)]
    pub on_failure: String,
}

#[server(prefix = "/ui", endpoint = "environment_policies")]
pub async fn get_environment_policies() -> Result<Vec<PolicyView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.environment_policies(&ctx).await)
}

/// Replaces `environment`'s policy. `step_up` is a checkbox.
#[server(prefix = "/ui", endpoint = "set_environment_policy")]
pub async fn set_environment_policy(
    environment: String,
    #[server(default)] required_approvals: String,
    #[server(default)] request_role: String,
    #[server(default)] rollback_role: String,
    #[server(default)] step_up: Option<String>,
    #[server(default)] request_ttl: String,
    #[server(default)] checklist: Vec<ItemFields>,
    #[server(default)] verification: VerificationFields,
) -> Result<PolicyView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let fields = PolicyFields {
        environment,
        required_approvals,
        request_role,
        rollback_role,
        step_up: step_up.is_some(),
        request_ttl,
        checklist,
        verification,
    };
    let mut parsed = match parse_policy_form(&fields) {
        Ok(p) => p,
        Err(e) => return ssr::answer(Err(e)),
    };
    // The form doesn't edit the canary plan (the API does): saving it
    // keeps the one in force.
    parsed.policy.canary = ssr::answer(plane.environment_policies(&ctx).await)?
        .into_iter()
        .find(|v| v.environment == fields.environment)
        .and_then(|v| v.policy.canary);
    let saved = plane
        .set_environment_policy(&ctx, &fields.environment, parsed.policy)
        .await
        .map_err(|e| at_form_rows(e, &parsed.rows));
    let view = ssr::answer(saved)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&format!("/promotions/policies#policy-{}", view.environment));
    }
    Ok(view)
}

/// A policy read from the form, and the form row each checklist item came
/// from.
#[cfg(any(feature = "ssr", test))]
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPolicy {
    pub policy: gantry_core::promotion::EnvironmentPolicy,
    pub rows: Vec<usize>,
}

/// Reads the form, naming every field that can't be read at once. Bounds
/// and the rest are the port's to check.
#[cfg(any(feature = "ssr", test))]
pub fn parse_policy_form(fields: &PolicyFields) -> Result<ParsedPolicy, PortError> {
    use gantry_core::promotion::{ChecklistItemTemplate, EnvironmentPolicy};
    use gantry_core::spec::SpecProblem;
    let mut problems: Vec<SpecProblem> = Vec::new();
    let required_approvals = number::<u32>(
        &fields.required_approvals,
        "required_approvals",
        "a whole number of approvers, 0 to 5",
        &mut problems,
    );
    let request_role = role(&fields.request_role, "request_role", &mut problems);
    let rollback_role = role(&fields.rollback_role, "rollback_role", &mut problems);
    let request_ttl = duration(&fields.request_ttl, "request_ttl", &mut problems);
    let verification = verification(fields, &mut problems);
    let mut checklist = Vec::new();
    let mut rows = Vec::new();
    for (row, item) in fields.checklist.iter().enumerate() {
        let blank = item.kind.trim().is_empty() && item.id.trim().is_empty();
        if item.remove.is_some() || blank {
            continue;
        }
        let at = |field: &str| format!("checklist[{row}].{field}");
        if let Some(check) = item_check(item, &at, &mut problems) {
            checklist.push(ChecklistItemTemplate {
                id: item.id.trim().to_owned(),
                check,
            });
            rows.push(row);
        }
    }
    match (required_approvals, request_role, rollback_role, request_ttl) {
        (Some(required_approvals), Some(request_role), Some(rollback_role), Some(request_ttl))
            if problems.is_empty() =>
        {
            Ok(ParsedPolicy {
                policy: EnvironmentPolicy {
                    required_approvals,
                    request_role,
                    rollback_role,
                    step_up: fields.step_up,
                    checklist,
                    request_ttl,
                    canary: None,
                    verification,
                },
                rows,
            })
        }
        _ => Err(PortError::Unprocessable {
            message: format!("the policy for {} was not saved", fields.environment),
            problems,
        }),
    }
}

/// The verification fields: none when no workflow is named.
#[cfg(any(feature = "ssr", test))]
fn verification(
    fields: &PolicyFields,
    problems: &mut Vec<gantry_core::spec::SpecProblem>,
) -> Option<gantry_core::promotion::verification::VerificationPolicy> {
    use gantry_core::promotion::verification::{OnVerificationFailure, VerificationPolicy};
    let workflow = fields.verification.workflow.trim();
    if workflow.is_empty() {
        return None;
    }
    let on_failure = match fields.verification.on_failure.trim() {
        "" => OnVerificationFailure::Hold,
        text => match OnVerificationFailure::parse(text) {
            Some(o) => o,
            None => {
                problems.push(gantry_core::spec::SpecProblem::new(
                    "verification.on_failure",
                    format!("{text:?} is not a choice; use hold or rollback"),
                ));
                return None;
            }
        },
    };
    Some(VerificationPolicy {
        workflow: workflow.to_owned(),
        on_failure,
    })
}

#[cfg(any(feature = "ssr", test))]
fn item_check(
    item: &ItemFields,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<gantry_core::spec::SpecProblem>,
) -> Option<gantry_core::promotion::ItemCheck> {
    use gantry_core::promotion::ItemCheck;
    use gantry_core::spec::SpecProblem;
    Some(match item.kind.trim() {
        "successful_runs_in_previous" => {
            let min_runs = number::<u32>(
                &item.min_runs,
                &at("check.min_runs"),
                "a whole number of runs",
                problems,
            );
            let window = duration(&item.window, &at("check.window"), problems);
            let ratio = number::<f64>(
                &item.min_success_ratio,
                &at("check.min_success_ratio"),
                "a fraction between 0 and 1, e.g. 0.9 for 90%",
                problems,
            );
            ItemCheck::SuccessfulRunsInPrevious {
                min_runs: min_runs?,
                window: window?,
                min_success_ratio: ratio?,
            }
        }
        "soak_time" => ItemCheck::SoakTime {
            min: duration(&item.min, &at("check.min"), problems)?,
        },
        "target_not_failing" => ItemCheck::TargetNotFailing,
        "no_firing_alerts" => ItemCheck::NoFiringAlerts,
        "last_verification_passed" => ItemCheck::LastVerificationPassed,
        "no_new_http_hosts" => ItemCheck::NoNewHttpHosts,
        "no_new_secret_references" => ItemCheck::NoNewSecretReferences,
        "manual" => ItemCheck::Manual {
            text: item.text.trim().to_owned(),
            role: role(&item.role, &at("check.role"), problems)?,
            evidence_required: item.evidence_required.is_some(),
        },
        other => {
            problems.push(SpecProblem::new(
                at("check.kind"),
                format!(
                    "{other:?} is not a kind of item; choose one from the list of what an item checks"
                ),
            ));
            return None;
        }
    })
}

#[cfg(any(feature = "ssr", test))]
fn number<T: std::str::FromStr>(
    text: &str,
    path: &str,
    what: &str,
    problems: &mut Vec<gantry_core::spec::SpecProblem>,
) -> Option<T> {
    let parsed = text.trim().parse::<T>().ok();
    if parsed.is_none() {
        problems.push(gantry_core::spec::SpecProblem::new(
            path,
            format!("{:?} is not a number; write {what}", text.trim()),
        ));
    }
    parsed
}

#[cfg(any(feature = "ssr", test))]
fn role(
    text: &str,
    path: &str,
    problems: &mut Vec<gantry_core::spec::SpecProblem>,
) -> Option<gantry_core::Role> {
    let parsed = gantry_core::Role::parse(text.trim());
    if parsed.is_none() {
        problems.push(gantry_core::spec::SpecProblem::new(
            path,
            format!(
                "{:?} is not a role; choose operator, approver or admin",
                text.trim()
            ),
        ));
    }
    parsed
}

#[cfg(any(feature = "ssr", test))]
fn duration(
    text: &str,
    path: &str,
    problems: &mut Vec<gantry_core::spec::SpecProblem>,
) -> Option<gantry_core::promotion::PolicyDuration> {
    let parsed = serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).ok();
    if parsed.is_none() {
        problems.push(gantry_core::spec::SpecProblem::new(
            path,
            format!(
                "{:?} is not a duration; write it like \"30m\", \"1h\" or \"7d\"",
                text.trim()
            ),
        ));
    }
    parsed
}

/// Moves the port's problems about checklist item `k` to the form row it
/// came from (`rows[k]`), so they show next to the right fields.
#[cfg(any(feature = "ssr", test))]
pub fn at_form_rows(error: PortError, rows: &[usize]) -> PortError {
    let PortError::Unprocessable {
        message,
        mut problems,
    } = error
    else {
        return error;
    };
    for p in &mut problems {
        let Some(rest) = p.path.strip_prefix("checklist[") else {
            continue;
        };
        let Some((index, tail)) = rest.split_once(']') else {
            continue;
        };
        if let Some(row) = index.parse::<usize>().ok().and_then(|k| rows.get(k)) {
            p.path = format!("checklist[{row}]{tail}");
        }
    }
    PortError::Unprocessable { message, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::Role;
    use gantry_core::promotion::{ItemCheck, PolicyDuration};
    use gantry_core::spec::SpecProblem;

    fn form() -> PolicyFields {
        PolicyFields {
            environment: "prod".into(),
            required_approvals: "2".into(),
            request_role: "operator".into(),
            rollback_role: "approver".into(),
            step_up: true,
            request_ttl: "7d".into(),
            checklist: vec![
                ItemFields {
                    id: "stage_runs".into(),
                    kind: "successful_runs_in_previous".into(),
                    min_runs: "3".into(),
                    window: "7d".into(),
                    min_success_ratio: "0.9".into(),
                    ..ItemFields::default()
                },
                ItemFields {
                    id: "gone".into(),
                    kind: "target_not_failing".into(),
                    remove: Some("true".into()),
                    ..ItemFields::default()
                },
                ItemFields {
                    id: "notes".into(),
                    kind: "manual".into(),
                    text: "Release notes written".into(),
                    role: "approver".into(),
                    evidence_required: Some("true".into()),
                    // Fields of other kinds are ignored.
                    min_runs: "x".into(),
                    ..ItemFields::default()
                },
                // The blank row for a new item.
                ItemFields::default(),
            ],
            ..PolicyFields::default()
        }
    }

    #[test]
    fn a_filled_in_form_reads_as_a_policy_keeping_each_items_row() {
        let parsed = parse_policy_form(&form()).unwrap();
        let p = parsed.policy;
        assert_eq!(p.required_approvals, 2);
        assert_eq!(p.rollback_role, Role::Approver);
        assert!(p.step_up);
        assert_eq!(p.request_ttl, PolicyDuration::from_days(7));
        let ids: Vec<&str> = p.checklist.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["stage_runs", "notes"]);
        assert_eq!(
            p.checklist[1].check,
            ItemCheck::Manual {
                text: "Release notes written".into(),
                role: Role::Approver,
                evidence_required: true
            }
        );
        assert_eq!(parsed.rows, [0, 2]);
    }

    #[test]
    fn the_verification_fields_read_as_a_verification_policy() {
        use gantry_core::promotion::verification::{OnVerificationFailure, VerificationPolicy};
        assert_eq!(
            parse_policy_form(&form()).unwrap().policy.verification,
            None
        );
        let mut f = form();
        f.verification.workflow = " smoke ".into();
        assert_eq!(
            parse_policy_form(&f).unwrap().policy.verification,
            Some(VerificationPolicy {
                workflow: "smoke".into(),
                on_failure: OnVerificationFailure::Hold
            })
        );
        f.verification.on_failure = "rollback".into();
        assert_eq!(
            parse_policy_form(&f)
                .unwrap()
                .policy
                .verification
                .map(|v| v.on_failure),
            Some(OnVerificationFailure::Rollback)
        );
        f.verification.on_failure = "retry".into();
        let Err(PortError::Unprocessable { problems, .. }) = parse_policy_form(&f) else {
            panic!("expected problems");
        };
        assert_eq!(problems[0].path, "verification.on_failure");
    }

    #[test]
    fn every_unreadable_field_is_named_at_its_row() {
        let mut f = form();
        f.required_approvals = "two".into();
        f.request_ttl = "a week".into();
        f.checklist[0].window = "soon".into();
        f.checklist[2].role = "boss".into();
        f.checklist[3].kind = "canary".into();
        let Err(PortError::Unprocessable { message, problems }) = parse_policy_form(&f) else {
            panic!("expected problems");
        };
        assert_eq!(message, "the policy for prod was not saved");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "required_approvals",
                "request_ttl",
                "checklist[0].check.window",
                "checklist[2].check.role",
                "checklist[3].check.kind"
            ]
        );
    }

    #[test]
    fn the_ports_problems_move_to_the_rows_their_items_came_from() {
        let err = PortError::Unprocessable {
            message: "the policy for prod was not saved".into(),
            problems: vec![
                SpecProblem::new("checklist[1].check.text", "say what"),
                SpecProblem::new("checklist", "too many"),
                SpecProblem::new("step_up", "set it"),
            ],
        };
        let PortError::Unprocessable { problems, .. } = at_form_rows(err, &[0, 2]) else {
            panic!("still unprocessable");
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["checklist[2].check.text", "checklist", "step_up"]);
        let other = PortError::Forbidden {
            reason: "no".into(),
        };
        assert_eq!(at_form_rows(other.clone(), &[]), other);
    }
}
