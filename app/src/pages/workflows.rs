//! The workflows list: every registered workflow, where each is active, its
//! schedule and its last run. Admins can register a new one here, or
//! import a signed bundle another installation exported (docs/bundles.md).

use crate::api::{PlainImport, WORKFLOWS_PAGE, list_workflows};
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
    /// When this page answers a bundle upload: what came of it.
    imported: Option<PlainImport>,
}

async fn load(shell: Shell, imported: Option<PlainImport>) -> Result<WorkflowsData, AppError> {
    let workflows = list_workflows().await?;
    let environments = shell.environments().await;
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
        imported,
    })
}

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let shell = use_shell();
    let imported = use_context::<PlainImport>();
    let data = Resource::new(
        || (),
        move |_| {
            let imported = imported.clone();
            load(shell, imported)
        },
    );
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
    // The upload's answer shows even to someone refused it.
    let import = (data.can_apply || data.imported.is_some()).then(|| {
        view! { <BundleImportForm imported=data.imported.clone() show_form=data.can_apply /> }
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
        {import}
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

/// Uploading a bundle file: a plain multipart form, so it works without
/// JavaScript; the answer is this page with the outcome or the refusal.
#[component]
fn BundleImportForm(imported: Option<PlainImport>, show_form: bool) -> impl IntoView {
    let outcome = imported.map(|plain| match plain.result {
        Ok(outcome) => {
            let lines = outcome
                .describe()
                .into_iter()
                .map(|line| view! { <li>{line}</li> })
                .collect_view();
            let href = format!("/workflows/{}", outcome.workflow);
            view! {
                <div class="alert alert-ok" role="status">
                    <p>"Bundle imported: " <a href=href>{outcome.workflow.clone()}</a></p>
                    <ul>{lines}</ul>
                </div>
            }
            .into_any()
        }
        Err(err) => {
            let file = plain.file_name.unwrap_or_else(|| "The bundle".to_owned());
            view! {
                <div class="alert alert-error" role="alert" id="bundle-error">
                    <p>{format!("{file} was refused: {err}")}</p>
                    <p>"Nothing was imported."</p>
                </div>
            }
            .into_any()
        }
    });
    view! {
        <section aria-labelledby="import-heading">
            <h2 id="import-heading">"Import a bundle"</h2>
            <p>
                "A signed bundle another Gantry installation exported ("
                <code>"gantry export --workflow NAME --env ENV --signing-key FILE"</code>
                "). Its hashes and signature are checked against this server's trusted keys; its "
                "versions are registered here active nowhere, and pass this installation's own gates."
            </p>
            <div aria-live="polite">{outcome}</div>
            {show_form.then(|| view! {
                <form
                    method="post"
                    action=WORKFLOWS_PAGE
                    enctype="multipart/form-data"
                    class="form bundle-form"
                >
                    <div class="field">
                        <label for="bundle-file">"Bundle file"</label>
                        <input
                            id="bundle-file"
                            name="bundle"
                            type="file"
                            accept=".json,application/json"
                            required
                        />
                    </div>
                    <button type="submit">"Import"</button>
                </form>
            })}
        </section>
    }
}
