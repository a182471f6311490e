//! Per-step log output: a disclosure per step (open for failed and running
//! steps), each line with its time, stream and text. New lines are appended
//! in place while the run is followed, so open/closed state and scroll
//! position survive updates.

use super::status_badge::StatusBadge;
use super::steps_table::step_title;
use crate::live::LiveRun;
use crate::time::{format_clock, iso};
use gantry_core::run::{LogLine, StepStatus};
use leptos::prelude::*;

#[component]
pub fn StepLogs(live: LiveRun) -> impl IntoView {
    let run = live.run;
    let logs = live.logs.get_value();
    if logs.is_empty() {
        return view! { <p>"This run has no steps."</p> }.into_any();
    }
    logs.into_iter()
        .map(|log| {
            let step_id = log.step.clone();
            let lines = log.lines;
            let status = {
                let step_id = step_id.clone();
                Memo::new(move |_| {
                    run.with(|r| r.steps.iter().find(|s| s.id == step_id).map(|s| s.status))
                })
            };
            let title = run.with_untracked(|r| {
                r.steps
                    .iter()
                    .find(|s| s.id == step_id)
                    .map(step_title)
                    .unwrap_or_else(|| step_id.clone())
            });
            let open = matches!(
                status.get_untracked(),
                Some(StepStatus::Failed | StepStatus::TimedOut | StepStatus::Running)
            );
            let count = move || match lines.with(Vec::len) {
                0 => "no output".to_owned(),
                1 => "1 line".to_owned(),
                n => format!("{n} lines"),
            };
            view! {
                <details class="step-log" open=open>
                    <summary>
                        <span class="step-log-name">{title}</span>
                        " "
                        {move || status.get().map(|s| view! { <StatusBadge status=s.as_str() /> })}
                        " "
                        <span class="muted">{count}</span>
                    </summary>
                    <pre class="log" tabindex="0" aria-label=format!("Output of {step_id}")>
                        <For each=move || lines.get() key=|l| (l.attempt, l.seq) let:line>
                            <LogRow line />
                        </For>
                    </pre>
                </details>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn LogRow(line: LogLine) -> impl IntoView {
    let class = format!("log-line log-{}", line.stream.as_str());
    let attempt = (line.attempt > 1).then(|| format!(" #{}", line.attempt));
    view! {
        <span class=class>
            <time class="log-time" datetime=iso(line.at)>{format_clock(line.at)}</time>
            " "
            <span class="log-stream">{line.stream.as_str()}{attempt}</span>
            " "
            {line.text}
            "\n"
        </span>
    }
}
