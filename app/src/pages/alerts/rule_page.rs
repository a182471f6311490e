//! New rule (`/alerts/rules/new`, `?kind=failure_ratio` and any other
//! field prefill it) and edit rule (`/alerts/rules/edit?rule=NAME`, with a
//! Delete that asks first: `&confirm=delete`). Both render the rule form;
//! a form posted without JavaScript comes back here with what was typed.

use super::AlertsNav;
use super::rule_form::{RuleForm, RuleFormSetup};
use crate::api::{
    ALERTS_PAGE, DeleteAlertRule, EDIT_RULE_PAGE, NEW_RULE_PAGE, PlainRulePost, RuleFields,
    get_alert_rule, get_overview, kind_label, list_alert_channels, rule_href,
};
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::error::{AppError, url_error_for};
use crate::pages::runs::encode;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The plain post this page answers, if any.
fn plain() -> Option<PlainRulePost> {
    use_context::<PlainRulePost>()
}

async fn setup(
    fields: RuleFields,
    action: String,
    editing: bool,
    plain: Option<PlainRulePost>,
    url_error: Option<AppError>,
) -> Result<RuleFormSetup, AppError> {
    let channels = list_alert_channels().await?;
    let environments = get_overview()
        .await?
        .environments
        .iter()
        .map(|e| e.to_string())
        .collect();
    let (fields, outcome) = match plain {
        Some(p) => (p.fields, Some(p.result)),
        None => (fields, url_error.map(Err)),
    };
    Ok(RuleFormSetup {
        fields,
        action,
        editing,
        channels,
        environments,
        outcome,
    })
}

#[component]
pub fn NewRulePage() -> impl IntoView {
    let mut fields = RuleFields::from_pairs(&super::query_pairs(&RuleFields::NAMES));
    if fields.kind.is_empty() {
        fields.kind = "consecutive_failures".into();
    }
    fields.original = String::new();
    let url_error = url_error_for(<crate::api::CreateAlertRule as ServerFn>::PATH);
    let plain = plain();
    let data = Resource::new(
        || (),
        move |_| {
            setup(
                fields.clone(),
                NEW_RULE_PAGE.to_owned(),
                false,
                plain.clone(),
                url_error.clone(),
            )
        },
    );
    view! {
        <Title text="New alert rule" />
        <h1>"New alert rule"</h1>
        <AlertsNav here=NEW_RULE_PAGE />
        <p class="lead">
            "Rules are judged from Gantry's own run records. Try the rule with Backtest before saving: it shows how often it would have fired and resolved."
        </p>
        <h2 id="rule-form-heading">{kind_heading(&fields_kind())}</h2>
        <Loaded resource=data let:setup>
            <RuleForm setup />
        </Loaded>
    }
}

/// The kind named in the URL, for the heading.
fn fields_kind() -> String {
    let query = use_query_map();
    query.read_untracked().get("kind").unwrap_or_default()
}

fn kind_heading(kind: &str) -> String {
    if kind.is_empty() {
        "The rule".to_owned()
    } else {
        format!("The rule: {}", kind_label(kind))
    }
}

#[component]
pub fn EditRulePage() -> impl IntoView {
    let query = use_query_map();
    let (name, confirm) = {
        let q = query.read_untracked();
        (
            q.get("rule")
                .or_else(|| q.get("original"))
                .unwrap_or_default(),
            q.get("confirm").as_deref() == Some("delete"),
        )
    };
    let from_query = RuleFields::from_pairs(&super::query_pairs(&RuleFields::NAMES));
    let url_error = url_error_for(<crate::api::ReplaceAlertRule as ServerFn>::PATH);
    let plain = plain();
    let action = format!("{EDIT_RULE_PAGE}?rule={}", encode(&name));
    let rule_name = name.clone();
    let data = Resource::new(
        || (),
        move |_| {
            let name = rule_name.clone();
            let plain = plain.clone();
            let url_error = url_error.clone();
            let action = action.clone();
            let from_query = from_query.clone();
            async move {
                let rule = get_alert_rule(name).await?;
                let mut fields = RuleFields::of(&rule.spec);
                // A GET that chose another kind keeps what was typed.
                if !from_query.kind.is_empty() {
                    fields = RuleFields {
                        original: fields.original,
                        ..from_query
                    };
                }
                let origin = rule.origin.clone();
                let setup = setup(fields, action, true, plain, url_error).await?;
                Ok::<_, AppError>((setup, origin))
            }
        },
    );
    let title = format!("Alert rule {name}");
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <AlertsNav here="" />
        <Loaded resource=data let:loaded>
            {
                let (setup, origin) = loaded;
                let from_spec = origin.strip_prefix("workflow:").map(|w| {
                    view! {
                        <p class="alert alert-warn" role="note">
                            "This rule is carried by the spec of workflow "
                            <a href=format!("/workflows/{w}")>{w.to_owned()}</a>
                            ": change it there, and it versions and promotes with the workflow."
                        </p>
                    }
                });
                view! {
                    {from_spec}
                    <h2 id="rule-form-heading">"Change the rule"</h2>
                    <RuleForm setup />
                }
            }
        </Loaded>
        <DeleteRule name confirm />
    }
}

/// Delete, after a second step that names what goes.
#[component]
fn DeleteRule(name: String, confirm: bool) -> impl IntoView {
    let delete = ServerAction::<DeleteAlertRule>::new();
    let url_error = url_error_for(<DeleteAlertRule as ServerFn>::PATH);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate(ALERTS_PAGE, Default::default());
        }
    });
    let outcome = move || match delete.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(())) => None,
        None => url_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    let body = if confirm {
        view! {
            <p>"Delete the rule " <strong>{name.clone()}</strong> "? Its alert instances and their history go with it; notifications already sent stay in the history."</p>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="name" value=name.clone() />
                <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete " {name.clone()}</button>
                " "
                <a href=rule_href(&name)>"Keep it"</a>
            </ActionForm>
        }
        .into_any()
    } else {
        let href = format!("{}&confirm=delete#delete-rule", rule_href(&name));
        view! { <p><a href=href class="danger-link">"Delete this rule…"</a></p> }.into_any()
    };
    view! {
        <section id="delete-rule" aria-labelledby="delete-rule-heading">
            <h2 id="delete-rule-heading">"Delete"</h2>
            <div aria-live="polite">{outcome}</div>
            {body}
        </section>
    }
}
