//! A table of runs, used by the Runs page and a workflow's page, and the
//! pieces other pages show runs and times with: [`short_id`],
//! [`run_duration`] and [`Time`].

use super::data_table::DataTable;
use super::status_badge::StatusBadge;
use crate::time::{format_duration, format_time, iso};
use chrono::{DateTime, Utc};
use gantry_core::run::RunSummary;
use leptos::prelude::*;

/// The part of a run id people read. Run ids are UUIDv7, whose first
/// characters are a timestamp shared by runs of the same minute; the last
/// eight are random, so they tell runs apart.
pub fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

/// How long a run took, or has been going ("12.0 s so far"); a dash before
/// it starts.
pub fn run_duration(run: &RunSummary, now: DateTime<Utc>) -> String {
    match run.duration_at(now) {
        Some(d) if run.finished_at.is_none() => format!("{} so far", format_duration(d)),
        Some(d) => format_duration(d),
        None => "–".to_owned(),
    }
}

/// A time as text inside `<time datetime=…>`.
#[component]
pub fn Time(at: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=iso(at)>{format_time(at)}</time> }
}

/// `now` measures runs that are still going; it comes with the data so the
/// server and the hydrating browser agree.
#[component]
pub fn RunsTable(
    runs: Vec<RunSummary>,
    #[prop(into)] caption: String,
    now: DateTime<Utc>,
) -> impl IntoView {
    let rows = runs
        .into_iter()
        .map(|r| {
            let duration = run_duration(&r, now);
            let href = format!("/runs/{}", r.id);
            let label = format!("Run {}", short_id(&r.id));
            let workflow_href = format!("/workflows/{}?version={}", r.workflow, r.version);
            view! {
                <tr>
                    <th scope="row"><a href=href><code>{label}</code></a></th>
                    <td>
                        <a href=workflow_href>{r.workflow.clone()} " v" {r.version}</a>
                    </td>
                    <td>{r.environment.clone()}</td>
                    <td>
                        <StatusBadge status=r.status.as_str() />
                        {r.cancel_requested.then_some(" (stopping)")}
                    </td>
                    <td>{r.trigger.as_str()}</td>
                    <td>{r.triggered_by.clone()}</td>
                    <td><Time at=r.created_at /></td>
                    <td class="num">{duration}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable caption headers=&["Run", "Workflow", "Environment", "Status", "Trigger", "Triggered by", "Created", "Duration"]>
            {rows}
        </DataTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_the_random_tail() {
        assert_eq!(short_id("0193a1b2-7c3d-7e4f-8a5b-6c7d8e9fa0b1"), "8e9fa0b1");
        assert_eq!(short_id("abc"), "abc");
    }
}
