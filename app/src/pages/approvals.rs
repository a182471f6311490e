//! Approvals: the inbox of requests waiting for a second person, and the
//! history of those decided or left to expire.

use crate::api::{ApprovalList, approval_href, list_approvals};
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::{Time, short_id};
use crate::components::status_badge::ApprovalBadge;
use chrono::{DateTime, Utc};
use gantry_core::approval::{ApprovalRequest, ApprovalStatus, Person};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_approvals(None));
    view! {
        <Title text="Approvals" />
        <h1>"Approvals"</h1>
        <p class="lead">
            "Runs asked for in environments that need a second person. Someone other than the requester, holding the approver or admin role there, approves or rejects each one within 24 hours."
        </p>
        <Loaded resource=list let:list>
            <Sections list />
        </Loaded>
    }
}

#[component]
fn Sections(list: ApprovalList) -> impl IntoView {
    let ApprovalList { requests, now } = list;
    let (inbox, history): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(|r| r.status_at(now) == ApprovalStatus::Pending);
    view! {
        <section aria-labelledby="inbox-heading">
            <h2 id="inbox-heading">"Inbox"</h2>
            <Inbox requests=inbox />
        </section>
        <section aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <History requests=history now />
        </section>
    }
}

fn who(p: &Person) -> String {
    p.name.clone()
}

fn reason_view(reason: Option<String>) -> AnyView {
    match reason {
        Some(r) => view! { <span class="approval-reason">{r}</span> }.into_any(),
        None => view! { <span class="muted">"none given"</span> }.into_any(),
    }
}

/// The workflow and version asked for, linked to that version.
fn workflow_link(r: &ApprovalRequest) -> impl IntoView + use<> {
    let href = format!("/workflows/{}?version={}", r.workflow, r.version);
    view! { <a href=href>{r.workflow.clone()} " v" {r.version}</a> }
}

#[component]
fn Inbox(requests: Vec<ApprovalRequest>) -> impl IntoView {
    if requests.is_empty() {
        return view! { <p class="empty-state">"Nothing is waiting for approval."</p> }.into_any();
    }
    let rows = requests
        .into_iter()
        .map(|r| {
            let href = approval_href(&r.id);
            let label = format!("Request {}", short_id(&r.id));
            view! {
                <tr>
                    <th scope="row"><a href=href><code>{label}</code></a></th>
                    <td>{workflow_link(&r)}</td>
                    <td>{r.environment.clone()}</td>
                    <td>{who(&r.requested_by)}</td>
                    <td>{reason_view(r.reason.clone())}</td>
                    <td><Time at=r.created_at /></td>
                    <td><Time at=r.expires_at /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="approvals" caption="Requests waiting for a decision, newest first" headers=&["Request", "Workflow", "Environment", "Requested by", "Reason", "Asked at", "Expires at"]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn History(requests: Vec<ApprovalRequest>, now: DateTime<Utc>) -> impl IntoView {
    if requests.is_empty() {
        return view! { <p class="empty-state">"No request has been decided yet."</p> }.into_any();
    }
    let rows = requests
        .into_iter()
        .map(|r| {
            let href = approval_href(&r.id);
            let label = format!("Request {}", short_id(&r.id));
            let status = r.status_at(now);
            let decided_by = match &r.decided_by {
                Some(p) => who(p).into_any(),
                None => view! { <span class="muted">"nobody"</span> }.into_any(),
            };
            let comment = match r.comment.clone() {
                Some(c) => view! { <span class="approval-comment">{c}</span> }.into_any(),
                None => view! { <span class="muted">"none"</span> }.into_any(),
            };
            let run = match r.run_id.clone() {
                Some(id) => {
                    let text = format!("Run {}", short_id(&id));
                    view! { <a href=format!("/runs/{id}")><code>{text}</code></a> }.into_any()
                }
                None => view! { <span class="muted">"no run"</span> }.into_any(),
            };
            view! {
                <tr>
                    <th scope="row"><a href=href><code>{label}</code></a></th>
                    <td>{workflow_link(&r)}</td>
                    <td>{r.environment.clone()}</td>
                    <td>{who(&r.requested_by)}</td>
                    <td><ApprovalBadge status /></td>
                    <td>{decided_by}</td>
                    <td>{comment}</td>
                    <td>{run}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="approvals" caption="Decided and expired requests, newest first" headers=&["Request", "Workflow", "Environment", "Requested by", "Outcome", "Decided by", "Comment", "Run"]>
            {rows}
        </DataTable>
    }
    .into_any()
}
