//! The landing page, the one an on-call engineer opens first: per
//! environment the workflows active there, the last day's runs and how
//! many succeeded, what is failing now and what waits for a decision; then
//! the pending promotions and the latest deployments. Auditors, who may
//! read only the audit log, are pointed there instead of being refused.
//!
//! Promotions and deployments are separate reads: if they fail, their
//! sections say so and the rest of the page still works.

use crate::api::{get_overview, get_retention, list_deployments, list_promotions, promotion_href};
use crate::components::data_table::DataTable;
use crate::components::firing_alerts::FiringAlerts;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::promotion_badges::KindBadge;
use crate::components::runs_table::{Time, short_id};
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use crate::pages::runs::encode;
use gantry_core::overview::Overview;
use gantry_core::overview::health::{EnvironmentHealth, RunTally};
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::PromotionRequest;
use gantry_core::rbac::{Action, decide};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// How many deployments the Overview lists (the ledger has the rest).
const RECENT_DEPLOYMENTS: usize = 8;

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Landing {
    Overview(Overview),
    /// The caller can't see the dashboard but can read the audit log.
    AuditOnly,
}

async fn load(shell: Shell) -> Result<Landing, AppError> {
    // Only hides what the port would refuse anyway; it still decides.
    if let Some(p) = shell.principal().await
        && !decide(&p, &Action::ViewDashboard).is_allowed()
        && decide(&p, &Action::ViewAudit).is_allowed()
    {
        return Ok(Landing::AuditOnly);
    }
    Ok(Landing::Overview(get_overview().await?))
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let shell = use_shell();
    let landing = Resource::new(|| (), move |_| load(shell));
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <Loaded resource=landing let:landing>
            {match landing {
                Landing::Overview(overview) => view! { <OverviewBody overview /> }.into_any(),
                Landing::AuditOnly => view! { <AuditOnly /> }.into_any(),
            }}
        </Loaded>
    }
}

#[component]
fn AuditOnly() -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>"Your role reads the audit log"</h2>
            <p>
                "As an auditor you see who did what and whether the record is intact, but not workflows or runs themselves."
            </p>
            <p><a href="/audit">"Open the audit log"</a></p>
        </div>
    }
}

/// "12 runs, 92% of 11 finished succeeded": the window's runs in words.
pub fn runs_sentence(runs: &RunTally) -> String {
    if runs.total == 0 {
        return "No runs".to_owned();
    }
    let noun = if runs.total == 1 { "run" } else { "runs" };
    match runs.success_ratio() {
        Some(ratio) => format!(
            "{} {noun}, {}% of {} finished succeeded",
            runs.total,
            (ratio * 100.0).round(),
            runs.finished()
        ),
        None => format!("{} {noun}, none finished with a result", runs.total),
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let hours = overview.run_window_hours;
    let nothing_active = overview.health.iter().all(|h| h.active.is_empty());
    let pipeline = overview
        .environments
        .iter()
        .map(|env| {
            let health = overview
                .health
                .iter()
                .find(|h| h.environment == env.as_str());
            let meta = match health {
                None => "Not visible with your roles".to_owned(),
                Some(h) => {
                    let failing = if h.failing.is_empty() {
                        String::new()
                    } else {
                        format!(" · {} failing", h.failing.len())
                    };
                    format!(
                        "{} active · {}{failing}",
                        h.active.len(),
                        runs_sentence(&h.runs).to_lowercase()
                    )
                }
            };
            let href = format!("#env-{env}");
            view! {
                <li class="env-card">
                    <span class="env-name">{env.to_string()}</span>
                    <span class="env-meta">{meta}</span>
                    {health.map(|_| view! { <a class="env-more" href=href>"Details"<span class="sr-only">" for " {env.to_string()}</span></a> })}
                </li>
            }
        })
        .collect_view();
    let environments = overview
        .health
        .into_iter()
        .map(|health| view! { <EnvironmentSection health hours /> })
        .collect_view();
    let system = overview.system;
    view! {
        <section aria-labelledby="envs-heading">
            <h2 id="envs-heading">"Environments"</h2>
            <p class="lead">"Workflow versions are promoted through these environments, left to right. Runs are counted over the last " {hours} " hours."</p>
            <ol class="env-pipeline">{pipeline}</ol>
        </section>
        <FiringAlerts />
        {environments}
        <PendingPromotions />
        <RecentDeployments />
        {nothing_active.then(|| view! {
            <section aria-labelledby="start-heading">
                <h2 id="start-heading">"Getting started"</h2>
                <ol class="steps">
                    <li>"Describe a workflow as a YAML DAG of shell and HTTP steps."</li>
                    <li>"Register it on the Workflows page; it becomes active in the first environment."</li>
                    <li>"Run it by hand or on a schedule, then promote it when it behaves."</li>
                </ol>
            </section>
        })}
        <section aria-labelledby="system-heading">
            <h2 id="system-heading">"This server"</h2>
            <dl class="facts">
                <dt>"Version"</dt>
                <dd>{system.version}</dd>
                <dt>"Database"</dt>
                <dd>{system.database}</dd>
                <dt>"Migrations applied"</dt>
                <dd>{system.migrations_applied}</dd>
                <RetentionFacts />
            </dl>
        </section>
    }
}

#[component]
fn EnvironmentSection(health: EnvironmentHealth, hours: u32) -> impl IntoView {
    let env = health.environment.clone();
    let heading_id = format!("env-{env}-heading");
    let labelled_by = heading_id.clone();
    let runs_href = format!("/runs?environment={}", encode(&env));
    let active = if health.active.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        let items = health
            .active
            .iter()
            .map(|a| {
                let href = format!("/workflows/{}?version={}", a.workflow, a.version);
                view! { <li><a href=href>{a.workflow.clone()} " v" {a.version}</a></li> }
            })
            .collect_view();
        view! { <ul class="inline-list">{items}</ul> }.into_any()
    };
    let failing = if health.failing.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        let items = health
            .failing
            .iter()
            .map(|f| {
                let run_href = format!("/runs/{}", f.run_id);
                view! {
                    <li>
                        <a href=format!("/workflows/{}", f.workflow)>{f.workflow.clone()}</a>
                        " v" {f.version} ": "
                        <a href=run_href aria-label=format!("Run {} of {}", short_id(&f.run_id), f.workflow)>
                            <StatusBadge status=f.status.as_str() />
                        </a>
                        {f.finished_at.map(|at| view! { " " <Time at /> })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="failing-list">{items}</ul> }.into_any()
    };
    let approvals = match health.pending_approvals {
        0 => view! { <span class="muted">"None"</span> }.into_any(),
        n => view! { <a href="/approvals">{n} " waiting for a decision"</a> }.into_any(),
    };
    let attention = match health.needs_attention {
        0 => view! { <span class="muted">"None"</span> }.into_any(),
        n => {
            let href = format!(
                "/runs?attention=1&environment={}",
                crate::pages::runs::encode(&env)
            );
            // The server counts no further than it shows.
            let count = if n > gantry_core::overview::ATTENTION_COUNTED {
                format!("More than {}", gantry_core::overview::ATTENTION_COUNTED)
            } else {
                n.to_string()
            };
            view! { <a href=href>{count} " failed " {if n == 1 { "run" } else { "runs" }} " to re-run or dismiss"</a> }
                .into_any()
        }
    };
    view! {
        <section class="env-health" id=format!("env-{env}") aria-labelledby=labelled_by data-environment=env.clone()>
            <h2 id=heading_id>{env.clone()}</h2>
            <dl class="facts">
                <dt>"Active workflows"</dt>
                <dd>{active}</dd>
                <dt>"Runs, last " {hours} " h"</dt>
                <dd><a href=runs_href>{runs_sentence(&health.runs)}</a></dd>
                <dt>"Failing now"</dt>
                <dd>{failing}</dd>
                <dt>"Run approvals"</dt>
                <dd>{approvals}</dd>
                <dt>"Needs attention"</dt>
                <dd>{attention}</dd>
            </dl>
        </section>
    }
}

/// Promotion requests waiting, oldest first (the longest wait on top).
/// The database's size and what retention would purge now, for admins and
/// auditors (others aren't asked: the port would refuse, and record it).
#[component]
fn RetentionFacts() -> impl IntoView {
    let shell = use_shell();
    let status = Resource::new(
        || (),
        move |_| async move {
            let allowed = shell
                .principal()
                .await
                .is_some_and(|p| decide(&p, &Action::ViewAdmin).is_allowed());
            if !allowed {
                return Ok::<_, AppError>(None);
            }
            get_retention().await.map(Some)
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                status
                    .get()
                    .and_then(Result::ok)
                    .flatten()
                    .map(|s| {
                        let due = &s.due;
                        let freed = if s.retention.is_off() {
                            "Kept for ever: no retention is set (--retain-runs, --retain-step-logs, --retain-notifications)".to_owned()
                        } else if due.is_empty() {
                            "Nothing is past its retention".to_owned()
                        } else {
                            format!(
                                "The next purge removes {} run(s), the step logs of {} more, and {} notification(s)",
                                due.runs,
                                due.runs_logs_purged,
                                due.notifications + due.alert_transitions,
                            )
                        };
                        view! {
                            <dt>"Database size"</dt>
                            <dd data-database-bytes=s.database_bytes>{megabytes(s.database_bytes)}</dd>
                            <dt>"Retention"</dt>
                            <dd data-retention>{freed}</dd>
                        }
                    })
            }}
        </Suspense>
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[component]
fn PendingPromotions() -> impl IntoView {
    let list = Resource::new(
        || (),
        |_| async move {
            let mut list = list_promotions(None, None, Some("pending".into())).await?;
            list.requests.sort_by_key(|r| r.created_at);
            Ok::<_, AppError>(list.requests)
        },
    );
    view! {
        <section aria-labelledby="pending-promotions-heading">
            <h2 id="pending-promotions-heading">"Pending promotions"</h2>
            <Loaded resource=list part=true let:requests>
                <PendingTable requests />
            </Loaded>
            <p><a href="/promotions">"All workflows by environment"</a></p>
        </section>
    }
}

#[component]
fn PendingTable(requests: Vec<PromotionRequest>) -> impl IntoView {
    if requests.is_empty() {
        return view! { <p class="muted">"No promotion is waiting."</p> }.into_any();
    }
    let rows = requests
        .into_iter()
        .map(|r| {
            let approvals = r.approvals.len();
            view! {
                <tr>
                    <th scope="row"><a href=promotion_href(&r.id)>{r.workflow.clone()} " v" {r.version}</a></th>
                    <td>{r.from_environment.clone()} " → " {r.to_environment.clone()}</td>
                    <td>{r.requested_by.name.clone()}</td>
                    <td><Time at=r.created_at /></td>
                    <td class="num">{approvals}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption="Promotion requests waiting, oldest first" caption_hidden=true headers=&["Request", "Move", "Asked by", "Asked at", "Approvals given"]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn RecentDeployments() -> impl IntoView {
    let list = Resource::new(
        || (),
        |_| async move {
            let mut list = list_deployments(None, None, None).await?;
            list.deployments.truncate(RECENT_DEPLOYMENTS);
            Ok::<_, AppError>(list.deployments)
        },
    );
    view! {
        <section aria-labelledby="deployments-heading">
            <h2 id="deployments-heading">"Recent deployments"</h2>
            <Loaded resource=list part=true let:deployments>
                <DeploymentsList deployments />
            </Loaded>
            <p><a href="/promotions/ledger">"The whole ledger"</a></p>
        </section>
    }
}

#[component]
fn DeploymentsList(deployments: Vec<Deployment>) -> impl IntoView {
    if deployments.is_empty() {
        return view! { <p class="muted">"Nothing deployed yet."</p> }.into_any();
    }
    let rows = deployments
        .into_iter()
        .map(|d| {
            let from = d
                .from_version
                .map_or_else(|| "–".to_owned(), |v| format!("v{v}"));
            view! {
                <tr>
                    <th scope="row"><Time at=d.at /></th>
                    <td><a href=format!("/workflows/{}", d.workflow)>{d.workflow.clone()}</a></td>
                    <td>{d.environment.clone()}</td>
                    <td>{from} " → v" {d.to_version}</td>
                    <td><KindBadge kind=d.kind /></td>
                    <td>{d.actor.name.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption="The latest deployments, newest first" caption_hidden=true headers=&["When", "Workflow", "Environment", "Versions", "How", "By"]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_read_as_a_sentence() {
        let tally = |total, succeeded, failed| RunTally {
            total,
            succeeded,
            failed,
            ..RunTally::default()
        };
        assert_eq!(runs_sentence(&tally(0, 0, 0)), "No runs");
        assert_eq!(
            runs_sentence(&tally(12, 10, 1)),
            "12 runs, 91% of 11 finished succeeded"
        );
        assert_eq!(
            runs_sentence(&tally(1, 0, 0)),
            "1 run, none finished with a result"
        );
    }
}
