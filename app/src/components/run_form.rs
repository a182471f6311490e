//! The form that starts a run: one field per declared input, in declared
//! order, with defaults filled in, plus the environment. Works as a plain
//! form post; with JavaScript it submits in place and goes to the new run.

use super::error_box::ErrorBox;
use crate::api::TriggerRun;
use crate::error::{AppError, url_error_for};
use gantry_core::spec::{InputSpec, InputType};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `environments`: where the caller may start this workflow (it is active
/// there and they hold a role that may run it), in promotion order.
#[component]
pub fn RunForm(
    workflow: String,
    inputs: Vec<(String, InputSpec)>,
    environments: Vec<String>,
) -> impl IntoView {
    let action = ServerAction::<TriggerRun>::new();
    let url_error = url_error_for(<TriggerRun as ServerFn>::PATH);
    let error = Memo::new(move |_| match action.value().get() {
        Some(Err(e)) => Some(e),
        Some(Ok(_)) => None,
        None => url_error.clone(),
    });
    let env_options = environments
        .iter()
        .map(|e| view! { <option value=e.clone()>{e.clone()}</option> })
        .collect_view();
    let fields = inputs
        .into_iter()
        .map(|(name, spec)| view! { <InputField name spec error /> })
        .collect_view();
    // Problems about a field are shown beside it; the box lists them all.
    let summary = move || error.get().map(|e| view! { <ErrorBox error=e /> });
    view! {
        <ActionForm action attr:class="form run-form">
            <input type="hidden" name="workflow" value=workflow />
            <div class="field">
                <label for="run-environment">"Environment"</label>
                <select id="run-environment" name="environment">{env_options}</select>
            </div>
            {fields}
            <div class="field">
                <label for="run-reason">
                    "Reason"
                    <span class="field-type">
                        " (optional; shown to the approver where runs need approval)"
                    </span>
                </label>
                <textarea id="run-reason" name="reason" rows="2" maxlength="1000"></textarea>
            </div>
            <div class="actions">
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Starting…" } else { "Start run" }}
                </button>
            </div>
            <div aria-live="polite">{summary}</div>
        </ActionForm>
    }
}

/// A default as the text a form field holds.
fn default_text(spec: &InputSpec) -> String {
    match &spec.default {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[component]
fn InputField(name: String, spec: InputSpec, error: Memo<Option<AppError>>) -> impl IntoView {
    let id = format!("input-{name}");
    let desc_id = format!("{id}-desc");
    let err_id = format!("{id}-error");
    let field_name = format!("inputs[{name}]");
    let path = format!("inputs.{name}");
    let problem = {
        let path = path.clone();
        Memo::new(move |_| error.with(|e| e.as_ref().and_then(|e| e.problem_at(&path))))
    };
    let required = spec.default.as_ref().is_none_or(serde_json::Value::is_null);
    let default = default_text(&spec);
    let describedby = {
        let has_desc = spec.description.is_some();
        let (desc_id, err_id) = (desc_id.clone(), err_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_desc {
                ids.push(desc_id.clone());
            }
            if problem.get().is_some() {
                ids.push(err_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let invalid = move || problem.get().is_some().then_some("true");
    let control = match spec.kind {
        InputType::String | InputType::Integer | InputType::Number => {
            let (kind, step) = match spec.kind {
                InputType::Integer => ("number", Some("1")),
                InputType::Number => ("number", Some("any")),
                _ => ("text", None),
            };
            view! {
                <input
                    type=kind
                    step=step
                    id=id.clone()
                    name=field_name
                    value=default
                    required=required
                    aria-describedby=describedby
                    aria-invalid=invalid
                />
            }
            .into_any()
        }
        InputType::Boolean | InputType::Choice => {
            let options: Vec<String> = match spec.kind {
                InputType::Boolean => vec!["true".into(), "false".into()],
                _ => spec.options.clone().unwrap_or_default(),
            };
            let placeholder = (required || default.is_empty())
                .then(|| view! { <option value="">"Choose…"</option> });
            let options = options
                .into_iter()
                .map(|o| {
                    let selected = o == default;
                    view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                })
                .collect_view();
            view! {
                <select
                    id=id.clone()
                    name=field_name
                    required=required
                    aria-describedby=describedby
                    aria-invalid=invalid
                >
                    {placeholder}
                    {options}
                </select>
            }
            .into_any()
        }
    };
    let kind = spec.kind.as_str();
    view! {
        <div class="field">
            <label for=id>
                {name.clone()}
                <span class="field-type">" (" {kind} {(!required).then_some(", optional")} ")"</span>
            </label>
            {control}
            {spec.description.map(|d| view! { <p class="hint" id=desc_id>{d}</p> })}
            {move || problem.get().map(|p| view! { <p class="field-error" id=err_id.clone()>{p}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_become_field_text() {
        let spec = |default: Option<serde_json::Value>| InputSpec {
            kind: InputType::Integer,
            default,
            description: None,
            options: None,
        };
        assert_eq!(default_text(&spec(None)), "");
        assert_eq!(default_text(&spec(Some(serde_json::json!(3)))), "3");
        assert_eq!(default_text(&spec(Some(serde_json::json!("eu")))), "eu");
        assert_eq!(default_text(&spec(Some(serde_json::json!(true)))), "true");
    }
}
