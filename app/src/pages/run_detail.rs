//! One run: its status and facts, inputs, a Cancel button while it can
//! still be stopped, a timeline and a table of its steps, the secrets its
//! attempts fetched, and each step's log. While the run is going, the hydrated page follows it (see
//! [`crate::live`]); without JavaScript a note offers a reload.

use crate::api::{get_run, get_run_logs, get_run_secret_accesses};
use crate::components::cancel_form::CancelForm;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::runs_table::{Time, run_duration, short_id};
use crate::components::secret_accesses::SecretAccesses;
use crate::components::status_badge::StatusBadge;
use crate::components::step_logs::StepLogs;
use crate::components::steps_table::StepsTable;
use crate::components::timeline_svg::TimelineSvg;
use crate::error::AppError;
use crate::live::LiveRun;
use crate::route_param::route_param;
use chrono::{DateTime, Utc};
use gantry_core::Environment;
use gantry_core::rbac::{Action, decide};
use gantry_core::run::{LogPage, RunDetail};
use gantry_core::secret::AttemptSecretAccess;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunData {
    run: RunDetail,
    logs: LogPage,
    secrets: Vec<AttemptSecretAccess>,
    now: DateTime<Utc>,
    can_cancel: bool,
}

async fn load(shell: Shell, id: String) -> Result<RunData, AppError> {
    let run = get_run(id.clone()).await?;
    let logs = get_run_logs(id.clone(), None, None).await?;
    let secrets = get_run_secret_accesses(id).await?;
    let can_cancel = match (
        shell.principal().await,
        Environment::parse(&run.summary.environment),
    ) {
        (Some(p), Ok(environment)) => decide(&p, &Action::CancelRun { environment }).is_allowed(),
        _ => false,
    };
    Ok(RunData {
        run,
        logs,
        secrets,
        now: crate::time::now(),
        can_cancel,
    })
}

#[component]
pub fn RunDetailPage() -> impl IntoView {
    let shell = use_shell();
    let id = route_param("id");
    let data = Resource::new(id.clone(), move |id| load(shell, id));
    let heading = move || format!("Run {}", short_id(&id()));
    view! {
        <Title text=heading.clone() />
        <h1>{heading}</h1>
        <Loaded resource=data let:data>
            <RunView data />
        </Loaded>
    }
}

#[component]
fn RunView(data: RunData) -> impl IntoView {
    let RunData {
        run,
        logs,
        secrets,
        now,
        can_cancel,
    } = data;
    let id = run.summary.id.clone();
    let inputs = run.inputs.clone();
    let live = LiveRun::new(run, logs, secrets, now);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    // Effects run only in the browser, once hydrated.
    Effect::new(move |_| live.follow(alive.clone()));

    let run = live.run;
    let going = Memo::new(move |_| run.with(|r| !r.summary.status.is_terminal()));
    let stopping = Signal::derive(move || run.with(|r| r.summary.cancel_requested));
    let on_cancelled = Callback::new(move |summary| run.update(|r| r.summary = summary));
    let cancel = move || {
        (can_cancel && going.get()).then(|| {
            view! { <CancelForm id=id.clone() stopping on_done=on_cancelled /> }
        })
    };
    // A live region: redrawn only when what it says changes.
    let head = Memo::new(move |_| run.with(|r| (r.summary.status, r.summary.cancel_requested)));
    let status_line = move || {
        let (status, cancel_requested) = head.get();
        let note = if status.is_terminal() {
            ""
        } else if cancel_requested {
            " Stop requested; running steps are being stopped."
        } else {
            " This page updates by itself."
        };
        view! { <StatusBadge status=status.as_str() /> {note} }
    };
    let reload_hint = move || {
        going.get().then(|| {
            view! {
                <noscript inner_html="<p class=\"hint\">This run is still going. Reload the page to see its progress.</p>" />
            }
        })
    };
    view! {
        <p class="run-status" role="status">{status_line}</p>
        {reload_hint}
        {cancel}
        {move || view! { <RunFacts run=run.get() now=live.now.get() /> }}
        <Inputs inputs />
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            {move || {
                let r = run.get();
                let origin = r.summary.started_at.unwrap_or(r.summary.created_at);
                view! { <TimelineSvg steps=r.steps.clone() origin now=live.now.get() /> }
            }}
        </section>
        <section aria-labelledby="steps-heading">
            <h2 id="steps-heading">"Steps"</h2>
            {move || view! { <StepsTable steps=run.get().steps now=live.now.get() /> }}
        </section>
        <section aria-labelledby="secrets-heading">
            <h2 id="secrets-heading">"Secrets"</h2>
            {move || view! { <SecretAccesses accesses=live.secrets.get() /> }}
        </section>
        <section aria-labelledby="logs-heading">
            <h2 id="logs-heading">"Logs"</h2>
            {move || {
                run.get()
                    .logs_purged_at
                    .map(|at| {
                        view! {
                            <p class="hint" data-logs-purged>
                                "This run's step logs were deleted by the retention settings on "
                                <Time at />
                                "."
                            </p>
                        }
                    })
            }}
            <StepLogs live />
        </section>
    }
}

#[component]
fn RunFacts(run: RunDetail, now: DateTime<Utc>) -> impl IntoView {
    let s = &run.summary;
    let workflow_href = format!("/workflows/{}?version={}", s.workflow, s.version);
    let duration = run_duration(s, now);
    let finished = s.finished_at;
    // The trace the run is part of: a link when the server knows where
    // traces are shown (`--trace-link-template`), else the id to search.
    let trace = run.trace_id.clone().map(|id| {
        let shown = match run.trace_url.clone() {
            Some(url) => view! {
                <a href=url data-trace=id.clone() rel="noopener noreferrer">
                    <code>{id.clone()}</code>
                </a>
            }
            .into_any(),
            None => view! { <code data-trace=id.clone()>{id.clone()}</code> }.into_any(),
        };
        view! { <dt>"Trace"</dt> <dd>{shown}</dd> }
    });
    // Dead letters: which failed run this re-runs, and for a failed run
    // whether it still waits on the Needs attention list.
    let rerun_of = run.rerun_of.clone().map(|of| {
        let how = run.rerun_mode.map(|m| m.label()).unwrap_or("Re-run");
        let label = format!("Run {}", short_id(&of));
        view! {
            <dt>"Re-run of"</dt>
            <dd><a href=format!("/runs/{of}")><code>{label}</code></a> " (" {how} ")"</dd>
        }
    });
    let attention = run.attention.clone().map(|a| {
        let said = match (a.open, &a.rerun, &a.note) {
            (true, _, _) => {
                view! { <a href="/runs?attention=1">"Waiting on the Needs attention list"</a> }
                    .into_any()
            }
            (false, Some(rerun), _) => {
                let label = format!("run {}", short_id(rerun));
                view! {
                    "Re-run as " <a href=format!("/runs/{rerun}")><code>{label}</code></a>
                    " by " {a.closed_by.clone().unwrap_or_default()}
                }
                .into_any()
            }
            (false, None, note) => format!(
                "Dismissed by {}: {}",
                a.closed_by.clone().unwrap_or_default(),
                note.clone().unwrap_or_default()
            )
            .into_any(),
        };
        view! { <dt>"Attention"</dt> <dd>{said}</dd> }
    });
    view! {
        <dl class="facts">
            <dt>"Workflow"</dt>
            <dd><a href=workflow_href>{s.workflow.clone()}</a></dd>
            <dt>"Version"</dt>
            <dd>{s.version}</dd>
            <dt>"Environment"</dt>
            <dd>{s.environment.clone()}</dd>
            <dt>"Trigger"</dt>
            <dd>{s.trigger.as_str()}</dd>
            <dt>"Triggered by"</dt>
            <dd>{s.triggered_by.clone()}</dd>
            <dt>"Created"</dt>
            <dd><Time at=s.created_at /></dd>
            <dt>"Started"</dt>
            <dd>{match s.started_at {
                Some(at) => view! { <Time at /> }.into_any(),
                None => "not yet".into_any(),
            }}</dd>
            <dt>"Finished"</dt>
            <dd>{match finished {
                Some(at) => view! { <Time at /> }.into_any(),
                None => "not yet".into_any(),
            }}</dd>
            <dt>"Duration"</dt>
            <dd>{duration}</dd>
            {run.deadline.map(|at| view! { <dt>"Deadline"</dt> <dd><Time at /></dd> })}
            {run.error.clone().map(|e| view! { <dt>"Error"</dt> <dd class="error-text">{e}</dd> })}
            <dt>"Run id"</dt>
            <dd><code>{s.id.clone()}</code></dd>
            {rerun_of}
            {attention}
            {trace}
        </dl>
    }
}

#[component]
fn Inputs(inputs: std::collections::BTreeMap<String, serde_json::Value>) -> impl IntoView {
    let body = if inputs.is_empty() {
        view! { <p>"This run has no inputs."</p> }.into_any()
    } else {
        let items = inputs
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                view! { <dt>{k}</dt> <dd><code>{text}</code></dd> }
            })
            .collect_view();
        view! { <dl class="facts">{items}</dl> }.into_any()
    };
    view! {
        <section aria-labelledby="inputs-heading">
            <h2 id="inputs-heading">"Inputs"</h2>
            {body}
        </section>
    }
}
