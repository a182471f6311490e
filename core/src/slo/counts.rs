//! What counts: which finished runs are good or bad for an objective, and
//! the exact counts the rest of the SLO maths works from. The server counts
//! runs in its database with these rules; keeping the rule here means the
//! SLO page, the alerts and `gantry slo export` cannot disagree on it.

use super::ObjectiveKind;
use super::spec::SloSpec;
use crate::run::RunStatus;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Good and bad runs in some window. Stored as the two parts rather than a
/// total and a part, so no value of this type is inconsistent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub good: u64,
    pub bad: u64,
}

impl Counts {
    pub fn new(good: u64, bad: u64) -> Self {
        Self { good, bad }
    }

    /// Runs counted. Saturates rather than wraps; no real history gets near.
    pub fn total(self) -> u64 {
        self.good.saturating_add(self.bad)
    }

    /// Counts one run's verdict ([`verdict`]) in.
    pub fn add(&mut self, verdict: Option<Verdict>) {
        match verdict {
            Some(Verdict::Good) => self.good = self.good.saturating_add(1),
            Some(Verdict::Bad) => self.bad = self.bad.saturating_add(1),
            None => {}
        }
    }
}

/// Whether a run spent error budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Good,
    Bad,
}

/// A finished run as the SLO rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinishedRun {
    pub status: RunStatus,
    /// From the moment it started running to its end; `None` when it never
    /// started (failed or cancelled while queued). Queue and approval waits
    /// are left out: they measure the platform and the approvers, not the
    /// workflow.
    pub ran_for: Option<Duration>,
}

/// How `run` counts for `objective` of `slo`; `None` when it does not count.
///
/// - Not yet finished (queued, running): not counted until it ends; a run is
///   counted in the window its end falls in.
/// - Cancelled: not counted. Someone decided to stop it, which says nothing
///   about whether the workflow works; counting it would let a person spend
///   (or, as good, hide) budget by pressing a button.
/// - Success objective: succeeded is good; failed and timed out are bad.
/// - Duration objective: good only when it succeeded within `within`; a
///   failure is bad however fast it failed, since the work was not done in
///   time. A run exactly at the threshold is good ("within").
/// - An objective the SLO does not set: not counted.
pub fn verdict(slo: &SloSpec, objective: ObjectiveKind, run: FinishedRun) -> Option<Verdict> {
    let within = match objective {
        ObjectiveKind::Success => {
            slo.success?;
            None
        }
        ObjectiveKind::Duration => Some(slo.duration.as_ref()?.within.0),
    };
    match run.status {
        RunStatus::Queued | RunStatus::Running | RunStatus::Cancelled => None,
        RunStatus::Failed | RunStatus::TimedOut => Some(Verdict::Bad),
        RunStatus::Succeeded => match (within, run.ran_for) {
            (None, _) => Some(Verdict::Good),
            (Some(limit), Some(took)) if took <= limit => Some(Verdict::Good),
            // A success with no start time cannot show it was in time.
            (Some(_), _) => Some(Verdict::Bad),
        },
    }
}

/// Runs the server counted over one stretch of time, split the three ways
/// the objectives need, so that one pass over the runs (one SQL query with a
/// sum per part) serves both objectives. [`Self::counts`] turns it into an
/// objective's good and bad runs exactly as [`verdict`] would one run at a
/// time (the tests hold the two to each other).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunTally {
    /// Runs that count at all: they succeeded, failed or timed out.
    /// Cancelled and unfinished runs are not in any part.
    pub counted: u64,
    /// Of those, the ones that succeeded.
    pub succeeded: u64,
    /// Of those, the ones that succeeded within the duration objective's
    /// `within` (with a start time, took at most `within`); 0 when the SLO
    /// sets no duration objective.
    pub in_time: u64,
}

impl RunTally {
    /// Good and bad runs for `objective`: every counted run is one or the
    /// other, so bad is what is not good. Saturates on inconsistent input
    /// (a part larger than `counted`) rather than wrapping.
    pub fn counts(self, objective: ObjectiveKind) -> Counts {
        let good = match objective {
            ObjectiveKind::Success => self.succeeded,
            ObjectiveKind::Duration => self.in_time,
        }
        .min(self.counted);
        Counts::new(good, self.counted - good)
    }

    /// Counts one run in, by the same rules as [`verdict`] (for tests and
    /// for callers holding runs rather than sums).
    pub fn add(&mut self, slo: &SloSpec, run: FinishedRun) {
        if !matches!(
            run.status,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::TimedOut
        ) {
            return;
        }
        self.counted += 1;
        if run.status == RunStatus::Succeeded {
            self.succeeded += 1;
        }
        if verdict(slo, ObjectiveKind::Duration, run) == Some(Verdict::Good) {
            self.in_time += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{DurationObjective, Target};
    use crate::spec::SpecDuration;

    fn slo(success: bool, within_secs: Option<u64>) -> SloSpec {
        let target = Target::from_ppm(990_000);
        SloSpec {
            window: SpecDuration(Duration::from_secs(28 * 86_400)),
            success: if success { target } else { None },
            duration: within_secs.and_then(|s| {
                Some(DurationObjective {
                    within: SpecDuration(Duration::from_secs(s)),
                    target: target?,
                })
            }),
        }
    }

    fn run(status: RunStatus, secs: Option<u64>) -> FinishedRun {
        FinishedRun {
            status,
            ran_for: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn verdicts_per_objective() {
        use ObjectiveKind::{Duration as D, Success as S};
        use RunStatus::*;
        let both = slo(true, Some(600));
        let cases = [
            (S, run(Succeeded, Some(9_999)), Some(Verdict::Good)),
            (S, run(Failed, Some(1)), Some(Verdict::Bad)),
            (S, run(Failed, None), Some(Verdict::Bad)),
            (S, run(TimedOut, Some(3600)), Some(Verdict::Bad)),
            (S, run(Cancelled, Some(5)), None),
            (S, run(Running, Some(5)), None),
            (S, run(Queued, None), None),
            (D, run(Succeeded, Some(599)), Some(Verdict::Good)),
            (D, run(Succeeded, Some(600)), Some(Verdict::Good)),
            (D, run(Succeeded, Some(601)), Some(Verdict::Bad)),
            (D, run(Succeeded, None), Some(Verdict::Bad)),
            (D, run(Failed, Some(1)), Some(Verdict::Bad)),
            (D, run(TimedOut, Some(600)), Some(Verdict::Bad)),
            (D, run(Cancelled, Some(1)), None),
        ];
        for (objective, r, want) in cases {
            assert_eq!(verdict(&both, objective, r), want, "{objective:?} {r:?}");
        }
    }

    #[test]
    fn an_objective_not_set_counts_nothing() {
        let ok = run(RunStatus::Succeeded, Some(1));
        assert_eq!(
            verdict(&slo(false, Some(60)), ObjectiveKind::Success, ok),
            None
        );
        assert_eq!(verdict(&slo(true, None), ObjectiveKind::Duration, ok), None);
    }

    #[test]
    fn counts_add_verdicts_and_total_saturates() {
        let mut c = Counts::default();
        for v in [
            Some(Verdict::Good),
            Some(Verdict::Bad),
            None,
            Some(Verdict::Good),
        ] {
            c.add(v);
        }
        assert_eq!(c, Counts::new(2, 1));
        assert_eq!(c.total(), 3);
        assert_eq!(Counts::new(u64::MAX, 5).total(), u64::MAX);
    }

    #[test]
    fn a_tally_counts_each_objective_as_verdict_does_run_by_run() {
        use RunStatus::*;
        let runs = [
            run(Succeeded, Some(10)),
            run(Succeeded, Some(600)),
            run(Succeeded, Some(601)),
            run(Succeeded, None),
            run(Failed, Some(1)),
            run(Failed, None),
            run(TimedOut, Some(900)),
            run(Cancelled, Some(2)),
            run(Running, Some(3)),
            run(Queued, None),
        ];
        for spec in [slo(true, Some(600)), slo(true, None), slo(false, Some(600))] {
            let mut tally = RunTally::default();
            for r in runs {
                tally.add(&spec, r);
            }
            assert_eq!(tally.counted, 7);
            for objective in [ObjectiveKind::Success, ObjectiveKind::Duration] {
                let mut by_verdict = Counts::default();
                for r in runs {
                    by_verdict.add(verdict(&spec, objective, r));
                }
                let set = spec.objectives().iter().any(|(k, _)| *k == objective);
                if set {
                    assert_eq!(
                        tally.counts(objective),
                        by_verdict,
                        "{objective:?} {spec:?}"
                    );
                }
            }
        }
        let both = slo(true, Some(600));
        let mut tally = RunTally::default();
        runs.iter().for_each(|r| tally.add(&both, *r));
        assert_eq!(tally.counts(ObjectiveKind::Success), Counts::new(4, 3));
        assert_eq!(tally.counts(ObjectiveKind::Duration), Counts::new(2, 5));
    }

    #[test]
    fn an_inconsistent_tally_saturates() {
        let t = RunTally {
            counted: 2,
            succeeded: 5,
            in_time: 1,
        };
        assert_eq!(t.counts(ObjectiveKind::Success), Counts::new(2, 0));
        assert_eq!(t.counts(ObjectiveKind::Duration), Counts::new(1, 1));
    }
}
