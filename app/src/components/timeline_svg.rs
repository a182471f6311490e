//! A run's steps on a time axis: one row per step, a bar from its start to
//! its finish (or to now while it runs), relative to the run's start. Bars
//! are coloured by status, and each row also says its status in words.

use super::status_badge::{label, tone};
use crate::time::format_duration;
use chrono::{DateTime, Duration, Utc};
use gantry_core::run::{StepRun, StepStatus};
use leptos::prelude::*;

const LABEL_W: i64 = 150;
const CHART_W: i64 = 480;
const TEXT_W: i64 = 170;
const AXIS_H: i64 = 22;
const ROW_H: i64 = 24;
const BAR_H: i64 = 14;

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineLayout {
    pub width: i64,
    pub height: i64,
    pub rows: Vec<Row>,
    /// (x, label) of the axis marks.
    pub ticks: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub status: StepStatus,
    pub y: i64,
    /// `(x, width)` of the bar; `None` for a step that never started.
    pub bar: Option<(i64, i64)>,
    /// Written after the bar: duration and, unless it succeeded, the status.
    pub text: String,
    pub text_x: i64,
}

/// `origin` is when the run started; `now` ends the bars of running steps.
pub fn layout(steps: &[StepRun], origin: DateTime<Utc>, now: DateTime<Utc>) -> TimelineLayout {
    let end_of = |s: &StepRun| s.finished_at.or(s.started_at.map(|_| now));
    let span = steps
        .iter()
        .filter_map(end_of)
        .map(|end| end - origin)
        .max()
        .unwrap_or_default()
        .max(Duration::seconds(1));
    let span_ms = span.num_milliseconds().max(1);
    let scale = |d: Duration| (d.num_milliseconds().clamp(0, span_ms) * CHART_W) / span_ms;
    let rows = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let y = AXIS_H + i as i64 * ROW_H;
            let status = s.status;
            match (s.started_at, end_of(s)) {
                (Some(start), Some(end)) => {
                    let x = LABEL_W + scale(start - origin);
                    let width = (scale(end - origin) - scale(start - origin)).max(2);
                    let mut text = format_duration(end - start);
                    if status != StepStatus::Succeeded {
                        text = format!("{text} · {}", label(status.as_str()).to_lowercase());
                    }
                    Row {
                        id: s.id.clone(),
                        status,
                        y,
                        bar: Some((x, width)),
                        text,
                        text_x: x + width + 6,
                    }
                }
                _ => Row {
                    id: s.id.clone(),
                    status,
                    y,
                    bar: None,
                    text: label(status.as_str()),
                    text_x: LABEL_W,
                },
            }
        })
        .collect();
    let ticks = [0, 1, 2]
        .into_iter()
        .map(|q| {
            let d = Duration::milliseconds(span_ms * q / 2);
            (LABEL_W + CHART_W * q / 2, format_duration(d))
        })
        .collect();
    TimelineLayout {
        width: LABEL_W + CHART_W + TEXT_W,
        height: AXIS_H + steps.len() as i64 * ROW_H + 4,
        rows,
        ticks,
    }
}

#[component]
pub fn TimelineSvg(
    steps: Vec<StepRun>,
    origin: DateTime<Utc>,
    now: DateTime<Utc>,
) -> impl IntoView {
    let l = layout(&steps, origin, now);
    let span = l.ticks.last().map(|t| t.1.clone()).unwrap_or_default();
    let description = format!(
        "{} steps over {span}. Each bar runs from the step's start to its end, measured from the start of the run; the step table below has the same data.",
        steps.len()
    );
    let ticks = l
        .ticks
        .iter()
        .map(|(x, text)| {
            view! {
                <line class="timeline-grid" x1=*x x2=*x y1=AXIS_H - 4 y2=l.height />
                <text class="timeline-tick" x=*x y=AXIS_H - 8 text-anchor="middle">{text.clone()}</text>
            }
        })
        .collect_view();
    let rows = l
        .rows
        .iter()
        .map(|r| {
            let mid = r.y + ROW_H / 2;
            let bar = r.bar.map(|(x, w)| {
                let class = format!("timeline-bar tone-{}", tone(r.status.as_str()));
                view! { <rect class=class x=x y=mid - BAR_H / 2 width=w height=BAR_H rx="3" /> }
            });
            view! {
                <g class="timeline-row">
                    <title>{format!("{}: {}", r.id, r.text)}</title>
                    <text class="timeline-label" x=LABEL_W - 8 y=mid text-anchor="end" dominant-baseline="central">
                        {r.id.clone()}
                    </text>
                    {bar}
                    <text class="timeline-text" x=r.text_x y=mid dominant-baseline="central">{r.text.clone()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <div class="timeline-scroll" tabindex="0" role="region" aria-label="Step timeline">
            <svg
                class="timeline"
                role="img"
                aria-labelledby="timeline-title timeline-desc"
                viewBox=format!("0 0 {} {}", l.width, l.height)
                width=l.width
                height=l.height
            >
                <title id="timeline-title">"Step timeline"</title>
                <desc id="timeline-desc">{description}</desc>
                {ticks}
                {rows}
            </svg>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn step(id: &str, status: StepStatus, start: Option<i64>, end: Option<i64>) -> StepRun {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        StepRun {
            id: id.into(),
            name: None,
            kind: "shell".into(),
            needs: vec![],
            status,
            attempts: vec![],
            outputs: Default::default(),
            started_at: start.map(|s| t0 + Duration::seconds(s)),
            finished_at: end.map(|s| t0 + Duration::seconds(s)),
            reused_from: None,
        }
    }

    #[test]
    fn bars_are_placed_relative_to_the_run_start() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let steps = [
            step("a", StepStatus::Succeeded, Some(0), Some(10)),
            step("b", StepStatus::Running, Some(10), None),
            step("c", StepStatus::Pending, None, None),
        ];
        let l = layout(&steps, t0, t0 + Duration::seconds(20));
        assert_eq!(l.rows[0].bar, Some((LABEL_W, CHART_W / 2)));
        assert_eq!(l.rows[1].bar, Some((LABEL_W + CHART_W / 2, CHART_W / 2)));
        assert_eq!(l.rows[0].text, "10.0 s");
        assert_eq!(l.rows[1].text, "10.0 s · running");
        assert_eq!(l.rows[2].bar, None);
        assert_eq!(l.rows[2].text, "Pending");
        assert_eq!(l.ticks.last().map(|t| t.1.as_str()), Some("20.0 s"));
    }

    #[test]
    fn an_empty_or_instant_run_still_has_a_scale() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let l = layout(&[], t0, t0);
        assert!(l.rows.is_empty());
        assert_eq!(l.ticks[2].1, "1.0 s");
        let l = layout(
            &[step("a", StepStatus::Succeeded, Some(0), Some(0))],
            t0,
            t0,
        );
        assert_eq!(l.rows[0].bar, Some((LABEL_W, 2)));
    }
}
