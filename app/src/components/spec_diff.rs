//! What promoting a version changes in the target: new HTTP hosts and
//! secret references called out first (what an approver must not miss),
//! then the workflow's settings, inputs and steps, each field with its
//! value before and after.

use super::data_table::DataTable;
use gantry_core::promotion::diff::{Change, FieldChange, SpecDiff};
use leptos::prelude::*;

fn change_word(change: Change) -> &'static str {
    match change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
    }
}

fn value(v: Option<String>) -> AnyView {
    match v {
        Some(text) => view! { <code class="diff-value">{text}</code> }.into_any(),
        None => view! { <span class="muted">"not set"</span> }.into_any(),
    }
}

fn field_rows(fields: Vec<FieldChange>) -> impl IntoView {
    fields
        .into_iter()
        .map(|f| {
            view! {
                <tr>
                    <th scope="row"><code>{f.field}</code></th>
                    <td>{value(f.before)}</td>
                    <td>{value(f.after)}</td>
                </tr>
            }
        })
        .collect_view()
}

/// A callout for what the candidate reaches or reads that the active
/// version doesn't.
#[component]
fn NewThings(
    id: &'static str,
    title: &'static str,
    lead: &'static str,
    things: Vec<String>,
) -> impl IntoView {
    let items = things
        .into_iter()
        .map(|t| view! { <li><code>{t}</code></li> })
        .collect_view();
    view! {
        <div class="alert alert-warn diff-callout" id=id role="note" aria-label=title>
            <p class="alert-title">{title}</p>
            <p>{lead}</p>
            <ul>{items}</ul>
        </div>
    }
}

#[component]
pub fn SpecDiffView(
    diff: SpecDiff,
    /// The target environment.
    target: String,
    /// The version active there when the request was made.
    replaces: Option<u32>,
) -> impl IntoView {
    let summary = if diff.first_deployment {
        format!("Nothing is active in {target} yet: everything below is new.")
    } else if diff.is_empty() {
        match replaces {
            Some(v) => format!("No differences from version {v}, active in {target}."),
            None => format!("No differences from the version active in {target}."),
        }
    } else {
        match replaces {
            Some(v) => format!("Compared with version {v}, active in {target}."),
            None => format!("Compared with the version active in {target}."),
        }
    };
    let hosts = (!diff.new_http_hosts.is_empty()).then(|| {
        view! {
            <NewThings
                id="diff-new-hosts"
                title="New HTTP hosts"
                lead="HTTP steps of this version call hosts the active version doesn't:"
                things=diff.new_host_labels()
            />
        }
    });
    let secrets = (!diff.new_secret_references.is_empty()).then(|| {
        view! {
            <NewThings
                id="diff-new-secrets"
                title="New secret references"
                lead="This version reads secrets the active version doesn't:"
                things=diff.new_secret_references.clone()
            />
        }
    });
    let workflow = (!diff.workflow.is_empty()).then(|| {
        view! {
            <DataTable class="diff-fields" caption="Workflow settings" headers=&["Field", "Before", "After"]>
                {field_rows(diff.workflow.clone())}
            </DataTable>
        }
    });
    let inputs = (!diff.inputs.is_empty()).then(|| {
        let rows = diff
            .inputs
            .iter()
            .flat_map(|input| {
                let head = format!("{} ({})", input.name, change_word(input.change));
                input.fields.iter().map(move |f| {
                    view! {
                        <tr>
                            <th scope="row"><code>{head.clone()}</code></th>
                            <td><code>{f.field.clone()}</code></td>
                            <td>{value(f.before.clone())}</td>
                            <td>{value(f.after.clone())}</td>
                        </tr>
                    }
                })
            })
            .collect_view();
        view! {
            <DataTable class="diff-fields" caption="Inputs" headers=&["Input", "Field", "Before", "After"]>
                {rows}
            </DataTable>
        }
    });
    let steps = diff
        .steps
        .into_iter()
        .map(|step| {
            let caption = format!("Step {}: {}", step.id, change_word(step.change));
            // `DataTable` takes a static class: one per kind of change.
            let class = match step.change {
                Change::Added => "diff-fields diff-added",
                Change::Removed => "diff-fields diff-removed",
                Change::Changed => "diff-fields diff-changed",
            };
            view! {
                <DataTable class caption headers=&["Field", "Before", "After"]>
                    {field_rows(step.fields)}
                </DataTable>
            }
        })
        .collect_view();
    view! {
        <p>{summary}</p>
        {hosts}
        {secrets}
        {workflow}
        {inputs}
        {steps}
    }
}
