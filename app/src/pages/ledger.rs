//! The deployment ledger: every move of a workflow's active version, newest
//! first, filtered by a GET form (bookmarkable, works without JavaScript);
//! with a moment given, the versions active then. With a workflow chosen,
//! its history per environment as a picture, and the same as a table.

use crate::api::{DeploymentList, list_deployments, list_workflow_names, promotion_href};
use crate::components::data_table::DataTable;
use crate::components::history_svg::HistorySvg;
use crate::components::layout::use_shell;
use crate::components::loaded::Loaded;
use crate::components::promotion_badges::{KindBadge, VerificationBadge, kind_label};
use crate::components::runs_table::Time;
use crate::error::AppError;
use crate::time::format_time;
use gantry_core::promotion::ledger::{ActivePeriod, Deployment, active_periods};
use gantry_core::promotion::verification::Verification;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The filters as they are in the URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Filters {
    workflow: String,
    environment: String,
    at: String,
}

impl Filters {
    fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Choices {
    workflows: Vec<String>,
    environments: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LedgerData {
    filters: Filters,
    list: DeploymentList,
    /// The chosen workflow's whole history (every environment, every row,
    /// oldest first), for the picture.
    history: Option<Vec<(String, Vec<ActivePeriod>)>>,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Each environment's periods from a workflow's rows (newest first, as the
/// ledger answers), in `environments` order, leaving out environments it
/// was never active in.
fn history_of(rows: &[Deployment], environments: &[String]) -> Vec<(String, Vec<ActivePeriod>)> {
    let oldest_first: Vec<Deployment> = rows.iter().rev().cloned().collect();
    environments
        .iter()
        .map(|env| (env.clone(), active_periods(&oldest_first, env)))
        .filter(|(_, periods)| !periods.is_empty())
        .collect()
}

async fn load(filters: Filters, environments: Vec<String>) -> Result<LedgerData, AppError> {
    let list = list_deployments(
        some(&filters.workflow),
        some(&filters.environment),
        some(&filters.at),
    )
    .await?;
    let history = match filters.workflow.as_str() {
        "" => None,
        workflow => {
            // The list is the whole history already unless narrowed further.
            let rows = if filters.environment.is_empty() && filters.at.is_empty() {
                list.deployments.clone()
            } else {
                list_deployments(Some(workflow.to_owned()), None, None)
                    .await?
                    .deployments
            };
            Some(history_of(&rows, &environments))
        }
    };
    Ok(LedgerData {
        filters,
        list,
        history,
    })
}

#[component]
pub fn LedgerPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default().trim().to_owned();
        Filters {
            workflow: get("workflow"),
            environment: get("environment"),
            at: get("at"),
        }
    });
    let shell = use_shell();
    let choices = Resource::new(
        || (),
        move |_| async move {
            Ok::<_, AppError>(Choices {
                workflows: list_workflow_names().await?,
                environments: shell
                    .environments()
                    .await
                    .into_iter()
                    .map(|e| e.to_string())
                    .collect(),
            })
        },
    );
    // Both resources are made here, at the top, so the server and the
    // browser number them alike (a resource made inside another's result
    // can be paired with the wrong serialized value when hydrating).
    let data = Resource::new(
        move || filters.get(),
        move |f| async move {
            let environments = shell
                .environments()
                .await
                .into_iter()
                .map(|e| e.to_string())
                .collect();
            load(f, environments).await
        },
    );
    view! {
        <Title text="Deployment ledger" />
        <h1>"Deployment ledger"</h1>
        <p class="lead">
            "Every move of a workflow's active version: applies, promotions and rollbacks, with who, when and why. Rows are never changed or deleted."
        </p>
        <p><a href="/promotions">"Back to promotions"</a></p>
        <Loaded resource=choices let:choices>
            <Ledger filters choices data />
        </Loaded>
    }
}

#[component]
fn Ledger(
    filters: Memo<Filters>,
    choices: Choices,
    data: Resource<Result<LedgerData, AppError>>,
) -> impl IntoView {
    view! {
        // Drawn again when the URL changes (a link followed in the
        // browser), so the form shows the filters in force.
        {move || view! { <FilterForm choices=choices.clone() filters=filters.get() /> }}
        <Loaded resource=data let:data>
            <LedgerBody data />
        </Loaded>
    }
}

#[component]
fn FilterForm(choices: Choices, filters: Filters) -> impl IntoView {
    let select = |name: &'static str, text: &'static str, options: Vec<String>, current: String| {
        let id = format!("ledger-{name}");
        let options = options
            .into_iter()
            .map(|value| {
                let selected = value == current;
                view! { <option value=value.clone() selected=selected prop:selected=selected>{value.clone()}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{text}</label>
                <select id=id name=name>
                    <option value="" selected=current.is_empty()>"Any"</option>
                    {options}
                </select>
            </div>
        }
    };
    let workflows = select("workflow", "Workflow", choices.workflows, filters.workflow);
    let environments = select(
        "environment",
        "Environment",
        choices.environments,
        filters.environment,
    );
    view! {
        <form method="get" action="/promotions/ledger" class="filters" role="search" aria-label="Filter the ledger">
            {workflows}
            {environments}
            <div class="field">
                <label for="ledger-at">"Active at (UTC)"</label>
                <input id="ledger-at" name="at" type="datetime-local" value=filters.at aria-describedby="ledger-at-hint" />
            </div>
            <div class="actions">
                <button type="submit">"Show"</button>
                <a href="/promotions/ledger">"Clear filters"</a>
            </div>
            <p class="hint filters-hint" id="ledger-at-hint">
                "With a moment, the ledger shows the deployment in force then for each workflow and environment: which version was active."
            </p>
        </form>
    }
}

#[component]
fn LedgerBody(data: LedgerData) -> impl IntoView {
    let LedgerData {
        filters,
        list,
        history,
    } = data;
    let picture = history.map(|history| {
        let workflow = filters.workflow.clone();
        if history.is_empty() {
            return view! { <p class="muted">{workflow} " was never active anywhere."</p> }
                .into_any();
        }
        view! {
            <section aria-labelledby="history-heading">
                <h2 id="history-heading">"History of " {workflow.clone()}</h2>
                <HistorySvg workflow=workflow.clone() history=history.clone() now=list.now />
                <PeriodsTable workflow history />
            </section>
        }
        .into_any()
    });
    let mut caption = if filters.at.is_empty() {
        "Deployments, newest first".to_owned()
    } else {
        format!(
            "Deployments in force at {} (UTC)",
            filters.at.replace('T', " ")
        )
    };
    for (what, value) in [
        ("workflow", &filters.workflow),
        ("environment", &filters.environment),
    ] {
        if !value.is_empty() {
            caption.push_str(&format!(", {what} {value}"));
        }
    }
    let table = if list.deployments.is_empty() {
        let text = if filters.is_empty() {
            "Nothing deployed yet. Applying a workflow makes its first deployment."
        } else {
            "No deployments match these filters."
        };
        view! { <p class="empty-state">{text}</p> }.into_any()
    } else {
        view! { <DeploymentsTable deployments=list.deployments verifications=list.verifications caption /> }
            .into_any()
    };
    view! {
        {picture}
        <section aria-labelledby="ledger-heading">
            <h2 id="ledger-heading">"Deployments"</h2>
            {table}
        </section>
    }
}

#[component]
fn DeploymentsTable(
    deployments: Vec<Deployment>,
    verifications: Vec<Verification>,
    caption: String,
) -> impl IntoView {
    let rows = deployments
        .into_iter()
        .map(|d| {
            let verification = verifications
                .iter()
                .find(|v| v.deployment_id == d.id)
                .cloned()
                .map(|verification| view! { " " <VerificationBadge verification /> });
            let from = d
                .from_version
                .map_or_else(|| "–".to_owned(), |v| format!("v{v}"));
            let approvers = if d.approvers.is_empty() {
                "–".to_owned()
            } else {
                d.approvers
                    .iter()
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let request = d.request_id.clone().map(|id| {
                view! { <a href=promotion_href(&id)>"Request"</a> }
            });
            view! {
                <tr data-deployment=d.id.clone() data-kind=d.kind.as_str()>
                    <th scope="row"><Time at=d.at /></th>
                    <td><a href=format!("/workflows/{}", d.workflow)>{d.workflow.clone()}</a></td>
                    <td>{d.environment.clone()}</td>
                    <td>{from} " → v" {d.to_version}</td>
                    <td><KindBadge kind=d.kind />{verification}</td>
                    <td>{d.actor.name.clone()}</td>
                    <td class="approval-reason">
                        {d.reason.clone().unwrap_or_default()}
                        {d.freeze_break.clone().map(|b| view! {
                            <span class="badge badge-warn freeze-break" title=format!("frozen until {}", b.frozen_until.format("%Y-%m-%d %H:%M UTC"))>
                                " Through a freeze, broken by " {b.by.name.clone()} ": " {b.reason.clone()}
                            </span>
                        })}
                    </td>
                    <td>{approvers}</td>
                    <td>{request}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="ledger" caption headers=&["When", "Workflow", "Environment", "Versions", "How", "By", "Reason", "Approved by", "From"]>
            {rows}
        </DataTable>
    }
}

/// The picture's text alternative: each version's time as the active one.
#[component]
fn PeriodsTable(workflow: String, history: Vec<(String, Vec<ActivePeriod>)>) -> impl IntoView {
    let rows = history
        .into_iter()
        .flat_map(|(env, periods)| {
            periods.into_iter().map(move |p| {
                let until = match p.until {
                    Some(at) => format_time(at),
                    None => "now".to_owned(),
                };
                let ended = if p.rolled_back {
                    "Rolled back"
                } else if p.until.is_some() {
                    "Replaced"
                } else {
                    "Active"
                };
                view! {
                    <tr data-rolled-back=p.rolled_back.to_string()>
                        <th scope="row">{env.clone()}</th>
                        <td>"v" {p.version}</td>
                        <td><Time at=p.from /></td>
                        <td>{until}</td>
                        <td>{kind_label(p.kind)}</td>
                        <td>{ended}</td>
                    </tr>
                }
            })
        })
        .collect_view();
    view! {
        <DataTable class="periods" caption=format!("Versions of {workflow} active per environment, oldest first") headers=&["Environment", "Version", "From", "Until", "Became active by", "Ended"]>
            {rows}
        </DataTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use gantry_core::approval::Person;
    use gantry_core::promotion::ledger::DeploymentKind;

    fn row(env: &str, from: Option<u32>, to: u32, kind: DeploymentKind, h: i64) -> Deployment {
        Deployment {
            id: format!("{env}-{to}-{h}"),
            workflow: "report".into(),
            environment: env.into(),
            from_version: from,
            to_version: to,
            kind,
            actor: Person {
                id: "u".into(),
                name: "Oscar".into(),
            },
            at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(h),
            reason: None,
            request_id: None,
            approvers: vec![],
            checklist: None,
            freeze_break: None,
        }
    }

    #[test]
    fn history_is_read_oldest_first_per_environment_in_order() {
        // Newest first, as the ledger answers.
        let rows = vec![
            row("prod", Some(2), 1, DeploymentKind::Rollback, 4),
            row("prod", Some(1), 2, DeploymentKind::Promotion, 3),
            row("prod", None, 1, DeploymentKind::Promotion, 2),
            row("dev", Some(1), 2, DeploymentKind::Apply, 1),
            row("dev", None, 1, DeploymentKind::Apply, 0),
        ];
        let envs = ["dev".to_owned(), "stage".to_owned(), "prod".to_owned()];
        let history = history_of(&rows, &envs);
        let names: Vec<&str> = history.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names, ["dev", "prod"]);
        let prod: Vec<(u32, bool)> = history[1]
            .1
            .iter()
            .map(|p| (p.version, p.rolled_back))
            .collect();
        assert_eq!(prod, [(1, false), (2, true), (1, false)]);
    }
}
