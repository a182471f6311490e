//! The landing page: the environment pipeline, how to get started and what
//! this server runs on. Auditors, who may read only the audit log, are
//! pointed there instead of being refused.

use crate::api::get_overview;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::error::AppError;
use gantry_core::overview::Overview;
use gantry_core::rbac::{Action, decide};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

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

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let envs = overview.environments;
    let pipeline = envs
        .iter()
        .map(|env| {
            view! {
                <li class="env-card">
                    <span class="env-name">{env.to_string()}</span>
                    <span class="env-meta">"No active workflows yet"</span>
                </li>
            }
        })
        .collect_view();
    let system = overview.system;
    view! {
        <section aria-labelledby="envs-heading">
            <h2 id="envs-heading">"Environments"</h2>
            <p class="lead">"Workflow versions are promoted through these environments, left to right."</p>
            <ol class="env-pipeline">{pipeline}</ol>
        </section>
        <section aria-labelledby="start-heading">
            <h2 id="start-heading">"Getting started"</h2>
            <ol class="steps">
                <li>"Describe a workflow as a YAML DAG of shell and HTTP steps."</li>
                <li>"Register it on the Workflows page; it becomes active in the first environment."</li>
                <li>"Run it by hand or on a schedule, then promote it when it behaves."</li>
            </ol>
        </section>
        <section aria-labelledby="system-heading">
            <h2 id="system-heading">"This server"</h2>
            <dl class="facts">
                <dt>"Version"</dt>
                <dd>{system.version}</dd>
                <dt>"Database"</dt>
                <dd>{system.database}</dd>
                <dt>"Migrations applied"</dt>
                <dd>{system.migrations_applied}</dd>
            </dl>
        </section>
    }
}
