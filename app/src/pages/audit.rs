//! The audit log: whether the hash chain verifies, filters in a GET form
//! (bookmarkable, works without JavaScript), a table of records newest
//! first, and cursor pagination.
//!
//! The chain status is loaded first and gates the rest: a caller who may not
//! read the log sees one "Not allowed" message (and leaves one denial in the
//! log), not one per section.

use super::runs::encode;
use crate::api::{AuditQuery, get_audit_status, list_audit, time_field_value};
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::components::status_badge::label;
use crate::error::AppError;
use gantry_core::audit::{AuditAction, AuditPage, AuditRecord, ChainStatus, Outcome};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The URL's query parameters, in the order links write them.
const FIELDS: [&str; 9] = [
    "actor",
    "action",
    "resource",
    "environment",
    "outcome",
    "since",
    "until",
    "limit",
    "before",
];

fn field<'a>(q: &'a AuditQuery, name: &str) -> &'a str {
    match name {
        "actor" => &q.actor,
        "action" => &q.action,
        "resource" => &q.resource,
        "environment" => &q.environment,
        "outcome" => &q.outcome,
        "since" => &q.since,
        "until" => &q.until,
        "limit" => &q.limit,
        _ => &q.before,
    }
}

/// The address of the log with these filters, `before` replaced.
pub(crate) fn audit_href(q: &AuditQuery, before: Option<&str>) -> String {
    let parts: Vec<String> = FIELDS
        .iter()
        .filter_map(|&name| {
            let value = if name == "before" {
                before.unwrap_or_default()
            } else {
                field(q, name)
            };
            (!value.is_empty()).then(|| format!("{name}={}", encode(value)))
        })
        .collect();
    if parts.is_empty() {
        "/audit".to_owned()
    } else {
        format!("/audit?{}", parts.join("&"))
    }
}

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

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LogData {
    page: AuditPage,
    /// What was asked for, so the page describes exactly what it shows.
    query: AuditQuery,
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let q = params.read();
        let get = |k: &str| q.get(k).unwrap_or_default().trim().to_owned();
        AuditQuery {
            actor: get("actor"),
            action: get("action"),
            resource: get("resource"),
            environment: get("environment"),
            outcome: get("outcome"),
            since: get("since"),
            until: get("until"),
            before: get("before"),
            limit: get("limit"),
        }
    });
    let status = Resource::new(|| (), |_| get_audit_status());
    let log = Resource::new(
        move || query.get(),
        move |query| async move {
            // Only once the caller may read the log (see the module doc).
            status.await?;
            let page = list_audit(query.clone()).await?;
            Ok::<_, AppError>(LogData { page, query })
        },
    );
    view! {
        <Title text="Audit" />
        <h1>"Audit"</h1>
        <p class="lead">
            "Who did what, when and from where. Each record carries the hash of the one before it, so an edited, removed or inserted record breaks the chain."
        </p>
        <Loaded resource=status let:status>
            <ChainBanner status />
            // Drawn again when the URL changes (a pager or "Clear filters"
            // link followed in the browser), so the form shows the filters
            // in force.
            {move || view! { <FilterForm query=query.get() /> }}
            <Loaded resource=log let:data>
                <LogBody data />
            </Loaded>
        </Loaded>
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The verification result: a quiet status line when the chain holds, an
/// alert naming the first broken record when it doesn't.
#[component]
fn ChainBanner(status: ChainStatus) -> impl IntoView {
    let checked = status.checked_at;
    if let Some(problem) = status.problem {
        let href = format!("/audit/{}", problem.seq);
        let title = format!(
            "Chain broken at record #{}: {}",
            problem.seq,
            problem.kind.as_str()
        );
        return view! {
            <div class="alert alert-error chain-status" role="alert">
                <p class="alert-title"><span aria-hidden="true">"✕ "</span>{title}</p>
                <p>{problem.detail}</p>
                <p>
                    "Records from " <a href=href>{format!("#{}", problem.seq)}</a>
                    " on cannot be trusted until this is explained. Checked at "
                    <Time at=checked /> "."
                </p>
            </div>
        }
        .into_any();
    }
    let checkpoints = plural(
        status.checkpoints,
        "signed checkpoint",
        "signed checkpoints",
    );
    // Each run of words is one string, so it reads (and is found) whole.
    let (summary, head) = if status.records == 0 {
        (" the log is empty".to_owned(), None)
    } else {
        let href = format!("/audit/{}", status.head_seq);
        let head = view! { <a href=href>{format!("#{}", status.head_seq)}</a> };
        (
            format!(" {}, head ", plural(status.records, "record", "records")),
            Some(head),
        )
    };
    let archived = status
        .first_seq
        .filter(|first| *first > 1)
        .map(|first| format!(" (from #{first}: older records were archived)"))
        .unwrap_or_default();
    let rest = format!("{archived}, {checkpoints}, checked at ");
    view! {
        <div class="alert alert-ok chain-status" role="status">
            <p>
                <span aria-hidden="true">"✓ "</span>
                <strong>"Chain verified:"</strong>
                {summary}
                {head}
                {rest}
                <Time at=checked />
                "."
            </p>
        </div>
    }
    .into_any()
}

#[component]
fn FilterForm(query: AuditQuery) -> impl IntoView {
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

#[component]
fn LogBody(data: LogData) -> impl IntoView {
    let LogData { page, query } = data;
    let mut caption = "Audit records, newest first".to_owned();
    for name in [
        "actor",
        "action",
        "resource",
        "environment",
        "outcome",
        "since",
        "until",
    ] {
        let value = field(&query, name);
        if !value.is_empty() {
            caption.push_str(&format!(", {name} {value}"));
        }
    }
    let newer = (!query.before.is_empty()).then(|| {
        view! { <a href=audit_href(&query, None)>"Newest records"</a> }
    });
    let older = page.next_before.map(|b| {
        let href = audit_href(&query, Some(&b.to_string()));
        view! { <a href=href rel="next">"Older records"</a> }
    });
    let pager =
        view! { <nav class="pager" aria-label="Pages of audit records">{newer} " " {older}</nav> };
    if page.records.is_empty() {
        let filtered = AuditQuery {
            before: String::new(),
            limit: String::new(),
            ..query.clone()
        } != AuditQuery::default();
        let message = if filtered {
            "No records match these filters."
        } else if !query.before.is_empty() {
            "No older records."
        } else {
            "No audit records yet."
        };
        return view! { <p class="empty-state">{message}</p> {pager} }.into_any();
    }
    let rows = page
        .records
        .into_iter()
        .map(|r| view! { <Row r /> })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="data audit-log">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Record"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Resource"</th>
                        <th scope="col">"Environment"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Source IP"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {pager}
    }
    .into_any()
}

#[component]
fn Row(r: AuditRecord) -> impl IntoView {
    let href = format!("/audit/{}", r.seq);
    let dash = || "–".to_owned();
    view! {
        <tr>
            <th scope="row"><a href=href aria-label=format!("Record {}", r.seq)>{format!("#{}", r.seq)}</a></th>
            <td><Time at=r.at /></td>
            <td>
                {r.actor.name.clone()}
                " "
                <span class="actor-kind">{label(r.actor.kind.as_str())}</span>
            </td>
            <td><code>{r.action.clone()}</code></td>
            <td class="audit-resource"><code>{r.resource.clone()}</code></td>
            <td>{r.environment.clone().unwrap_or_else(dash)}</td>
            <td><OutcomeBadge outcome=r.outcome /></td>
            <td>{r.source_ip.clone().unwrap_or_else(dash)}</td>
        </tr>
    }
}

/// An outcome as a word and a symbol on a tinted background; colour only
/// repeats what the word says.
#[component]
pub(crate) fn OutcomeBadge(outcome: Outcome) -> impl IntoView {
    let (tone, symbol) = match outcome {
        Outcome::Succeeded => ("ok", "✓"),
        Outcome::Denied => ("err", "⊘"),
        Outcome::Failed => ("stop", "✕"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-outcome=outcome.as_str()>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(outcome.as_str())}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_the_filters() {
        let q = AuditQuery {
            action: "run.".into(),
            outcome: "denied".into(),
            since: "2026-11-23T09:00".into(),
            limit: "2".into(),
            before: "40".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            audit_href(&q, Some("17")),
            "/audit?action=run.&outcome=denied&since=2026-11-23T09%3A00&limit=2&before=17"
        );
        assert_eq!(
            audit_href(&q, None),
            "/audit?action=run.&outcome=denied&since=2026-11-23T09%3A00&limit=2"
        );
        assert_eq!(audit_href(&AuditQuery::default(), None), "/audit");
    }

    #[test]
    fn families_come_from_the_known_actions() {
        let f = families();
        assert!(f.contains(&"run.") && f.contains(&"session."), "{f:?}");
        assert_eq!(f.iter().filter(|x| **x == "run.").count(), 1);
        assert!(f.iter().all(|x| x.ends_with('.')));
    }
}
