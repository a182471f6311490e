//! An objective's burn rate over time: one bar per hour of the last week
//! (the runs that finished in it; no bar when none did), with the alert
//! pairs' factors (14.4×, 6×, 3×, 1×) as lines. The scale is a square root,
//! so that both "1 bad run of 2" (50× at 99%) and the 1× line fit; the axis
//! marks name the real values. Bars above a factor are coloured and every
//! bar has a title; the burn-window table beside it has the same figures.

use crate::time::format_time;
use chrono::Timelike;
use gantry_core::slo::AlertPair;
use gantry_core::slo::view::BurnPoint;
use leptos::prelude::*;

const LABEL_W: i64 = 48;
const BAR_W: i64 = 4;
const TOP: i64 = 10;
const PLOT_H: i64 = 150;
const AXIS_H: i64 = 22;
/// The scale reaches at least this far, so the 14.4× line always shows.
const MIN_TOP_RATE: f64 = 16.0;

#[derive(Debug, Clone, PartialEq)]
pub struct ChartLayout {
    pub width: i64,
    pub height: i64,
    /// The burn rate at the top of the plot.
    pub top_rate: f64,
    pub bars: Vec<Bar>,
    /// (y, label) of each factor's line.
    pub factors: Vec<(i64, String)>,
    /// (x, label) at each midnight (UTC) in the range.
    pub days: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    /// `ok` at or under 1×, `stop` over 1× (a ticket's pace), `err` over
    /// 14.4× (the fastest page's).
    pub tone: &'static str,
    pub title: String,
}

/// The y of `rate` on a square-root scale whose top is `top_rate`.
fn y_of(rate: f64, top_rate: f64) -> i64 {
    let share = (rate.max(0.0) / top_rate).min(1.0).sqrt();
    TOP + PLOT_H - (share * PLOT_H as f64).round() as i64
}

/// "10×", "14.4×", "0.5×".
pub fn times(rate: f64) -> String {
    let rounded = (rate * 10.0).round() / 10.0;
    format!("{rounded}×")
}

pub fn layout(points: &[BurnPoint]) -> ChartLayout {
    let highest = points
        .iter()
        .filter_map(|p| p.burn_rate)
        .fold(0.0_f64, f64::max);
    // A round top: the next multiple of 10 above the highest rate.
    let top_rate = if highest > MIN_TOP_RATE {
        (highest / 10.0).ceil() * 10.0
    } else {
        MIN_TOP_RATE
    };
    let base = TOP + PLOT_H;
    let bars = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let rate = p.burn_rate?;
            let x = LABEL_W + i as i64 * BAR_W;
            // A sliver for good hours, so hours with runs show.
            let y = y_of(rate, top_rate).min(base - 2);
            let tone = if rate > AlertPair::Page1h.factor() {
                "err"
            } else if rate > AlertPair::Ticket3d.factor() {
                "stop"
            } else {
                "ok"
            };
            let total = p.counts.total();
            let title = format!(
                "{}, one hour: {total} run{}, {} bad, burn rate {}",
                format_time(p.hour),
                if total == 1 { "" } else { "s" },
                p.counts.bad,
                times(rate)
            );
            Some(Bar {
                x,
                y,
                height: base - y,
                tone,
                title,
            })
        })
        .collect();
    let factors = AlertPair::ALL
        .iter()
        .map(|p| (y_of(p.factor(), top_rate), times(p.factor())))
        .collect();
    let days = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.hour.hour() == 0)
        .map(|(i, p)| {
            (
                LABEL_W + i as i64 * BAR_W,
                p.hour.format("%b %-d").to_string(),
            )
        })
        .collect();
    ChartLayout {
        width: LABEL_W + points.len() as i64 * BAR_W + 8,
        height: TOP + PLOT_H + AXIS_H,
        top_rate,
        bars,
        factors,
        days,
    }
}

/// What the chart shows, in words, for its `<desc>`.
pub fn describe(objective: &str, points: &[BurnPoint]) -> String {
    let measured: Vec<&BurnPoint> = points.iter().filter(|p| p.burn_rate.is_some()).collect();
    let page = AlertPair::Page1h.factor();
    let fast = measured
        .iter()
        .filter(|p| p.burn_rate.is_some_and(|r| r > page))
        .count();
    let peak = measured.iter().max_by(|a, b| {
        a.burn_rate
            .unwrap_or_default()
            .total_cmp(&b.burn_rate.unwrap_or_default())
    });
    let mut text = format!(
        "Burn rate of the {objective} objective in each hour of the last {} hours, on a square-root scale, with lines at the alert factors 14.4×, 6×, 3× and 1×. {} of the hours had runs",
        points.len(),
        measured.len()
    );
    match peak {
        Some(p) if p.burn_rate.unwrap_or_default() > 0.0 => text.push_str(&format!(
            "; the highest burn rate was {} in the hour from {}; {fast} of them burned faster than {}.",
            times(p.burn_rate.unwrap_or_default()),
            format_time(p.hour),
            times(page)
        )),
        Some(_) => text.push_str("; none of them spent budget."),
        None => text.push('.'),
    }
    text
}

#[component]
pub fn BurnChart(
    /// Tells charts on one page apart (`success`, `duration`).
    id: &'static str,
    /// Named in the title, e.g. "success".
    #[prop(into)]
    objective: String,
    points: Vec<BurnPoint>,
) -> impl IntoView {
    let l = layout(&points);
    let title_id = format!("burn-{id}-title");
    let desc_id = format!("burn-{id}-desc");
    let labelled_by = format!("{title_id} {desc_id}");
    let title = format!("Hourly burn rate of the {objective} objective, last 7 days");
    let description = describe(&objective, &points);
    let right = l.width - 8;
    let base = TOP + PLOT_H;
    let factors = l
        .factors
        .iter()
        .map(|(y, label)| {
            view! {
                <line class="burn-factor" x1=LABEL_W x2=right y1=*y y2=*y />
                <text class="timeline-tick" x=LABEL_W - 4 y=*y text-anchor="end" dominant-baseline="central">{label.clone()}</text>
            }
        })
        .collect_view();
    let days = l
        .days
        .iter()
        .map(|(x, label)| {
            view! {
                <line class="timeline-grid" x1=*x x2=*x y1=TOP y2=base + 4 />
                <text class="timeline-tick" x=*x y=base + 16 text-anchor="middle">{label.clone()}</text>
            }
        })
        .collect_view();
    let bars = l
        .bars
        .iter()
        .map(|b| {
            view! {
                <rect class=format!("tone-{}", b.tone) x=b.x y=b.y width=BAR_W - 1 height=b.height>
                    <title>{b.title.clone()}</title>
                </rect>
            }
        })
        .collect_view();
    let region = title.clone();
    view! {
        <div class="timeline-scroll" tabindex="0" role="region" aria-label=region>
            <svg
                class="burn-chart"
                role="img"
                aria-labelledby=labelled_by
                viewBox=format!("0 0 {} {}", l.width, l.height)
                width=l.width
                height=l.height
            >
                <title id=title_id>{title}</title>
                <desc id=desc_id>{description}</desc>
                <line class="burn-axis" x1=LABEL_W x2=right y1=base y2=base />
                <text class="timeline-tick" x=LABEL_W - 4 y=TOP text-anchor="end" dominant-baseline="central">{times(l.top_rate)}</text>
                {days}
                {factors}
                {bars}
            </svg>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use gantry_core::slo::Counts;

    fn points(rates: &[(i64, Option<(u64, u64)>)]) -> Vec<BurnPoint> {
        let start = Utc.with_ymd_and_hms(2026, 3, 3, 22, 0, 0).unwrap();
        rates
            .iter()
            .map(|(h, counts)| {
                let counts = counts.map_or(Counts::default(), |(g, b)| Counts::new(g, b));
                BurnPoint {
                    hour: start + Duration::hours(*h),
                    counts,
                    // At 99%: bad share ÷ 1%.
                    burn_rate: (counts.total() > 0)
                        .then(|| counts.bad as f64 / counts.total() as f64 / 0.01),
                }
            })
            .collect()
    }

    #[test]
    fn hours_without_runs_have_no_bar_and_good_hours_a_sliver() {
        let l = layout(&points(&[(0, None), (1, Some((10, 0))), (2, None)]));
        assert_eq!(l.bars.len(), 1);
        let bar = &l.bars[0];
        assert_eq!(bar.x, LABEL_W + BAR_W);
        assert_eq!(bar.height, 2);
        assert_eq!(bar.tone, "ok");
        assert!(
            bar.title.ends_with("10 runs, 0 bad, burn rate 0×"),
            "{}",
            bar.title
        );
        assert_eq!(l.top_rate, MIN_TOP_RATE);
        // The midnight after the start is marked.
        assert_eq!(l.days, vec![(LABEL_W + 2 * BAR_W, "Mar 4".to_owned())]);
    }

    #[test]
    fn bars_take_the_tone_of_the_factor_they_pass_and_the_scale_fits_the_highest() {
        // 1 bad of 2 = 50×, 1 bad of 50 = 2×.
        let l = layout(&points(&[(0, Some((1, 1))), (1, Some((49, 1)))]));
        assert_eq!(l.top_rate, 50.0);
        assert_eq!((l.bars[0].tone, l.bars[0].y), ("err", TOP));
        assert_eq!(l.bars[0].height, PLOT_H);
        assert_eq!(l.bars[1].tone, "stop");
        // √(2/50) = 0.2 of the plot.
        assert_eq!(l.bars[1].height, 30);
        let labels: Vec<&str> = l.factors.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(labels, ["14.4×", "6×", "3×", "1×"]);
        // The lines go down the plot as the factors fall.
        assert!(l.factors.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn the_description_names_the_peak_and_the_fast_hours() {
        let text = describe(
            "success",
            &points(&[(0, Some((1, 1))), (1, Some((10, 0))), (2, None)]),
        );
        assert!(text.contains("2 of the hours had runs"), "{text}");
        assert!(text.contains("the highest burn rate was 50×"), "{text}");
        assert!(
            text.contains("1 of them burned faster than 14.4×"),
            "{text}"
        );
        let quiet = describe("success", &points(&[(0, Some((5, 0)))]));
        assert!(quiet.ends_with("none of them spent budget."), "{quiet}");
        let empty = describe("duration", &points(&[(0, None)]));
        assert!(empty.ends_with("0 of the hours had runs."), "{empty}");
    }
}
