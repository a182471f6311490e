//! A run's steps as a table: status, attempts, timing and needs.

use super::data_table::DataTable;
use super::runs_table::Time;
use super::status_badge::StatusBadge;
use crate::time::format_duration;
use chrono::{DateTime, Utc};
use gantry_core::run::StepRun;
use leptos::prelude::*;

/// "web (build)" when a step has a display name, else its id.
pub fn step_title(step: &StepRun) -> String {
    match &step.name {
        Some(name) if name != &step.id => format!("{name} ({})", step.id),
        _ => step.id.clone(),
    }
}

/// The number of attempts, with why the last one failed.
fn attempts_text(step: &StepRun) -> String {
    if let Some(from) = &step.reused_from {
        return format!(
            "none: kept from run {}",
            crate::components::runs_table::short_id(from)
        );
    }
    let count = step.attempts.len();
    let last = step.attempts.last();
    let why = last.and_then(|a| {
        a.error.clone().or_else(|| {
            a.exit_code
                .filter(|c| *c != 0)
                .map(|c| format!("exit code {c}"))
        })
    });
    match why {
        Some(why) => format!("{count}, last: {why}"),
        None => count.to_string(),
    }
}

#[component]
pub fn StepsTable(steps: Vec<StepRun>, now: DateTime<Utc>) -> impl IntoView {
    let rows = steps
        .into_iter()
        .map(|s| {
            let duration = s
                .started_at
                .map(|start| {
                    let d = format_duration(s.finished_at.unwrap_or(now) - start);
                    if s.finished_at.is_none() {
                        format!("{d} so far")
                    } else {
                        d
                    }
                })
                .unwrap_or_else(|| "–".to_owned());
            let needs = if s.needs.is_empty() {
                "–".to_owned()
            } else {
                s.needs.join(", ")
            };
            view! {
                <tr>
                    <th scope="row">{step_title(&s)}</th>
                    <td>{s.kind.clone()}</td>
                    <td><StatusBadge status=s.status.as_str() /></td>
                    <td>{attempts_text(&s)}</td>
                    <td>{s.started_at.map(|at| view! { <Time at /> })}</td>
                    <td class="num">{duration}</td>
                    <td>{needs}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption="Each step: status, attempts and timing, in spec order" headers=&["Step", "Kind", "Status", "Attempts", "Started", "Duration", "Needs"]>
            {rows}
        </DataTable>
    }
}
