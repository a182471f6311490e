//! The landing page: the environment pipeline, how to get started and what
//! this server runs on.

use crate::api::get_overview;
use crate::components::loaded::Loaded;
use gantry_core::overview::Overview;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <Loaded resource=overview let:overview>
            <OverviewBody overview />
        </Loaded>
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
