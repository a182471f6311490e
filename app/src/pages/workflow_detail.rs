//! One workflow: where it is active, with the Promote and Roll back forms
//! per environment, a form to run it, its step graph, its steps' secret
//! references (and where each resolves), its recent runs, its versions and
//! the spec of the version shown.

use crate::api::{
    BoardAt, RequestPromotion, RollBack, get_promotion_board, get_secret_coverage, get_workflow,
};
use crate::components::dag_svg::DagSvg;
use crate::components::data_table::DataTable;
use crate::components::firing_alerts::FiringAlerts;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::promotion_actions::{Powers, id_part, load_powers};
use crate::components::promotion_cell::CellBody;
use crate::components::run_form::RunForm;
use crate::components::runs_table::{RunsTable, Time};
use crate::components::secret_references::SecretReferences;
use crate::components::workflow_slos::WorkflowSlos;
use crate::error::AppError;
use crate::pages::promotions::ActionOutcome;
use crate::route_param::route_param;
use crate::time::format_time;
use chrono::{DateTime, Utc};
use gantry_core::Environment;
use gantry_core::promotion::view::BoardRow;
use gantry_core::rbac::{Action, decide};
use gantry_core::secret::{SecretCoverage, step_secret_rows};
use gantry_core::workflow::{VersionInfo, WorkflowDetail};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct DetailData {
    detail: WorkflowDetail,
    /// Where the caller may start the version shown: it is active there and
    /// their roles allow running there.
    run_envs: Vec<String>,
    /// Which provider answers where; read only when the version shown
    /// declares secrets. Loaded with the rest (one resource: see the
    /// Ledger page on resources made inside another's result).
    coverage: Option<SecretCoverage>,
    now: DateTime<Utc>,
}

async fn load(shell: Shell, name: String, version: Option<u32>) -> Result<DetailData, AppError> {
    let detail = get_workflow(name, version).await?;
    let principal = shell.principal().await;
    let run_envs = detail
        .summary
        .active
        .iter()
        .filter(|a| a.version == detail.shown.version)
        .filter(|a| match (&principal, Environment::parse(&a.environment)) {
            (Some(p), Ok(environment)) => {
                decide(p, &Action::TriggerRun { environment }).is_allowed()
            }
            _ => false,
        })
        .map(|a| a.environment.clone())
        .collect();
    let coverage = if detail.spec.steps.iter().any(|s| !s.secrets.is_empty()) {
        Some(get_secret_coverage().await?)
    } else {
        None
    };
    Ok(DetailData {
        detail,
        run_envs,
        coverage,
        now: crate::time::now(),
    })
}

#[component]
pub fn WorkflowDetailPage() -> impl IntoView {
    let shell = use_shell();
    let query = use_query_map();
    let name = route_param("name");
    let version = move || {
        query
            .read()
            .get("version")
            .and_then(|v| v.parse::<u32>().ok())
    };
    let data = Resource::new(
        {
            let name = name.clone();
            move || (name(), version())
        },
        move |(name, version)| load(shell, name, version),
    );
    view! {
        <Title text=name.clone() />
        <h1>{name.clone()}</h1>
        <WorkflowSlos name=Signal::derive(name) />
        <Loaded resource=data let:data>
            <WorkflowBody data />
        </Loaded>
    }
}

#[component]
fn WorkflowBody(data: DetailData) -> impl IntoView {
    let DetailData {
        detail,
        run_envs,
        coverage,
        now,
    } = data;
    let name = detail.summary.name.clone();
    let shown = detail.shown.version;
    let latest = detail.summary.latest_version;
    let which = if shown == latest {
        format!("Showing version {shown}, the latest.")
    } else {
        format!("Showing version {shown} of {latest}.")
    };
    view! {
        {detail.summary.description.clone().map(|d| view! { <p class="lead">{d}</p> })}
        <p>{which}</p>
        <ActiveVersions detail=detail.clone() />
        <FiringAlerts workflow=name.clone() />
        <PromotionSection name=name.clone() />
        <section aria-labelledby="run-heading">
            <h2 id="run-heading">"Run version " {shown}</h2>
            <RunSection detail=detail.clone() run_envs />
        </section>
        <section aria-labelledby="graph-heading">
            <h2 id="graph-heading">"Step graph"</h2>
            <DagSvg spec=detail.spec.clone() />
        </section>
        {coverage.map(|coverage| view! { <SecretsSection detail=detail.clone() coverage /> })}
        <section aria-labelledby="recent-heading">
            <h2 id="recent-heading">"Recent runs"</h2>
            {if detail.recent_runs.is_empty() {
                view! { <p>"No runs yet."</p> }.into_any()
            } else {
                view! {
                    <RunsTable runs=detail.recent_runs.clone() caption=format!("Recent runs of {name}") now />
                    <p><a href=format!("/runs?workflow={name}")>"All runs of " {name.clone()}</a></p>
                }
                .into_any()
            }}
        </section>
        <section aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Versions"</h2>
            <VersionsTable name=name.clone() versions=detail.versions.clone() shown />
        </section>
        <section aria-labelledby="spec-heading">
            <h2 id="spec-heading">"Spec of version " {shown}</h2>
            <pre class="source" tabindex="0" aria-labelledby="spec-heading"><code>{detail.source.clone()}</code></pre>
        </section>
    }
}

#[component]
fn SecretsSection(detail: WorkflowDetail, coverage: SecretCoverage) -> impl IntoView {
    let environments = coverage
        .environments
        .iter()
        .map(|e| e.environment.clone())
        .collect();
    let rows = step_secret_rows(&detail.spec, &coverage);
    view! {
        <section aria-labelledby="secrets-heading">
            <h2 id="secrets-heading">"Secrets of version " {detail.shown.version}</h2>
            <p>
                "Fetched from their provider when an attempt starts, never stored; "
                <code>"{env}"</code> " and " <code>"{workflow}"</code>
                " in a reference are filled in per run."
            </p>
            <SecretReferences rows environments />
        </section>
    }
}

#[component]
fn ActiveVersions(detail: WorkflowDetail) -> impl IntoView {
    let summary = detail.summary;
    if summary.active.is_empty() {
        return view! { <p>"Not active in any environment."</p> }.into_any();
    }
    let has_schedule = summary.schedule.is_some();
    let items = summary
        .active
        .into_iter()
        .map(|a| {
            let schedule = has_schedule.then(|| match (a.schedule_enabled, a.next_fire_at) {
                (true, Some(next)) => format!(", schedule on, next run {}", format_time(next)),
                (true, None) => ", schedule on".to_owned(),
                (false, _) => ", schedule paused".to_owned(),
            });
            view! {
                <dt>{a.environment.clone()}</dt>
                <dd>
                    <a href=format!("?version={}", a.version)>"Version " {a.version}</a>
                    {schedule}
                </dd>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="active-heading">
            <h2 id="active-heading">"Active versions"</h2>
            {summary.schedule.map(|s| view! { <p>"Schedule: " <code>{s}</code></p> })}
            <dl class="facts">{items}</dl>
        </section>
    }
    .into_any()
}

/// The workflow's row of the Promotions page, one environment after the
/// other. A separate read: when it fails, this section says so and the
/// rest of the page works.
#[component]
fn PromotionSection(name: String) -> impl IntoView {
    let shell = use_shell();
    let request = ServerAction::<RequestPromotion>::new();
    let roll = ServerAction::<RollBack>::new();
    let workflow = name.clone();
    let data = Resource::new(
        move || (request.version().get(), roll.version().get()),
        move |_| {
            let workflow = workflow.clone();
            async move {
                let BoardAt { board, .. } = get_promotion_board().await?;
                let powers = load_powers(shell, &board.environments).await;
                let row = board.rows.into_iter().find(|r| r.workflow == workflow);
                Ok::<_, AppError>((row, powers))
            }
        },
    );
    let ledger = format!("/promotions/ledger?workflow={name}");
    view! {
        <section aria-labelledby="promotion-heading">
            <h2 id="promotion-heading">"Promotion"</h2>
            <ActionOutcome request roll />
            <Loaded resource=data part=true let:data>
                <PromotionCells row=data.0 powers=data.1 request roll />
            </Loaded>
            <p><a href=ledger>"History in the deployment ledger"</a></p>
        </section>
    }
}

#[component]
fn PromotionCells(
    row: Option<BoardRow>,
    powers: Powers,
    request: ServerAction<RequestPromotion>,
    roll: ServerAction<RollBack>,
) -> impl IntoView {
    let Some(row) = row else {
        return view! { <p>"Not active in any environment."</p> }.into_any();
    };
    let items = row
        .cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let id = format!("wf-cell-{}", id_part(&cell.environment));
            view! {
                <dt>{cell.environment.clone()}</dt>
                <dd id=id data-environment=cell.environment.clone()>
                    <CellBody
                        workflow=row.workflow.clone()
                        cell=cell.clone()
                        next=row.cells.get(i + 1).cloned()
                        powers=powers.clone()
                        request
                        roll
                    />
                </dd>
            }
        })
        .collect_view();
    view! { <dl class="facts env-cells">{items}</dl> }.into_any()
}

#[component]
fn RunSection(detail: WorkflowDetail, run_envs: Vec<String>) -> impl IntoView {
    if run_envs.is_empty() {
        let active: Vec<String> = detail
            .summary
            .active
            .iter()
            .map(|a| format!("{} (version {})", a.environment, a.version))
            .collect();
        let why = if detail
            .summary
            .active
            .iter()
            .any(|a| a.version == detail.shown.version)
        {
            "Starting runs needs the operator or admin role in an environment where this version is active.".to_owned()
        } else if active.is_empty() {
            "This workflow is not active in any environment yet.".to_owned()
        } else {
            format!(
                "This version is not active anywhere. Runs use the active version: {}.",
                active.join(", ")
            )
        };
        return view! { <p>{why}</p> }.into_any();
    }
    let inputs = detail.spec.inputs.clone().into_iter().collect();
    view! { <RunForm workflow=detail.summary.name.clone() inputs environments=run_envs /> }
        .into_any()
}

#[component]
fn VersionsTable(name: String, versions: Vec<VersionInfo>, shown: u32) -> impl IntoView {
    let rows = versions
        .into_iter()
        .map(|v| {
            let href = format!("/workflows/{name}?version={}", v.version);
            let current = (v.version == shown).then_some("page");
            let short: String = v.content_hash.chars().take(12).collect();
            view! {
                <tr>
                    <th scope="row">
                        <a href=href aria-current=current>"Version " {v.version}</a>
                    </th>
                    <td><code title=v.content_hash.clone()>{short}</code></td>
                    <td><Time at=v.created_at /></td>
                    <td>{v.created_by.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption=format!("Versions of {name}, newest first") headers=&["Version", "Content hash", "Created", "Created by"]>
            {rows}
        </DataTable>
    }
}
