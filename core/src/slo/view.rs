//! SLOs as the dashboard, the REST API and the alerts see them: a summary
//! per workflow × environment for lists, and the whole status for the SLO
//! page. The server reads exact tallies of runs ([`RunTally`]) over the SLO
//! window, every burn window and each hour of the chart; the pure functions
//! here ([`summarize`], [`status`], [`objective_counts`]) shape them with
//! the maths of the sibling modules, so every edge shows the same figures.

use super::burn::holding;
use super::{
    AlertPair, Budget, BurnWindow, Counts, Decision, ObjectiveKind, RunTally, Severity, SloSpec,
    Target, Volume, WindowCounts, budget, burn_rate, decide, volume,
};
use crate::alert::kinds::ObjectiveCounts;
use crate::run::RunStatus;
use crate::spec::SpecDuration;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// Hours the burn chart covers, ending with the current hour: a week, long
/// enough to show the 3-day ticket pair's long window twice over.
pub const HISTORY_HOURS: u32 = 7 * 24;

/// Most bad runs the SLO page lists (newest first).
pub const BAD_RUNS_LIMIT: u32 = 50;

/// Tallies of one SLO's runs over its window and every burn window, all
/// ending at the same `now`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SloTallies {
    pub window: RunTally,
    /// In [`BurnWindow::ALL`]'s order.
    pub burn: [RunTally; 7],
}

impl SloTallies {
    pub fn burn(&self, window: BurnWindow) -> RunTally {
        let i = BurnWindow::ALL
            .iter()
            .position(|w| *w == window)
            .unwrap_or_default();
        self.burn[i]
    }

    /// One objective's counts in every burn window.
    pub fn window_counts(&self, objective: ObjectiveKind) -> WindowCounts {
        let mut counts = WindowCounts::default();
        for window in BurnWindow::ALL {
            counts.set(window, self.burn(window).counts(objective));
        }
        counts
    }
}

/// The runs that finished in one hour (`hour` is its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourTally {
    pub hour: DateTime<Utc>,
    pub tally: RunTally,
}

/// One workflow's SLO in one environment, as a list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SloSummary {
    pub workflow: String,
    pub environment: String,
    /// The version active there, whose `slo:` section this is. Runs of
    /// earlier versions in the window count against it too: the objective
    /// is the workflow's in that environment.
    pub version: u32,
    /// How far back the objectives look, e.g. `28days`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "28days"))]
    pub window: SpecDuration,
    /// The SLO in one line: `99% succeed, 95% succeed within 10m over 28days`.
    pub description: String,
    pub objectives: Vec<ObjectiveSummary>,
    /// The most urgent of the objectives' decisions.
    pub decision: Decision,
}

/// One objective over the SLO window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectiveSummary {
    pub objective: ObjectiveKind,
    pub target: Target,
    /// The duration objective's time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10m"))]
    pub within: Option<SpecDuration>,
    /// Good and bad runs over the SLO window.
    pub counts: Counts,
    /// Good runs ÷ runs over the window; `None` with no runs.
    pub sli: Option<f64>,
    /// Share of the error budget left (1 = all, negative = overspent);
    /// `None` with no runs.
    pub budget_remaining: Option<f64>,
    /// What the burn-rate pairs call for now.
    pub decision: Decision,
    pub severity: Option<Severity>,
    /// The window holds too few runs for the target to mean anything
    /// ([`super::volume`]): one failure overspends the budget.
    pub too_few_runs: bool,
}

/// Everything the SLO page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SloStatus {
    pub summary: SloSummary,
    /// The moment every window ends at.
    pub at: DateTime<Utc>,
    /// In the order of `summary.objectives`.
    pub objectives: Vec<ObjectiveDetail>,
    /// Runs that spent budget in the SLO window, newest first.
    pub bad_runs: Vec<BadRun>,
    /// More bad runs exist than listed (at most [`BAD_RUNS_LIMIT`]).
    pub bad_runs_limited: bool,
}

/// One objective's figures behind its summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectiveDetail {
    pub objective: ObjectiveKind,
    pub budget: Budget,
    pub volume: Volume,
    /// Every burn window, shortest first.
    pub burn: Vec<WindowBurn>,
    /// The workbook's four pairs, most urgent first, with whether each holds.
    pub pairs: Vec<PairStatus>,
    /// The burn rate of each of the last [`HISTORY_HOURS`] hours, oldest
    /// first, the current (partial) hour last.
    pub history: Vec<BurnPoint>,
}

/// Runs and the burn rate in one burn window ending now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowBurn {
    pub window: BurnWindow,
    pub counts: Counts,
    /// `None` when the window holds no run.
    pub burn_rate: Option<f64>,
}

/// One alert pair and whether its condition holds now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairStatus {
    pub pair: AlertPair,
    pub severity: Severity,
    pub long: BurnWindow,
    pub short: BurnWindow,
    pub factor: f64,
    pub holds: bool,
}

/// The runs that finished in one hour and their burn rate: the 1h burn
/// rate as it stood at the end of that hour.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BurnPoint {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    pub counts: Counts,
    /// `None` when no run finished in the hour.
    pub burn_rate: Option<f64>,
}

/// A run that spent error budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BadRun {
    pub id: String,
    pub status: RunStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: DateTime<Utc>,
    /// From starting to finishing, in milliseconds; `None` when it never
    /// started.
    pub duration_ms: Option<u64>,
    /// The objectives it was bad for.
    pub spent: Vec<ObjectiveKind>,
}

/// What the shaping functions need to know about one SLO.
#[derive(Clone, Copy, Debug)]
pub struct SloSubject<'a> {
    pub workflow: &'a str,
    pub environment: &'a str,
    pub version: u32,
    pub slo: &'a SloSpec,
}

/// The summary of `subject` from its tallies.
pub fn summarize(subject: SloSubject<'_>, tallies: &SloTallies) -> SloSummary {
    let objectives: Vec<ObjectiveSummary> = subject
        .slo
        .objectives()
        .into_iter()
        .map(|(objective, target)| {
            let counts = tallies.window.counts(objective);
            let figures = match budget(target, counts) {
                Budget::NoData => None,
                Budget::Measured(f) => Some(f),
            };
            let decision = decide(target, &tallies.window_counts(objective));
            ObjectiveSummary {
                objective,
                target,
                within: match objective {
                    ObjectiveKind::Success => None,
                    ObjectiveKind::Duration => subject.slo.duration.as_ref().map(|d| d.within),
                },
                counts,
                sli: figures.map(|f| f.sli),
                budget_remaining: figures.map(|f| f.remaining),
                decision,
                severity: decision.severity(),
                too_few_runs: volume(target, counts.total()).too_few,
            }
        })
        .collect();
    let decision = most_urgent(objectives.iter().map(|o| o.decision));
    SloSummary {
        workflow: subject.workflow.to_owned(),
        environment: subject.environment.to_owned(),
        version: subject.version,
        window: subject.slo.window,
        description: subject.slo.to_string(),
        objectives,
        decision,
    }
}

/// The most urgent decision: a page before a ticket, the faster pair first
/// (the order of [`AlertPair::ALL`]); `Quiet` when none calls for anything.
pub fn most_urgent(decisions: impl IntoIterator<Item = Decision>) -> Decision {
    let rank = |d: &Decision| match d {
        Decision::Quiet => AlertPair::ALL.len(),
        Decision::Page(p) | Decision::Ticket(p) => AlertPair::ALL
            .iter()
            .position(|q| q == p)
            .unwrap_or(AlertPair::ALL.len()),
    };
    decisions
        .into_iter()
        .min_by_key(rank)
        .unwrap_or(Decision::Quiet)
}

/// What the SLO page shows, from the tallies, the hours of the chart (any
/// order, hours without runs left out) and the bad runs the server found
/// (at most `BAD_RUNS_LIMIT + 1`: one more says the list is cut).
pub fn status(
    subject: SloSubject<'_>,
    tallies: &SloTallies,
    hours: &[HourTally],
    mut bad_runs: Vec<BadRun>,
    at: DateTime<Utc>,
) -> SloStatus {
    let summary = summarize(subject, tallies);
    let objectives = subject
        .slo
        .objectives()
        .into_iter()
        .map(|(objective, target)| detail(objective, target, tallies, hours, at))
        .collect();
    let limit = BAD_RUNS_LIMIT as usize;
    let bad_runs_limited = bad_runs.len() > limit;
    bad_runs.truncate(limit);
    SloStatus {
        summary,
        at,
        objectives,
        bad_runs,
        bad_runs_limited,
    }
}

fn detail(
    objective: ObjectiveKind,
    target: Target,
    tallies: &SloTallies,
    hours: &[HourTally],
    at: DateTime<Utc>,
) -> ObjectiveDetail {
    let window = tallies.window.counts(objective);
    let counts = tallies.window_counts(objective);
    let held = holding(target, &counts);
    ObjectiveDetail {
        objective,
        budget: budget(target, window),
        volume: volume(target, window.total()),
        burn: BurnWindow::ALL
            .into_iter()
            .map(|w| WindowBurn {
                window: w,
                counts: counts.get(w),
                burn_rate: burn_rate(target, counts.get(w)),
            })
            .collect(),
        pairs: AlertPair::ALL
            .into_iter()
            .map(|pair| PairStatus {
                pair,
                severity: pair.severity(),
                long: pair.long(),
                short: pair.short(),
                factor: pair.factor(),
                holds: held.contains(&pair),
            })
            .collect(),
        history: hourly(objective, target, hours, at),
    }
}

/// The first hour of the chart ending with the hour `at` falls in.
pub fn history_start(at: DateTime<Utc>) -> DateTime<Utc> {
    current_hour(at) - Duration::hours(i64::from(HISTORY_HOURS) - 1)
}

fn current_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Every hour of the chart, oldest first, with the runs of `hours` that
/// fall in it; an hour without runs has no burn rate.
fn hourly(
    objective: ObjectiveKind,
    target: Target,
    hours: &[HourTally],
    at: DateTime<Utc>,
) -> Vec<BurnPoint> {
    let start = history_start(at);
    (0..i64::from(HISTORY_HOURS))
        .map(|i| {
            let hour = start + Duration::hours(i);
            let counts =
                hours
                    .iter()
                    .filter(|h| h.hour == hour)
                    .fold(Counts::default(), |sum, h| {
                        let c = h.tally.counts(objective);
                        Counts::new(sum.good + c.good, sum.bad + c.bad)
                    });
            BurnPoint {
                hour,
                counts,
                burn_rate: burn_rate(target, counts),
            }
        })
        .collect()
}

/// What the `slo_burn` alert kind judges, per objective of one SLO.
pub fn objective_counts(slo: &SloSpec, tallies: &SloTallies) -> Vec<ObjectiveCounts> {
    slo.objectives()
        .into_iter()
        .map(|(objective, target)| ObjectiveCounts {
            objective,
            target,
            counts: tallies.window_counts(objective),
        })
        .collect()
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
