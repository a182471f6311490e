//! One workflow's SLO in one environment: per objective the SLI against its
//! target, the error budget left (a bar and in words), an honest note when
//! the window holds too few runs for the target to mean anything, the burn
//! rate in every window with the alert pairs that hold, and the hourly burn
//! rate of the last week as a chart; then the runs that spent budget. The
//! hydrated page keeps itself current ([`crate::live_slo`]).

use crate::api::get_slo;
use crate::components::burn_chart::{BurnChart, times};
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::{Time, short_id};
use crate::components::slo_figures::{
    BudgetBar, decision_text, objective_name, objective_title, percent, volume_sentence,
};
use crate::components::status_badge::StatusBadge;
use crate::live_slo::LiveSlo;
use crate::route_param::route_param;
use crate::time::format_duration;
use gantry_core::slo::view::{BadRun, ObjectiveDetail, ObjectiveSummary, SloStatus};
use gantry_core::slo::{Budget, ObjectiveKind, Severity};
use leptos::prelude::*;
use leptos_meta::Title;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[component]
pub fn SloPage() -> impl IntoView {
    let name = route_param("name");
    let environment = route_param("environment");
    let data = Resource::new(
        {
            let (name, environment) = (name.clone(), environment.clone());
            move || (name(), environment())
        },
        |(name, environment)| get_slo(name, environment),
    );
    let heading = {
        let name = name.clone();
        move || format!("SLO of {} in {}", name(), environment())
    };
    let back = {
        let name = name.clone();
        move || format!("/workflows/{}", name())
    };
    view! {
        <Title text=heading.clone() />
        <h1>{heading}</h1>
        <p><a href=back>"Back to " {name}</a></p>
        <Loaded resource=data let:status>
            <SloView status />
        </Loaded>
    }
}

#[component]
fn SloView(status: SloStatus) -> impl IntoView {
    let live = LiveSlo::new(status);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    // Effects run only in the browser, once hydrated.
    Effect::new(move |_| live.follow(alive.clone()));
    let status = live.status;
    // A live region: redrawn only when the decision changes.
    let decision = Memo::new(move |_| status.with(|s| s.summary.decision));
    view! {
        <p class="lead">
            {move || status.with(|s| format!("{} (version {} active here).", s.summary.description, s.summary.version))}
        </p>
        <p class="slo-decision" role="status">
            {move || decision_text(decision.get())}
            " Figures as of "
            {move || view! { <Time at=live.at.get() /> }}
            "; this page updates by itself."
        </p>
        {move || {
            let s = status.get();
            let window = s.summary.window.to_string();
            s.summary
                .objectives
                .iter()
                .zip(s.objectives.iter())
                .map(|(summary, detail)| {
                    view! {
                        <Objective summary=summary.clone() detail=detail.clone() window=window.clone() />
                    }
                })
                .collect_view()
        }}
        <section aria-labelledby="bad-runs-heading">
            <h2 id="bad-runs-heading">"Runs that spent budget"</h2>
            {move || status.with(|s| view! {
                <BadRuns runs=s.bad_runs.clone() limited=s.bad_runs_limited window=s.summary.window.to_string() />
            })}
        </section>
    }
}

#[component]
fn Objective(summary: ObjectiveSummary, detail: ObjectiveDetail, window: String) -> impl IntoView {
    let name = objective_name(summary.objective);
    let id = match summary.objective {
        ObjectiveKind::Success => "success",
        ObjectiveKind::Duration => "duration",
    };
    let heading_id = format!("objective-{id}-heading");
    let target = summary.target.to_string();
    let sli = match (summary.sli, summary.counts.total()) {
        (Some(sli), total) => format!(
            "SLI {} against a target of {target}: {} good of {total} runs over the last {window}.",
            percent(sli),
            summary.counts.good
        ),
        (None, _) => format!("No run counted over the last {window}: no SLI yet."),
    };
    let budget_words = match detail.budget {
        Budget::NoData => "Error budget: nothing measured yet.".to_owned(),
        Budget::Measured(f) => {
            let left = if f.bad_runs_left >= 0 {
                format!("{} more bad runs fit", f.bad_runs_left)
            } else {
                format!("{} bad runs over", -f.bad_runs_left)
            };
            format!(
                "{} of the error budget left: {} bad of {} allowed ({left}).",
                percent(f.remaining),
                f.counts.bad,
                f.allowed_bad
            )
        }
    };
    let bar_label = match summary.budget_remaining {
        Some(r) => format!("{} of the {name} objective's error budget left", percent(r)),
        None => format!("The {name} objective's error budget: no data"),
    };
    let volume_text = volume_sentence(&target, &window, &detail.volume);
    let volume_class = if detail.volume.too_few {
        "alert alert-warn slo-volume"
    } else {
        "hint slo-volume"
    };
    let labelled_by = heading_id.clone();
    view! {
        <section class="slo-objective" aria-labelledby=labelled_by data-objective=id>
            <h2 id=heading_id>{objective_title(&summary)}</h2>
            <p class="slo-sli">{sli}</p>
            <div class="slo-budget">
                <BudgetBar remaining=summary.budget_remaining label=bar_label />
                <p>{budget_words}</p>
            </div>
            <p class=volume_class role="note">{volume_text}</p>
            <BurnTable name detail=detail.clone() />
            <PairsTable name detail=detail.clone() />
            <BurnChart id objective=name points=detail.history.clone() />
        </section>
    }
}

#[component]
fn BurnTable(name: &'static str, detail: ObjectiveDetail) -> impl IntoView {
    let rows = detail
        .burn
        .iter()
        .map(|w| {
            let rate = w.burn_rate.map_or_else(|| "no runs".to_owned(), times);
            view! {
                <tr>
                    <th scope="row">{w.window.label()}</th>
                    <td>{w.counts.total()}</td>
                    <td>{w.counts.bad}</td>
                    <td>{rate}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            class="slo-burn"
            caption=format!("Burn rates of the {name} objective, per window ending now")
            headers=&["Window", "Runs", "Bad", "Burn rate"]
        >
            {rows}
        </DataTable>
    }
}

#[component]
fn PairsTable(name: &'static str, detail: ObjectiveDetail) -> impl IntoView {
    let rows = detail
        .pairs
        .iter()
        .map(|p| {
            let severity = match p.severity {
                Severity::Page => "page",
                Severity::Ticket => "ticket",
            };
            let holds = if p.holds { "holds" } else { "no" };
            view! {
                <tr data-holds=p.holds.to_string()>
                    <th scope="row">{format!("{}/{}", p.long.label(), p.short.label())}</th>
                    <td>{severity}</td>
                    <td>{times(p.factor)}</td>
                    <td>{holds}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            class="slo-pairs"
            caption=format!("Alert pairs of the {name} objective: both windows must burn faster than the factor")
            headers=&["Windows", "Severity", "Factor", "Now"]
        >
            {rows}
        </DataTable>
    }
}

#[component]
fn BadRuns(runs: Vec<BadRun>, limited: bool, window: String) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p>"No run spent budget in the last " {window} "."</p> }.into_any();
    }
    let shown = runs.len();
    let rows = runs
        .into_iter()
        .map(|r| {
            let href = format!("/runs/{}", r.id);
            let label = format!("Run {}", short_id(&r.id));
            let duration = r.duration_ms.map_or_else(
                || "never started".to_owned(),
                |ms| {
                    format_duration(chrono::Duration::milliseconds(
                        ms.try_into().unwrap_or(i64::MAX),
                    ))
                },
            );
            let spent = r
                .spent
                .iter()
                .map(|o| objective_name(*o))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr>
                    <th scope="row"><a href=href><code>{label}</code></a></th>
                    <td><StatusBadge status=r.status.as_str() /></td>
                    <td><Time at=r.finished_at /></td>
                    <td>{duration}</td>
                    <td>{spent}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            class="slo-bad-runs"
            caption=format!("Runs that spent budget in the last {window}, newest first")
            headers=&["Run", "Status", "Finished", "Duration", "Spent budget of"]
        >
            {rows}
        </DataTable>
        {limited.then(|| view! {
            <p class="hint">"Showing the newest " {shown} " only; the burn-rate table counts them all."</p>
        })}
    }
    .into_any()
}
