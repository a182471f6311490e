//! The SLI and the error budget of one objective over its window, from the
//! exact counts of good and bad runs (see [`super::verdict`]).
//!
//! The budget is run-based, like a request-based SLO: over `total` runs the
//! objective allows `total × (1 − target)` bad ones. It therefore grows as
//! runs happen; "bad runs left" is what the runs so far allow.

use super::{Counts, Target};
use serde::{Deserialize, Serialize};

/// An objective's standing over its window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Budget {
    /// No run finished in the window: nothing is known. Not 100%: a
    /// workflow that stopped running has not met its objective, it has
    /// stopped being measured.
    NoData,
    Measured(BudgetFigures),
}

/// The figures of an objective with at least one counted run. Fractions are
/// for display; counts are exact.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetFigures {
    pub counts: Counts,
    /// Good runs ÷ runs, 0..=1.
    pub sli: f64,
    /// The error budget as a fraction of runs: 1 − target.
    pub budget: f64,
    /// Share of the budget not yet spent: 1 − bad ÷ (runs × (1 − target)).
    /// 1 with no bad run, 0 exactly spent, negative when overspent (−1 means
    /// twice the budget spent).
    pub remaining: f64,
    /// Bad runs the window's runs allow: ⌊runs × (1 − target)⌋.
    pub allowed_bad: u64,
    /// `allowed_bad − bad`: how many more bad runs keep the objective, at
    /// today's run count; negative by how many it is overspent.
    pub bad_runs_left: i64,
}

/// The budget of `counts` against `target`.
///
/// A 100% target (which validation refuses) is treated as a budget of one
/// run in a million, so nothing here divides by zero.
pub fn budget(target: Target, counts: Counts) -> Budget {
    let total = counts.total();
    if total == 0 {
        return Budget::NoData;
    }
    let budget_ppm = budget_ppm(target);
    let bad = counts.bad;
    // ⌊total × budget_ppm ÷ 10⁶⌋ in u128: u64 × u32 cannot overflow it.
    let allowed = u128::from(total) * u128::from(budget_ppm) / u128::from(super::PPM);
    let allowed_bad = u64::try_from(allowed).unwrap_or(u64::MAX);
    let left = i128::from(allowed_bad) - i128::from(bad);
    let bad_runs_left = i64::try_from(left).unwrap_or(if left < 0 { i64::MIN } else { i64::MAX });
    let spent = bad as f64 * f64::from(super::PPM) / (total as f64 * budget_ppm as f64);
    Budget::Measured(BudgetFigures {
        counts,
        sli: counts.good as f64 / total as f64,
        budget: budget_ppm as f64 / f64::from(super::PPM),
        remaining: 1.0 - spent,
        allowed_bad,
        bad_runs_left,
    })
}

/// The budget in ppm, at least one so it can divide.
pub(super) fn budget_ppm(target: Target) -> u64 {
    u64::from(target.budget_ppm().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ppm: u32) -> Target {
        Target::from_ppm(ppm).unwrap()
    }

    fn measured(target_ppm: u32, good: u64, bad: u64) -> BudgetFigures {
        match budget(target(target_ppm), Counts::new(good, bad)) {
            Budget::Measured(f) => f,
            Budget::NoData => panic!("expected figures"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn no_runs_is_no_data_not_one_hundred_percent() {
        assert_eq!(budget(target(990_000), Counts::default()), Budget::NoData);
    }

    #[test]
    fn a_clean_window_keeps_the_whole_budget() {
        let f = measured(999_000, 10_000, 0);
        assert!(close(f.sli, 1.0));
        assert!(close(f.budget, 0.001));
        assert!(close(f.remaining, 1.0));
        assert_eq!(f.allowed_bad, 10);
        assert_eq!(f.bad_runs_left, 10);
    }

    #[test]
    fn worked_example_99_9_percent_of_ten_thousand_runs() {
        // 10 000 runs at 99.9% allow 10 bad ones; 4 spent 40%.
        let f = measured(999_000, 9_996, 4);
        assert!(close(f.sli, 0.9996));
        assert!(close(f.remaining, 0.6));
        assert_eq!(f.bad_runs_left, 6);
        // Exactly spent.
        let f = measured(999_000, 9_990, 10);
        assert!(close(f.remaining, 0.0));
        assert_eq!(f.bad_runs_left, 0);
        // Twice spent: remaining −1, ten runs over.
        let f = measured(999_000, 9_980, 20);
        assert!(close(f.remaining, -1.0));
        assert_eq!(f.bad_runs_left, -10);
    }

    #[test]
    fn allowed_bad_runs_round_down() {
        // 28 daily runs at 99% allow 0.28 bad runs: none.
        let f = measured(990_000, 28, 0);
        assert_eq!(f.allowed_bad, 0);
        assert_eq!(f.bad_runs_left, 0);
        // One failure spends 1 ÷ 0.28 = 357% of it.
        let f = measured(990_000, 27, 1);
        assert!(close(f.remaining, 1.0 - 1.0 / 0.28));
        assert_eq!(f.bad_runs_left, -1);
        // 199 runs at 99% allow 1 (1.99 rounded down).
        assert_eq!(measured(990_000, 199, 0).allowed_bad, 1);
    }

    #[test]
    fn all_bad_gives_an_sli_of_zero() {
        let f = measured(950_000, 0, 20);
        assert!(close(f.sli, 0.0));
        assert_eq!(f.allowed_bad, 1);
        assert!(close(f.remaining, 1.0 - 20.0));
    }

    #[test]
    fn edge_targets_and_huge_counts_do_not_panic() {
        // A 100% target counts as a budget of one in a million.
        let f = measured(1_000_000, 5, 1);
        assert!(f.remaining.is_finite() && f.remaining < 0.0);
        let f = measured(0, 0, u64::MAX);
        assert!(f.remaining.is_finite());
        assert_eq!(f.allowed_bad, u64::MAX);
        let f = measured(999_999, u64::MAX, u64::MAX);
        assert!(f.remaining.is_finite());
        assert!(f.bad_runs_left < 0);
    }
}
