//! A canary at a glance: a bar filled to its weight with the plan's steps
//! marked on it, its state, and the two failure rates as intervals side by
//! side (the canary's against stable's), with the analysis's sentence.
//! Text says everything the picture shows, for screen readers and for
//! anyone who would rather read.

use gantry_core::canary::{Canary, CanaryDecision, CanaryEvaluation, CanaryState};
use leptos::prelude::*;

const W: f64 = 240.0;
const BAR_H: f64 = 14.0;

fn state_label(state: CanaryState) -> &'static str {
    match state {
        CanaryState::Running => "Running",
        CanaryState::Paused => "Paused",
        CanaryState::Promoted => "Promoted",
        CanaryState::RolledBack => "Rolled back",
        CanaryState::Aborted => "Aborted",
    }
}

fn tone(state: CanaryState) -> &'static str {
    match state {
        CanaryState::Running => "run",
        CanaryState::Paused => "wait",
        CanaryState::Promoted => "ok",
        CanaryState::RolledBack | CanaryState::Aborted => "stop",
    }
}

pub fn decision_label(d: CanaryDecision) -> &'static str {
    match d {
        CanaryDecision::Pass => "pass",
        CanaryDecision::Fail => "fail",
        CanaryDecision::Continue => "continue",
        CanaryDecision::Inconclusive => "inconclusive",
    }
}

pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The counts and rates of an evaluation as one line.
pub fn counts_line(e: &CanaryEvaluation) -> String {
    format!(
        "Canary {}/{} failed ({}, 95% interval {}–{}); stable {}/{} ({}, {}–{})",
        e.canary.failures,
        e.canary.runs,
        percent(e.canary_rate.rate),
        percent(e.canary_rate.low),
        percent(e.canary_rate.high),
        e.stable.failures,
        e.stable.runs,
        percent(e.stable_rate.rate),
        percent(e.stable_rate.low),
        percent(e.stable_rate.high),
    )
}

/// Failure-rate intervals on a shared scale: the larger upper bound (at
/// least 5%) spans the width.
#[component]
fn RateBars(evaluation: CanaryEvaluation) -> impl IntoView {
    let e = evaluation;
    let top = e.canary_rate.high.max(e.stable_rate.high).max(0.05);
    let x = |v: f64| (v / top * (W - 60.0)).clamp(0.0, W - 60.0) + 56.0;
    let row = |y: f64, label: &'static str, class: &'static str, r: (f64, f64, f64)| {
        view! {
            <text x="0" y=y + 4.0 class="canary-rate-label">{label}</text>
            <line x1=x(r.1) x2=x(r.2) y1=y y2=y class=format!("canary-interval {class}") />
            <circle cx=x(r.0) cy=y r="3" class=format!("canary-estimate {class}") />
        }
    };
    let summary = counts_line(&e);
    view! {
        <svg class="canary-rates" viewBox=format!("0 0 {W} 34") width=W height="34" role="img" aria-label=summary>
            {row(9.0, "canary", "arm-canary", (e.canary_rate.rate, e.canary_rate.low, e.canary_rate.high))}
            {row(25.0, "stable", "arm-stable", (e.stable_rate.rate, e.stable_rate.low, e.stable_rate.high))}
        </svg>
    }
}

/// `compact`: the Promotions board's cell (bar and one line).
#[component]
pub fn CanaryBar(canary: Canary, #[prop(optional)] compact: bool) -> impl IntoView {
    let c = canary;
    let filled = W * f64::from(c.weight.min(100)) / 100.0;
    let ticks = c
        .policy
        .steps
        .iter()
        .map(|s| {
            let x = W * f64::from(s.weight) / 100.0;
            view! { <line x1=x x2=x y1="0" y2=BAR_H class="canary-step" /> }
        })
        .collect_view();
    let state = c.state;
    let label = format!(
        "Canary of version {} at {}% of runs in {}: {}",
        c.canary_version,
        c.weight,
        c.environment,
        state_label(state).to_lowercase()
    );
    let step = format!(
        "step {} of {}",
        (c.step as usize + 1).min(c.policy.steps.len().max(1)),
        c.policy.steps.len()
    );
    let last = c.last.clone();
    let decision = last.as_ref().map(|e| {
        view! {
            <span class="canary-decision" data-decision=decision_label(e.decision)>
                "Analysis: " {decision_label(e.decision)}
            </span>
        }
    });
    let details = (!compact).then(|| {
        let why = c
            .why
            .clone()
            .map(|w| view! { <p class="canary-why">{w}</p> });
        let last = last.clone().map(|e| {
            let line = counts_line(&e);
            let durations = e
                .durations
                .clone()
                .map(|d| view! { <p class="canary-durations">{d.why}</p> });
            view! {
                <RateBars evaluation=e.clone() />
                <p class="canary-counts">{line}</p>
                <p class="canary-analysis">{e.why.clone()}</p>
                {durations}
            }
        });
        view! { {why} {last} }
    });
    let compact_line = compact.then(|| {
        last.as_ref().map(|e| {
            view! {
                <span class="canary-counts">
                    "Canary " {e.canary.failures} "/" {e.canary.runs} " failed, stable "
                    {e.stable.failures} "/" {e.stable.runs}
                </span>
            }
        })
    });
    view! {
        <div class="canary" data-canary=c.id.clone() data-state=state.as_str()>
            <p class="canary-head">
                <span class=format!("badge badge-{}", tone(state))>{state_label(state)}</span>
                " Canary v" {c.canary_version} " · " <strong class="canary-weight">{c.weight} "%"</strong>
                " of runs · " {step}
                {c.held.then(|| view! { " · " <span class="canary-held">"holding promotions"</span> })}
            </p>
            <svg class="canary-bar" viewBox=format!("0 0 {W} {BAR_H}") width=W height=BAR_H role="img" aria-label=label>
                <rect x="0" y="0" width=W height=BAR_H class="canary-track" />
                <rect x="0" y="0" width=filled height=BAR_H class=format!("canary-fill canary-{}", tone(state)) />
                {ticks}
            </svg>
            {decision}
            {compact_line}
            {details}
        </div>
    }
}
