//! The Audit page's filter form: a plain GET form (bookmarkable, works
//! without JavaScript) whose empty fields stay out of the URL when the
//! hydrated browser submits it.

use crate::api::{AuditQuery, time_field_value};
use crate::components::status_badge::label;
use gantry_core::audit::{AuditAction, Outcome};
use leptos::prelude::*;
use leptos_router::components::Form;
use std::sync::Arc;

/// Action families (`run.`) in the order their actions are declared.
fn families() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in AuditAction::ALL {
        let name = a.as_str();
        if let Some(dot) = name.find('.') {
            let family = &name[..=dot];
            if !out.contains(&family) {
                out.push(family);
            }
        }
    }
    out
}

#[component]
pub fn FilterForm(query: AuditQuery) -> impl IntoView {
    const HINT: Option<&str> = Some("audit-filter-hint");
    let text = |name: &'static str,
                label_text: &'static str,
                value: String,
                described: Option<&'static str>| {
        let id = format!("filter-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label_text}</label>
                <input type="text" id=id name=name value=value aria-describedby=described />
            </div>
        }
    };
    let option = |value: String, text: String, current: &str| {
        let selected = value == current;
        // The property too: after someone picked an option, only the
        // property moves the selection when the URL changes.
        view! { <option value=value selected=selected prop:selected=selected>{text}</option> }
    };
    let mut known: Vec<String> = families().into_iter().map(str::to_owned).collect();
    known.extend(AuditAction::ALL.iter().map(|a| a.as_str().to_owned()));
    // A hand-typed action this version doesn't list still shows as chosen.
    let other = (!query.action.is_empty() && !known.contains(&query.action))
        .then(|| option(query.action.clone(), query.action.clone(), &query.action));
    let family_options = families()
        .into_iter()
        .map(|f| {
            let text = format!("{f}* (every {} action)", f.trim_end_matches('.'));
            option(f.to_owned(), text, &query.action)
        })
        .collect_view();
    let action_options = AuditAction::ALL
        .iter()
        .map(|a| option(a.as_str().to_owned(), a.as_str().to_owned(), &query.action))
        .collect_view();
    let outcome_options = Outcome::ALL
        .iter()
        .map(|o| option(o.as_str().to_owned(), label(o.as_str()), &query.outcome))
        .collect_view();
    let since = time_field_value(&query.since);
    let until = time_field_value(&query.until);
    view! {
        <Form
            method="GET"
            action="/audit"
            on_form_data=Arc::new(drop_empty_fields)
            attr:class="filters audit-filters"
            attr:aria-label="Filter audit records"
        >
            {text("actor", "Actor (id or name)", query.actor.clone(), None)}
            <div class="field">
                <label for="filter-action">"Action"</label>
                <select id="filter-action" name="action">
                    <option value="" prop:selected=query.action.is_empty()>"Any"</option>
                    {other}
                    <optgroup label="Families">{family_options}</optgroup>
                    <optgroup label="Actions">{action_options}</optgroup>
                </select>
            </div>
            {text("resource", "Resource", query.resource.clone(), HINT)}
            {text("environment", "Environment", query.environment.clone(), None)}
            <div class="field">
                <label for="filter-outcome">"Outcome"</label>
                <select id="filter-outcome" name="outcome">
                    <option value="" prop:selected=query.outcome.is_empty()>"Any"</option>
                    {outcome_options}
                </select>
            </div>
            <div class="field">
                <label for="filter-since">"Since (UTC)"</label>
                <input
                    type="datetime-local"
                    step="1"
                    id="filter-since"
                    name="since"
                    value=since
                    aria-describedby="audit-filter-hint"
                />
            </div>
            <div class="field">
                <label for="filter-until">"Until (UTC)"</label>
                <input
                    type="datetime-local"
                    step="1"
                    id="filter-until"
                    name="until"
                    value=until
                    aria-describedby="audit-filter-hint"
                />
            </div>
            <div class="field">
                <label for="filter-limit">"Per page"</label>
                <input
                    type="number"
                    id="filter-limit"
                    name="limit"
                    min="1"
                    max="500"
                    placeholder="50"
                    value=query.limit.clone()
                />
            </div>
            <div class="actions">
                <button type="submit">"Apply filters"</button>
                <a href="/audit">"Clear filters"</a>
            </div>
            <p class="hint filters-hint" id="audit-filter-hint">
                "Times are UTC, like every time on this page; records from Since up to, not including, Until. "
                "A resource ending in / matches everything under it, e.g. run/."
            </p>
        </Form>
    }
}

/// Keeps "any" filters (and the unnamed submit button) out of the URL when
/// the form is submitted in the browser: `/audit?outcome=denied`, not every
/// field with an empty value.
fn drop_empty_fields(form: &leptos::web_sys::FormData) {
    for name in [
        "",
        "actor",
        "action",
        "resource",
        "environment",
        "outcome",
        "since",
        "until",
        "limit",
    ] {
        if form
            .get(name)
            .as_string()
            .is_some_and(|v| v.trim().is_empty())
        {
            form.delete(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_come_from_the_known_actions() {
        let f = families();
        assert!(f.contains(&"run.") && f.contains(&"session."), "{f:?}");
        assert_eq!(f.iter().filter(|x| **x == "run.").count(), 1);
        assert!(f.iter().all(|x| x.ends_with('.')));
    }

    #[test]
    fn secret_fetches_have_a_family_of_their_own() {
        assert!(families().contains(&"secret."), "{:?}", families());
    }
}
