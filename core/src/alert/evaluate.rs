//! How a run-based rule judges the runs of its workflow in its
//! environment, right after one finished: exact counts from Gantry's own
//! records, no sampling.

use super::rule::RuleKind;
use super::state::Observation;
use chrono::{DateTime, Utc};

/// A finished run, as rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    pub finished_at: DateTime<Utc>,
    pub succeeded: bool,
}

/// What `kind` makes of `runs` (oldest first, ending with the run that
/// just finished) at `now`. Kinds judged on evaluation passes
/// ([`RuleKind::judged_on`] is `Pass`) are not judged on runs: for them
/// this is always `Hold`, which changes nothing.
pub fn observe(kind: &RuleKind, runs: &[RunOutcome], now: DateTime<Utc>) -> Observation {
    match kind {
        RuleKind::ConsecutiveFailures { threshold } => {
            let Some(last) = runs.last() else {
                return Observation::Clear;
            };
            if last.succeeded {
                return Observation::Clear;
            }
            let failed_in_a_row = runs.iter().rev().take_while(|r| !r.succeeded).count();
            if failed_in_a_row >= *threshold as usize {
                Observation::Breach
            } else {
                // Failing, but not yet N in a row: not clear either (a
                // firing alert must not count it towards resolving).
                Observation::Hold
            }
        }
        RuleKind::FailureRatio {
            ratio,
            min_runs,
            window,
            resolve_ratio,
        } => {
            let from = now - chrono::Duration::from_std(window.0).unwrap_or_default();
            let (total, failed) = runs
                .iter()
                .filter(|r| r.finished_at > from && r.finished_at <= now)
                .fold((0u32, 0u32), |(t, f), r| {
                    (t + 1, f + u32::from(!r.succeeded))
                });
            if total < *min_runs {
                // Too few runs to judge: a firing alert stays as it is.
                return Observation::Hold;
            }
            let seen = f64::from(failed) / f64::from(total);
            if seen >= *ratio {
                Observation::Breach
            } else if seen < resolve_ratio.unwrap_or(*ratio) {
                Observation::Clear
            } else {
                Observation::Hold
            }
        }
        RuleKind::RunTooLong { .. }
        | RuleKind::MissedSchedule { .. }
        | RuleKind::QueueBacklog { .. }
        | RuleKind::AuthFailures { .. }
        | RuleKind::PrivilegeEscalation {}
        | RuleKind::SloBurn { .. }
        | RuleKind::RolloutAttention {} => Observation::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecDuration;
    use chrono::TimeZone;
    use std::time::Duration;

    fn runs(pattern: &str) -> Vec<RunOutcome> {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        pattern
            .chars()
            .enumerate()
            .map(|(i, c)| RunOutcome {
                finished_at: start + chrono::Duration::minutes(i as i64),
                succeeded: c == 's',
            })
            .collect()
    }

    #[test]
    fn consecutive_failures_count_only_the_unbroken_tail() {
        let kind = RuleKind::ConsecutiveFailures { threshold: 3 };
        let now = Utc::now();
        assert_eq!(observe(&kind, &runs("sff"), now), Observation::Hold);
        assert_eq!(observe(&kind, &runs("sfff"), now), Observation::Breach);
        assert_eq!(observe(&kind, &runs("fffsff"), now), Observation::Hold);
        assert_eq!(observe(&kind, &runs("fffs"), now), Observation::Clear);
        assert_eq!(observe(&kind, &[], now), Observation::Clear);
    }

    #[test]
    fn pass_based_kinds_are_not_judged_on_runs() {
        let kind = RuleKind::MissedSchedule {
            grace: SpecDuration(Duration::from_secs(600)),
        };
        assert_eq!(
            observe(&kind, &runs("fffff"), Utc::now()),
            Observation::Hold
        );
    }

    #[test]
    fn a_failure_ratio_fires_at_its_line_and_resolves_under_the_lower_one() {
        let kind = RuleKind::FailureRatio {
            ratio: 0.5,
            min_runs: 4,
            window: SpecDuration(Duration::from_secs(3600)),
            resolve_ratio: Some(0.2),
        };
        let history = runs("ssffssff");
        let now = history.last().unwrap().finished_at;
        assert_eq!(observe(&kind, &history, now), Observation::Breach, "4 of 8");
        assert_eq!(
            observe(&kind, &runs("sssssssf"), now),
            Observation::Clear,
            "1 of 8"
        );
        assert_eq!(
            observe(&kind, &runs("ssssssff"), now),
            Observation::Hold,
            "2 of 8: between the lines"
        );
        assert_eq!(
            observe(&kind, &runs("fff"), now),
            Observation::Hold,
            "too few runs to judge"
        );
        // Runs older than the window don't count.
        let later = now + chrono::Duration::minutes(58);
        assert_eq!(
            observe(&kind, &history, later),
            Observation::Hold,
            "only 1 run left in the window"
        );
    }
}
