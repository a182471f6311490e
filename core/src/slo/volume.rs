//! Honesty about low volume. A target is a statement about many runs: 99%
//! means "at most one bad run in a hundred". A workflow that runs 28 times
//! in its window (a daily cron over 28 days) cannot show 99%: its budget is
//! 0.28 of a run, so its first failure spends 357% of it, and the figures
//! swing from "all well" to "deeply overspent" on one event.
//!
//! The rule: a window is **too small to judge** when it holds fewer runs
//! than `1 ÷ (1 − target)`, the number of runs over which the budget adds up
//! to one whole bad run. Below that, a single failure overspends the budget
//! and no number of successes can make the target mean anything. The UI
//! says so next to the figures, with what one failure moves the budget by,
//! rather than hiding them.

use super::budget::budget_ppm;
use super::{PPM, Target};
use serde::{Deserialize, Serialize};

/// How much a window's runs can say about a target.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Volume {
    /// Runs counted in the window.
    pub runs: u64,
    /// Runs the window needs for the budget to hold one whole bad run:
    /// ⌈1 ÷ (1 − target)⌉ (100 at 99%, 1 000 at 99.9%).
    pub runs_needed: u64,
    /// Fewer runs than needed: one failure overspends the budget.
    pub too_few: bool,
    /// Share of the budget one bad run spends: `1 ÷ (runs × (1 − target))`;
    /// 3.57 is 357%. `None` with no runs, where there is no budget yet.
    pub one_failure_spends: Option<f64>,
}

/// What `runs` counted runs can say about `target`.
pub fn volume(target: Target, runs: u64) -> Volume {
    let budget = budget_ppm(target);
    let ppm = u64::from(PPM);
    Volume {
        runs,
        runs_needed: ppm.div_ceil(budget),
        // runs × (1 − target) < 1, in integers.
        too_few: u128::from(runs) * u128::from(budget) < u128::from(ppm),
        one_failure_spends: (runs > 0).then(|| ppm as f64 / (runs as f64 * budget as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ppm: u32) -> Target {
        Target::from_ppm(ppm).unwrap()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn a_daily_cron_cannot_show_ninety_nine_percent() {
        // 28 runs over 28 days at 99%: a budget of 0.28 runs.
        let v = volume(t(990_000), 28);
        assert!(v.too_few);
        assert_eq!(v.runs_needed, 100);
        assert!(close(v.one_failure_spends, 1.0 / 0.28), "{v:?}");
        // At 95% the same cron's budget is 1.4 runs: judgeable, and one
        // failure spends 71%.
        let v = volume(t(950_000), 28);
        assert!(!v.too_few);
        assert_eq!(v.runs_needed, 20);
        assert!(close(v.one_failure_spends, 1.0 / 1.4), "{v:?}");
    }

    #[test]
    fn the_boundary_is_one_whole_bad_run() {
        // 99.9%: 1 000 runs make a budget of exactly one run.
        assert!(volume(t(999_000), 999).too_few);
        let v = volume(t(999_000), 1_000);
        assert!(!v.too_few);
        assert!(close(v.one_failure_spends, 1.0));
        // A budget that does not divide a million rounds the need up.
        let v = volume(t(970_000), 33);
        assert_eq!(v.runs_needed, 34);
        assert!(v.too_few);
        assert!(!volume(t(970_000), 34).too_few);
    }

    #[test]
    fn no_runs_is_too_few_with_nothing_to_spend() {
        let v = volume(t(990_000), 0);
        assert!(v.too_few);
        assert_eq!(v.one_failure_spends, None);
    }

    #[test]
    fn extreme_targets_stay_finite() {
        let v = volume(Target::from_ppm(PPM).unwrap(), 10);
        assert_eq!(v.runs_needed, 1_000_000);
        assert!(v.too_few);
        let v = volume(Target::from_ppm(0).unwrap(), 1);
        assert_eq!(v.runs_needed, 1);
        assert!(!v.too_few);
        assert!(
            volume(t(999_999), u64::MAX)
                .one_failure_spends
                .is_some_and(f64::is_finite)
        );
    }
}
