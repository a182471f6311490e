//! A rule replayed over real history before it is saved: how often it
//! would have fired and resolved, and when, so thresholds are tuned on
//! data instead of guesses.

use super::evaluate::{RunOutcome, observe};
use super::rule::RuleSpec;
use super::state::{Instance, Notice, Observation};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One moment a notice would have gone out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Moment {
    pub at: DateTime<Utc>,
    /// `firing` or `resolved`.
    pub what: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    pub runs: u32,
    pub fired: u32,
    pub resolved: u32,
    /// Still firing at the end of the history.
    pub firing_at_end: bool,
    pub moments: Vec<Moment>,
}

/// Replays `history` (one instance's runs, oldest first) through `rule`,
/// one observation per finished run, as the server evaluates it.
pub fn backtest(rule: &RuleSpec, history: &[RunOutcome]) -> Backtest {
    let policy = rule.policy();
    let mut out = Backtest::default();
    let Some(first) = history.first() else {
        return out;
    };
    let mut instance = Instance::new(first.finished_at);
    for (i, run) in history.iter().enumerate() {
        out.runs += 1;
        let seen: Observation = observe(&rule.kind, &history[..=i], run.finished_at);
        match instance.observe(seen, run.finished_at, &policy, false) {
            Some(Notice::Firing) => {
                out.fired += 1;
                out.moments.push(Moment {
                    at: run.finished_at,
                    what: "firing".into(),
                });
            }
            Some(Notice::Resolved) => {
                out.resolved += 1;
                out.moments.push(Moment {
                    at: run.finished_at,
                    what: "resolved".into(),
                });
            }
            Some(Notice::Reminder) | None => {}
        }
    }
    out.firing_at_end = instance.phase == super::state::Phase::Firing;
    out
}
