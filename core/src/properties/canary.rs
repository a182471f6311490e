//! The canary analysis on any counts and durations: no panic, figures in
//! range, and the directions a reviewer relies on: more canary failures
//! never make the canary look better, more stable failures never make it
//! look worse, a run's version only moves to the canary as its weight
//! rises, and a canary as fast as stable is never called slow.

use super::config;
use crate::canary::analysis::{Decision, Outcomes, Thresholds, analyse, decide, probability_worse};
use crate::canary::assign::{Weight, position, takes_canary};
use crate::canary::durations::{MIN_DURATION_RUNS, compare, p95};
use proptest::prelude::*;

/// Rounding in the numerical integral: the probabilities agree to far
/// better than this when the posteriors are ordered.
const SLACK: f64 = 1e-9;

/// Counts from none to a busy day's runs, failures up to all of them.
fn outcomes() -> impl Strategy<Value = Outcomes> {
    (0u64..5_000)
        .prop_flat_map(|runs| (Just(runs), 0..=runs))
        .prop_map(|(r, f)| Outcomes::new(r, f))
}

/// Tolerances and confidences a policy may set.
fn thresholds() -> impl Strategy<Value = Thresholds> {
    (0.0f64..3.0, 0.0f64..0.2, 0.5f64..0.999, 0u64..200).prop_map(
        |(relative, absolute, confidence, min_runs)| Thresholds {
            relative,
            absolute,
            confidence,
            min_runs,
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_counts_give_probabilities_and_intervals_in_range(
        canary in outcomes(),
        stable in outcomes(),
        t in thresholds(),
    ) {
        let a = analyse(canary, stable, &t);
        prop_assert!((0.0..=1.0).contains(&a.p_worse), "{a:?}");
        for e in [a.canary, a.stable] {
            prop_assert!(0.0 <= e.low && e.low <= e.high && e.high <= 1.0, "{a:?}");
            prop_assert!((0.0..=1.0).contains(&e.rate), "{a:?}");
        }
        prop_assert_eq!(a.decision, decide(a.p_worse, canary.runs, &t));
        prop_assert!(!a.why.is_empty());
    }

    #[test]
    fn failures_beyond_the_runs_count_as_all_runs_failing(
        runs in 0u64..1_000,
        extra in 1u64..1_000,
        stable in outcomes(),
    ) {
        let t = Thresholds::default();
        prop_assert_eq!(
            analyse(Outcomes { runs, failures: runs + extra }, stable, &t),
            analyse(Outcomes::new(runs, runs), stable, &t)
        );
    }

    #[test]
    fn one_more_canary_failure_never_makes_the_canary_look_better(
        runs in 1u64..2_000,
        failures_seed in any::<u64>(),
        stable in outcomes(),
        t in thresholds(),
    ) {
        let failures = failures_seed % runs;
        let before = probability_worse(Outcomes::new(runs, failures), stable, &t);
        let after = probability_worse(Outcomes::new(runs, failures + 1), stable, &t);
        prop_assert!(after + SLACK >= before, "{failures}/{runs}: {before} then {after}");
    }

    #[test]
    fn one_more_stable_failure_never_makes_the_canary_look_worse(
        canary in outcomes(),
        runs in 1u64..2_000,
        failures_seed in any::<u64>(),
        t in thresholds(),
    ) {
        let failures = failures_seed % runs;
        let before = probability_worse(canary, Outcomes::new(runs, failures), &t);
        let after = probability_worse(canary, Outcomes::new(runs, failures + 1), &t);
        prop_assert!(after <= before + SLACK, "{failures}/{runs}: {before} then {after}");
    }

    #[test]
    fn a_pass_needs_the_minimum_runs_and_a_fail_the_confidence(
        p_worse in 0.0f64..=1.0,
        runs in 0u64..500,
        t in thresholds(),
    ) {
        match decide(p_worse, runs, &t) {
            Decision::Pass => prop_assert!(runs >= t.min_runs && 1.0 - p_worse > t.confidence),
            Decision::Fail => prop_assert!(p_worse > t.confidence),
            Decision::Continue => prop_assert!(
                p_worse <= t.confidence && (runs < t.min_runs || 1.0 - p_worse <= t.confidence)
            ),
        }
    }

    #[test]
    fn a_run_keeps_its_version_and_a_higher_weight_only_adds_runs(
        seed in "\\PC{0,40}",
        key in "\\PC{0,40}",
        low in 0u32..=Weight::MAX,
        high in 0u32..=Weight::MAX,
    ) {
        let (low, high) = (low.min(high), low.max(high));
        let (Some(low), Some(high)) = (Weight::from_ppm(low), Weight::from_ppm(high)) else {
            unreachable!("both within a million");
        };
        prop_assert!(position(&seed, &key) < Weight::MAX);
        prop_assert_eq!(takes_canary(&seed, &key, low), takes_canary(&seed, &key, low));
        prop_assert!(!takes_canary(&seed, &key, low) || takes_canary(&seed, &key, high));
        prop_assert!(!takes_canary(&seed, &key, Weight::ZERO));
    }

    #[test]
    fn any_durations_are_compared_or_left_undecided(
        canary in prop::collection::vec(0u64..10_000_000, 0..60),
        stable in prop::collection::vec(0u64..10_000_000, 0..60),
        max_slowdown in 0.0f64..5.0,
        confidence in 0.5f64..0.999,
    ) {
        match compare(&canary, &stable, max_slowdown, confidence) {
            None => prop_assert!(canary.len() < MIN_DURATION_RUNS || stable.len() < MIN_DURATION_RUNS),
            Some(c) => {
                prop_assert!((0.0..=1.0).contains(&c.p_value), "{c:?}");
                prop_assert!(!c.fails || c.slowdown > max_slowdown, "{c:?}");
            }
        }
    }

    #[test]
    fn a_canary_exactly_as_fast_as_stable_is_never_slow(
        durations in prop::collection::vec(0u64..10_000_000, MIN_DURATION_RUNS..60),
        max_slowdown in 0.0f64..5.0,
        confidence in 0.5f64..0.999,
    ) {
        let c = compare(&durations, &durations, max_slowdown, confidence);
        prop_assert!(c.as_ref().is_some_and(|c| !c.fails && c.slowdown == 0.0), "{c:?}");
    }

    #[test]
    fn the_p95_is_one_of_the_values_and_at_least_the_median(
        mut values in prop::collection::vec(any::<u64>(), 1..200),
    ) {
        values.sort_unstable();
        let p = p95(&values);
        prop_assert!(p.is_some_and(|p| values.contains(&p) && p >= values[(values.len() - 1) / 2]));
    }
}
