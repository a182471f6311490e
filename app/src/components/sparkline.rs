//! A small line chart of run durations, oldest on the left. Failed runs are
//! marked with a differently shaped dot, not only a different colour.

use super::status_badge::tone;
use crate::time::format_duration;
use chrono::Duration;
use leptos::prelude::*;

const W: i64 = 240;
const H: i64 = 44;
const PAD: i64 = 5;

/// One finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct SparkPoint {
    pub duration: Duration,
    /// The run's status (`RunStatus::as_str`).
    pub status: &'static str,
}

/// (x, y) of each point; the longest run touches the top.
pub fn points(values: &[SparkPoint]) -> Vec<(i64, i64)> {
    let max = values
        .iter()
        .map(|p| p.duration.num_milliseconds())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = values.len() as i64;
    values
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = if n <= 1 {
                W / 2
            } else {
                PAD + i as i64 * (W - 2 * PAD) / (n - 1)
            };
            let y = H - PAD - p.duration.num_milliseconds().max(0) * (H - 2 * PAD) / max;
            (x, y)
        })
        .collect()
}

/// `label` names what is charted, e.g. "Durations of the last 12 runs of deploy".
#[component]
pub fn Sparkline(values: Vec<SparkPoint>, #[prop(into)] label: String) -> impl IntoView {
    if values.is_empty() {
        return ().into_any();
    }
    let xy = points(&values);
    let line = xy
        .iter()
        .map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (min, max) = (
        values.iter().map(|p| p.duration).min().unwrap_or_default(),
        values.iter().map(|p| p.duration).max().unwrap_or_default(),
    );
    let latest = values.last().map(|p| p.duration).unwrap_or_default();
    let failed = values.iter().filter(|p| tone(p.status) != "ok").count();
    let summary = format!(
        "Shortest {}, longest {}, latest {}; {failed} of {} did not succeed.",
        format_duration(min),
        format_duration(max),
        format_duration(latest),
        values.len()
    );
    let dots = values
        .iter()
        .zip(&xy)
        .map(|(p, (x, y))| {
            let class = format!("spark-dot tone-{}", tone(p.status));
            if tone(p.status) == "ok" {
                view! { <circle class=class cx=*x cy=*y r="2.5" /> }.into_any()
            } else {
                // A square for runs that failed, timed out or were cancelled.
                view! { <rect class=class x=x - 3 y=y - 3 width="6" height="6" /> }.into_any()
            }
        })
        .collect_view();
    view! {
        <figure class="sparkline">
            <svg
                role="img"
                aria-labelledby="spark-title spark-desc"
                viewBox=format!("0 0 {W} {H}")
                width=W
                height=H
            >
                <title id="spark-title">{label.clone()}</title>
                <desc id="spark-desc">{summary.clone()}</desc>
                <polyline class="spark-line" points=line />
                {dots}
            </svg>
            <figcaption>{label} ": " {summary}</figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(secs: i64) -> SparkPoint {
        SparkPoint {
            duration: Duration::seconds(secs),
            status: "succeeded",
        }
    }

    #[test]
    fn points_span_the_width_and_scale_to_the_longest() {
        let xy = points(&[p(0), p(5), p(10)]);
        assert_eq!(xy[0], (PAD, H - PAD));
        assert_eq!(xy[2], (W - PAD, PAD));
        assert_eq!(xy[1].1, H / 2);
        assert_eq!(points(&[p(3)]), vec![(W / 2, PAD)]);
        assert!(points(&[]).is_empty());
    }
}
