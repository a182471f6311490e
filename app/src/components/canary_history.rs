//! A canary's evaluations as a picture: the canary's failure-rate estimate
//! with its 95% interval as a band, stable's as a line, one column per
//! change of judgement, steps separated by a rule and the decision marked
//! by shape (not only colour) at each column.

use super::canary_bar::{counts_line, decision_label};
use gantry_core::canary::{CanaryDecision, CanaryEvaluation};
use leptos::prelude::*;

const W: f64 = 480.0;
const H: f64 = 120.0;
const PAD: f64 = 8.0;

fn mark(d: CanaryDecision, x: f64, y: f64) -> AnyView {
    match d {
        CanaryDecision::Fail => view! {
            <path d=format!("M{} {} l8 8 m0 -8 l-8 8", x - 4.0, y - 4.0) class="canary-mark mark-fail" />
        }
        .into_any(),
        CanaryDecision::Pass => {
            view! { <circle cx=x cy=y r="4" class="canary-mark mark-pass" /> }.into_any()
        }
        CanaryDecision::Inconclusive => view! {
            <rect x=x - 4.0 y=y - 4.0 width="8" height="8" class="canary-mark mark-inconclusive" />
        }
        .into_any(),
        CanaryDecision::Continue => {
            view! { <circle cx=x cy=y r="2" class="canary-mark mark-continue" /> }.into_any()
        }
    }
}

#[component]
pub fn CanaryHistory(evaluations: Vec<CanaryEvaluation>) -> impl IntoView {
    if evaluations.is_empty() {
        return view! { <p class="muted">"No evaluation yet: the canary's runs have not finished."</p> }
            .into_any();
    }
    let top = evaluations
        .iter()
        .map(|e| e.canary_rate.high.max(e.stable_rate.high))
        .fold(0.05_f64, f64::max);
    let n = evaluations.len();
    let x = |i: usize| {
        if n <= 1 {
            W / 2.0
        } else {
            PAD + i as f64 * (W - 2.0 * PAD) / (n - 1) as f64
        }
    };
    let y = |v: f64| H - PAD - (v / top).clamp(0.0, 1.0) * (H - 2.0 * PAD);
    let upper: Vec<String> = evaluations
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{:.1},{:.1}", x(i), y(e.canary_rate.high)))
        .collect();
    let lower: Vec<String> = evaluations
        .iter()
        .enumerate()
        .rev()
        .map(|(i, e)| format!("{:.1},{:.1}", x(i), y(e.canary_rate.low)))
        .collect();
    let band = format!("{} {}", upper.join(" "), lower.join(" "));
    let line = |f: fn(&CanaryEvaluation) -> f64| {
        evaluations
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{:.1},{:.1}", x(i), y(f(e))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let canary_line = line(|e| e.canary_rate.rate);
    let stable_line = line(|e| e.stable_rate.rate);
    let steps = evaluations
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0].step != w[1].step)
        .map(|(i, _)| {
            let at = (x(i) + x(i + 1)) / 2.0;
            view! { <line x1=at x2=at y1="0" y2=H class="canary-step-rule" /> }
        })
        .collect_view();
    let marks = evaluations
        .iter()
        .enumerate()
        .map(|(i, e)| mark(e.decision, x(i), y(e.canary_rate.rate)))
        .collect_view();
    let last = evaluations.last().cloned();
    let summary = format!(
        "{} evaluations; the last: {}. {}",
        n,
        last.as_ref().map_or("", |e| decision_label(e.decision)),
        last.as_ref().map(counts_line).unwrap_or_default()
    );
    let rows = evaluations
        .iter()
        .rev()
        .take(10)
        .map(|e| {
            view! {
                <li>
                    <span class="canary-decision" data-decision=decision_label(e.decision)>{decision_label(e.decision)}</span>
                    " at " {e.weight} "%: " {e.why.clone()}
                </li>
            }
        })
        .collect_view();
    view! {
        <figure class="canary-history">
            <svg viewBox=format!("0 0 {W} {H}") width=W height=H role="img" aria-label=summary>
                <polygon points=band class="canary-band" />
                <polyline points=stable_line class="canary-stable-line" />
                <polyline points=canary_line class="canary-line" />
                {steps}
                {marks}
            </svg>
            <figcaption>
                "Failure rate of the canary (its 95% interval shaded) and of stable, at each change of judgement; "
                "rules separate the plan's steps. Up to " {format!("{:.0}%", top * 100.0)} "."
            </figcaption>
            <ol class="canary-evaluations" reversed>{rows}</ol>
        </figure>
    }
    .into_any()
}
