//! A rule's backtest as a picture: one row per workflow × environment it
//! would have watched, the span (7 or 30 days) left to right, a red bar
//! for each stretch it would have been firing, from the firing moment to
//! its resolve (or to now). The sentence above and the list below say the
//! same in words.

use super::runs_table::Time;
use crate::time::format_time;
use chrono::{DateTime, Utc};
use gantry_core::alert::view::BacktestView;
use leptos::prelude::*;

const LABEL_W: i64 = 170;
const CHART_W: i64 = 520;
const AXIS_H: i64 = 22;
const ROW_H: i64 = 24;
const BAR_H: i64 = 12;
/// Rows drawn at most (the list below names them all).
const MAX_ROWS: usize = 20;

/// One stretch of firing: `(x, width)`, and whether it was still firing at
/// the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    pub x: i64,
    pub width: i64,
    pub open: bool,
}

/// Where in the chart `at` falls.
fn x_of(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let span = (to - from).num_seconds().max(1);
    let offset = (at - from).num_seconds().clamp(0, span);
    LABEL_W + offset * CHART_W / span
}

/// The firing stretches of one instance's moments (oldest first).
pub fn stretches(
    moments: &[gantry_core::alert::Moment],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Stretch> {
    let mut out = Vec::new();
    let mut start: Option<DateTime<Utc>> = None;
    for m in moments {
        match (m.what.as_str(), start) {
            ("firing", None) => start = Some(m.at),
            ("resolved", Some(s)) => {
                let x = x_of(s, from, to);
                out.push(Stretch {
                    x,
                    width: (x_of(m.at, from, to) - x).max(3),
                    open: false,
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        let x = x_of(s, from, to);
        out.push(Stretch {
            x,
            width: (LABEL_W + CHART_W - x).max(3),
            open: true,
        });
    }
    out
}

fn times(n: u32) -> String {
    match n {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    }
}

#[component]
pub fn BacktestResult(backtest: BacktestView) -> impl IntoView {
    let BacktestView {
        days,
        from,
        to,
        runs,
        fired,
        resolved,
        instances,
    } = backtest;
    let sentence = if runs == 0 {
        format!(
            "No finished runs in the last {days} days for this rule to judge. The pass kinds (run too long, missed schedule, queue backlog, authentication failures, privilege escalation, SLO burn) judge the moment, not a run history, so they have no backtest."
        )
    } else {
        let fired_text = if fired == 0 {
            "would not have fired".to_owned()
        } else {
            format!("would have fired {}", times(fired))
        };
        let resolved_text = match (fired, resolved) {
            (0, _) => String::new(),
            (_, 0) => " and has not resolved since".to_owned(),
            (_, n) => format!(" and resolved {}", times(n)),
        };
        let runs_text = if runs == 1 {
            "1 run".to_owned()
        } else {
            format!("{runs} runs")
        };
        format!("Over the last {days} days ({runs_text}), this rule {fired_text}{resolved_text}.")
    };
    let shown: Vec<_> = instances.iter().take(MAX_ROWS).cloned().collect();
    let height = AXIS_H + shown.len().max(1) as i64 * ROW_H + 4;
    let width = LABEL_W + CHART_W + 10;
    let rows = shown
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let y = AXIS_H + i as i64 * ROW_H;
            let bars = stretches(&inst.result.moments, from, to)
                .into_iter()
                .map(|s| {
                    let class = if s.open { "backtest-bar backtest-open" } else { "backtest-bar" };
                    view! { <rect class=class x=s.x y=y + (ROW_H - BAR_H) / 2 width=s.width height=BAR_H rx="2" /> }
                })
                .collect_view();
            let label = format!("{} · {}", inst.workflow, inst.environment);
            view! {
                <text class="backtest-label" x="0" y=y + ROW_H / 2 + 4>{label}</text>
                <line class="backtest-track" x1=LABEL_W x2=LABEL_W + CHART_W y1=y + ROW_H / 2 y2=y + ROW_H / 2 />
                {bars}
            }
        })
        .collect_view();
    let ticks = [0i64, 1, 2]
        .into_iter()
        .map(|q| {
            let x = LABEL_W + CHART_W * q / 2;
            let at = from + (to - from) * (q as i32) / 2;
            let text = at.format("%b %d").to_string();
            view! {
                <line class="timeline-grid" x1=x x2=x y1=AXIS_H - 4 y2=height />
                <text class="timeline-tick" x=x y=AXIS_H - 8 text-anchor="middle">{text}</text>
            }
        })
        .collect_view();
    let description = format!(
        "From {} to {}: each row is a workflow in an environment; a red bar marks a stretch the rule would have been firing. The list below has the same moments.",
        format_time(from),
        format_time(to)
    );
    let moments = instances
        .iter()
        .flat_map(|inst| {
            inst.result.moments.iter().map(move |m| {
                (
                    m.at,
                    m.what.clone(),
                    inst.workflow.clone(),
                    inst.environment.clone(),
                )
            })
        })
        .collect::<Vec<_>>();
    let list = (!moments.is_empty()).then(|| {
        let items = moments
            .into_iter()
            .map(|(at, what, workflow, env)| {
                let shown = what.clone();
                view! { <li data-moment=what><Time at /> " · " {shown} " · " {workflow} " in " {env}</li> }
            })
            .collect_view();
        view! {
            <details class="backtest-moments">
                <summary>"Every moment"</summary>
                <ul>{items}</ul>
            </details>
        }
    });
    view! {
        <section class="backtest" aria-labelledby="backtest-heading" data-fired=fired data-resolved=resolved>
            <h2 id="backtest-heading">"Backtest"</h2>
            <p class="backtest-summary" role="status">{sentence}</p>
            {(!shown.is_empty()).then(|| view! {
                <svg class="backtest-svg" role="img" aria-labelledby="backtest-svg-title backtest-svg-desc" viewBox=format!("0 0 {width} {height}") width=width height=height>
                    <title id="backtest-svg-title">"When the rule would have fired, last " {days} " days"</title>
                    <desc id="backtest-svg-desc">{description}</desc>
                    {ticks}
                    {rows}
                </svg>
            })}
            {list}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::alert::Moment;

    #[test]
    fn firing_stretches_run_to_their_resolve_or_to_the_end() {
        let from = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let to = from + chrono::Duration::days(2);
        let m = |h: i64, what: &str| Moment {
            at: from + chrono::Duration::hours(h),
            what: what.into(),
        };
        let s = stretches(
            &[m(12, "firing"), m(24, "resolved"), m(36, "firing")],
            from,
            to,
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].x, LABEL_W + CHART_W / 4);
        assert_eq!(s[0].width, CHART_W / 4);
        assert!(!s[0].open);
        assert!(s[1].open);
        assert_eq!(s[1].x + s[1].width, LABEL_W + CHART_W);
        assert_eq!(times(1), "once");
        assert_eq!(times(0), "0 times");
    }
}
