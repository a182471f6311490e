//! The audit log: whether the hash chain verifies, filters in a GET form
//! (bookmarkable, works without JavaScript), a table of records newest
//! first, and cursor pagination.
//!
//! The chain status is loaded first and gates the rest: a caller who may not
//! read the log sees one "Not allowed" message (and leaves one denial in the
//! log), not one per section.

use super::runs::encode;
use crate::api::{AuditQuery, get_audit_status, list_audit};
use crate::components::audit_filters::FilterForm;
use crate::components::chain_banner::ChainBanner;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::components::status_badge::{OutcomeBadge, label};
use crate::error::AppError;
use gantry_core::audit::{AuditPage, AuditRecord};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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

pub(crate) fn field<'a>(q: &'a AuditQuery, name: &str) -> &'a str {
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
        <DataTable class="audit-log" caption headers=&["Record", "Time", "Actor", "Action", "Resource", "Environment", "Outcome", "Source IP"]>
            {rows}
        </DataTable>
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
}
