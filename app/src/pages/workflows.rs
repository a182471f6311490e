//! The workflows list: every registered workflow, where each is active, its
//! schedule and its last run. Admins can register a new one here.

use crate::api::{get_overview, list_workflows};
use crate::components::apply_form::ApplyForm;
use crate::components::data_table::DataTable;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::runs_table::{Time, short_id};
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use gantry_core::rbac::{Action, decide};
use gantry_core::workflow::WorkflowSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WorkflowsData {
    workflows: Vec<WorkflowSummary>,
    /// Configured environments, in promotion order: one column each.
    environments: Vec<String>,
    can_apply: bool,
}

async fn load(shell: Shell) -> Result<WorkflowsData, AppError> {
    let workflows = list_workflows().await?;
    let environments: Vec<_> = get_overview().await?.environments;
    let can_apply = match (shell.principal().await, environments.first()) {
        (Some(p), Some(first)) => decide(
            &p,
            &Action::ApplyWorkflow {
                environment: first.clone(),
            },
        )
        .is_allowed(),
        _ => false,
    };
    Ok(WorkflowsData {
        workflows,
        environments: environments.iter().map(ToString::to_string).collect(),
        can_apply,
    })
}

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let shell = use_shell();
    let data = Resource::new(|| (), move |_| load(shell));
    view! {
        <Title text="Workflows" />
        <h1>"Workflows"</h1>
        <p class="lead">"Workflow definitions, their versions and where each version is active."</p>
        <Loaded resource=data let:data>
            <WorkflowsBody data />
        </Loaded>
    }
}

#[component]
fn WorkflowsBody(data: WorkflowsData) -> impl IntoView {
    let empty = data.workflows.is_empty();
    let register = data.can_apply.then(|| {
        view! {
            <section aria-labelledby="register-heading">
                <h2 id="register-heading">"Register a workflow"</h2>
                <ApplyForm />
            </section>
        }
    });
    let list = if empty {
        view! {
            <section class="empty-state" aria-labelledby="empty-heading">
                <h2 id="empty-heading">"No workflows yet"</h2>
                <p>
                    "Describe a workflow as a YAML file of steps and register it from a terminal with "
                    <code>"gantry apply -f FILE"</code>
                    (if data.can_apply { ", or paste it into the form below." } else { "." })
                </p>
                {(!data.can_apply).then(|| view! {
                    <p>"Registering workflows needs the admin role."</p>
                })}
            </section>
        }
        .into_any()
    } else {
        view! { <WorkflowsTable workflows=data.workflows environments=data.environments /> }
            .into_any()
    };
    view! {
        {list}
        {register}
    }
}

#[component]
fn WorkflowsTable(workflows: Vec<WorkflowSummary>, environments: Vec<String>) -> impl IntoView {
    let headers: Vec<String> = ["Name".to_owned(), "Description".to_owned()]
        .into_iter()
        .chain(environments.iter().map(|e| format!("Active in {e}")))
        .chain(["Schedule".to_owned(), "Last run".to_owned()])
        .collect();
    let rows = workflows
        .into_iter()
        .map(|w| {
            let active = environments
                .iter()
                .map(|env| {
                    match w.active.iter().find(|a| &a.environment == env) {
                        Some(a) => {
                            let paused = (w.schedule.is_some() && !a.schedule_enabled)
                                .then_some(" (schedule paused)");
                            view! { <td>"v" {a.version} {paused}</td> }.into_any()
                        }
                        None => view! {
                            <td><span aria-hidden="true">"–"</span><span class="sr-only">"not active"</span></td>
                        }
                        .into_any(),
                    }
                })
                .collect_view();
            let schedule = match &w.schedule {
                Some(s) => view! { <code>{s.clone()}</code> }.into_any(),
                None => view! { <span class="muted">"manual only"</span> }.into_any(),
            };
            let last = match &w.last_run {
                Some(r) => {
                    let href = format!("/runs/{}", r.id);
                    view! {
                        <StatusBadge status=r.status.as_str() />
                        " "
                        <a href=href>{format!("Run {}", short_id(&r.id))}</a>
                        <br />
                        <Time at=r.created_at />
                    }
                    .into_any()
                }
                None => view! { <span class="muted">"never run"</span> }.into_any(),
            };
            let href = format!("/workflows/{}", w.name);
            view! {
                <tr>
                    <th scope="row"><a href=href>{w.name.clone()}</a></th>
                    <td>{w.description.clone().unwrap_or_default()}</td>
                    {active}
                    <td>{schedule}</td>
                    <td>{last}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption="Registered workflows" headers>
            {rows}
        </DataTable>
    }
}
