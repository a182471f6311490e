//! A workflow's history per environment as a picture: one row per
//! environment, the versions active there one after another as bands along
//! a shared time axis, up to now. Bands of versions that were rolled back
//! are marked (a different fill, a dashed outline and "↶"), and every band
//! has a title; the table beside the picture has the same data in words.

use crate::time::format_time;
use chrono::{DateTime, Utc};
use gantry_core::promotion::ledger::ActivePeriod;
use leptos::prelude::*;

const LABEL_W: i64 = 90;
const CHART_W: i64 = 640;
const AXIS_H: i64 = 24;
const ROW_H: i64 = 30;
const BAND_H: i64 = 20;
/// Narrower bands carry no label (their title still names them).
const MIN_LABEL_W: i64 = 34;

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryLayout {
    pub width: i64,
    pub height: i64,
    pub rows: Vec<HistoryRow>,
    /// (x, label) of the axis marks: the start, the middle and now.
    pub ticks: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub environment: String,
    pub y: i64,
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub version: u32,
    pub x: i64,
    pub width: i64,
    pub rolled_back: bool,
    /// Written inside the band when it is wide enough.
    pub label: Option<String>,
    /// The band's whole story, for its `<title>`.
    pub title: String,
}

/// "2026-03-01 14:30": axis marks need no seconds.
fn short_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Lays out `history` (each environment with its periods, oldest first)
/// from the first period's start to `now`.
pub fn layout(history: &[(String, Vec<ActivePeriod>)], now: DateTime<Utc>) -> HistoryLayout {
    let start = history
        .iter()
        .flat_map(|(_, periods)| periods.iter().map(|p| p.from))
        .min()
        .unwrap_or(now)
        .min(now);
    let span_ms = (now - start).num_milliseconds().max(1);
    let x_of = |t: DateTime<Utc>| {
        let ms = (t - start).num_milliseconds().clamp(0, span_ms);
        LABEL_W + (i128::from(ms) * i128::from(CHART_W) / i128::from(span_ms)) as i64
    };
    let rows = history
        .iter()
        .enumerate()
        .map(|(i, (environment, periods))| {
            let bands = periods
                .iter()
                .map(|p| {
                    let end = p.until.unwrap_or(now);
                    let x = x_of(p.from);
                    let width = (x_of(end) - x).max(2);
                    let until = p.until.map_or_else(|| "now".to_owned(), format_time);
                    let mut title = format!(
                        "Version {} in {environment}: {} to {until}",
                        p.version,
                        format_time(p.from)
                    );
                    if p.rolled_back {
                        title.push_str(", rolled back");
                    }
                    let text = if p.rolled_back {
                        format!("v{} ↶", p.version)
                    } else {
                        format!("v{}", p.version)
                    };
                    Band {
                        version: p.version,
                        x,
                        width,
                        rolled_back: p.rolled_back,
                        label: (width >= MIN_LABEL_W).then_some(text),
                        title,
                    }
                })
                .collect();
            HistoryRow {
                environment: environment.clone(),
                y: AXIS_H + i as i64 * ROW_H,
                bands,
            }
        })
        .collect();
    let middle = start + (now - start) / 2;
    let ticks = vec![
        (LABEL_W, short_time(start)),
        (LABEL_W + CHART_W / 2, short_time(middle)),
        (LABEL_W + CHART_W, "now".to_owned()),
    ];
    HistoryLayout {
        width: LABEL_W + CHART_W + 40,
        height: AXIS_H + history.len() as i64 * ROW_H + 4,
        rows,
        ticks,
    }
}

#[component]
pub fn HistorySvg(
    workflow: String,
    history: Vec<(String, Vec<ActivePeriod>)>,
    now: DateTime<Utc>,
) -> impl IntoView {
    let l = layout(&history, now);
    let versions: usize = history.iter().map(|(_, p)| p.len()).sum();
    let rolled: usize = history
        .iter()
        .flat_map(|(_, p)| p.iter())
        .filter(|p| p.rolled_back)
        .count();
    let description = format!(
        "{versions} periods of an active version across {} environments, {rolled} of them ended by a rollback. Each band runs from when a version became active in an environment until the next one replaced it; the table below has the same data.",
        history.len()
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
        .map(|row| {
            let mid = row.y + ROW_H / 2;
            let bands = row
                .bands
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let class = if b.rolled_back {
                        "band band-rolled-back"
                    } else if i % 2 == 0 {
                        "band band-a"
                    } else {
                        "band band-b"
                    };
                    let label = b.label.clone().map(|text| {
                        view! {
                            <text class="band-label" x=b.x + 5 y=mid dominant-baseline="central">{text}</text>
                        }
                    });
                    view! {
                        <g class=class data-version=b.version.to_string()>
                            <title>{b.title.clone()}</title>
                            <rect x=b.x y=mid - BAND_H / 2 width=b.width height=BAND_H rx="2" />
                            {label}
                        </g>
                    }
                })
                .collect_view();
            view! {
                <g class="history-row" data-environment=row.environment.clone()>
                    <text class="timeline-label" x=LABEL_W - 8 y=mid text-anchor="end" dominant-baseline="central">
                        {row.environment.clone()}
                    </text>
                    {bands}
                </g>
            }
        })
        .collect_view();
    let title = format!("History of {workflow} per environment");
    let region = title.clone();
    view! {
        <div class="timeline-scroll" tabindex="0" role="region" aria-label=region>
            <svg
                class="history"
                role="img"
                aria-labelledby="history-title history-desc"
                viewBox=format!("0 0 {} {}", l.width, l.height)
                width=l.width
                height=l.height
            >
                <title id="history-title">{title}</title>
                <desc id="history-desc">{description}</desc>
                {ticks}
                {rows}
            </svg>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use gantry_core::promotion::ledger::DeploymentKind;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn period(version: u32, from: i64, until: Option<i64>, rolled_back: bool) -> ActivePeriod {
        ActivePeriod {
            version,
            from: t(from),
            until: until.map(t),
            kind: DeploymentKind::Promotion,
            rolled_back,
        }
    }

    #[test]
    fn bands_share_one_axis_up_to_now_and_mark_rollbacks() {
        let history = vec![
            (
                "dev".to_owned(),
                vec![period(1, 0, Some(50), false), period(2, 50, None, false)],
            ),
            (
                "prod".to_owned(),
                vec![
                    period(1, 25, Some(75), false),
                    period(2, 75, Some(90), true),
                    period(1, 90, None, false),
                ],
            ),
        ];
        let l = layout(&history, t(100));
        let dev = &l.rows[0].bands;
        assert_eq!((dev[0].x, dev[0].width), (LABEL_W, CHART_W / 2));
        assert_eq!(dev[1].x + dev[1].width, LABEL_W + CHART_W);
        let prod = &l.rows[1].bands;
        assert_eq!(prod[0].x, LABEL_W + CHART_W / 4);
        assert!(prod[1].rolled_back);
        assert_eq!(prod[1].label.as_deref(), Some("v2 ↶"));
        assert!(
            prod[1].title.ends_with(", rolled back"),
            "{}",
            prod[1].title
        );
        assert!(prod[2].title.ends_with("to now"), "{}", prod[2].title);
        assert_eq!(l.rows[1].y, AXIS_H + ROW_H);
        assert_eq!(l.ticks[2].1, "now");
        assert_eq!(l.ticks[0].1, "2026-03-01 00:00");
    }

    #[test]
    fn an_empty_or_instant_history_still_lays_out() {
        let l = layout(&[], t(0));
        assert!(l.rows.is_empty());
        let l = layout(&[("dev".to_owned(), vec![period(1, 0, None, false)])], t(0));
        assert_eq!(l.rows[0].bands[0].width, 2);
        assert_eq!(l.rows[0].bands[0].label, None);
    }
}
