//! Judging a canary by its runs' failures against the stable version's
//! runs admitted in the same window: a Beta-Binomial posterior per version
//! (uniform prior), and the probability that the canary fails more often
//! than stable by more than the tolerance.
//!
//! "Worse" is `p_canary > p_stable × (1 + relative) + absolute`: the
//! relative part catches "fails three times as often" whatever the base
//! rate, the absolute floor keeps a near-zero stable rate from making one
//! failure damning. The canary *fails* when P(worse) passes the
//! confidence, *passes* when P(not worse) does (with at least `min_runs`
//! canary runs), and *continues* otherwise; the caller calls a step that
//! ran out of time without a decision inconclusive.
//!
//! Failed and timed-out runs count as failures; cancelled ones and runs
//! pinned to a version are left out by the caller.

use statrs::distribution::{Beta, Continuous, ContinuousCDF};

/// Finished runs of one version and how many of them failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    pub runs: u64,
    pub failures: u64,
}

impl Outcomes {
    pub fn new(runs: u64, failures: u64) -> Self {
        Self {
            runs,
            failures: failures.min(runs),
        }
    }

    fn posterior(self) -> Option<Beta> {
        Beta::new(
            1.0 + self.failures as f64,
            1.0 + (self.runs - self.failures) as f64,
        )
        .ok()
    }
}

/// How much worse a canary may be, and how sure the analysis must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Allowed relative increase of the failure rate (0.5: half again).
    pub relative: f64,
    /// Allowed absolute increase on top (0.01: one point).
    pub absolute: f64,
    /// How sure either decision must be (0.95).
    pub confidence: f64,
    /// Canary runs before it may pass (it may fail sooner).
    pub min_runs: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            relative: 0.5,
            absolute: 0.005,
            confidence: 0.975,
            min_runs: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pass,
    Fail,
    Continue,
}

/// A failure rate's posterior mean and 95% credible interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub decision: Decision,
    pub canary: Estimate,
    pub stable: Estimate,
    /// P(the canary is worse than stable by more than the tolerance).
    pub p_worse: f64,
    /// One sentence saying why.
    pub why: String,
}

/// Intervals of the integral over the stable posterior's bulk: accurate
/// to well under a percent however peaked the posteriors, and cheap
/// enough for a simulation of thousands of canaries.
const STEPS: usize = 400;

fn estimate(b: &Beta, o: Outcomes) -> Estimate {
    Estimate {
        rate: (1.0 + o.failures as f64) / (2.0 + o.runs as f64),
        low: b.inverse_cdf(0.025),
        high: b.inverse_cdf(0.975),
    }
}

/// P(p_canary > p_stable × (1 + relative) + absolute): the canary's upper
/// tail above the line, weighted by the stable posterior, by Simpson's
/// rule over the stable posterior's central 1 − 2e-6 (normalized by the
/// same rule's mass, so truncation and discretization cancel).
fn probability_worse_of(canary: &Beta, stable: &Beta, t: &Thresholds) -> f64 {
    let (lo, hi) = (stable.inverse_cdf(1e-6), stable.inverse_cdf(1.0 - 1e-6));
    let h = (hi - lo) / STEPS as f64;
    let (mut mass, mut worse) = (0.0, 0.0);
    for i in 0..=STEPS {
        let x = lo + h * i as f64;
        let w = match i {
            0 => 1.0,
            i if i == STEPS => 1.0,
            i if i % 2 == 1 => 4.0,
            _ => 2.0,
        } * stable.pdf(x);
        let line = x * (1.0 + t.relative) + t.absolute;
        let tail = if line >= 1.0 {
            0.0
        } else {
            1.0 - canary.cdf(line)
        };
        mass += w;
        worse += w * tail;
    }
    if mass > 0.0 {
        (worse / mass).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// P(the canary is worse than stable by more than the tolerance): what
/// [`analyse`] decides on, without the estimates (for simulations).
pub fn probability_worse(canary: Outcomes, stable: Outcomes, t: &Thresholds) -> f64 {
    let canary = Outcomes::new(canary.runs, canary.failures);
    let stable = Outcomes::new(stable.runs, stable.failures);
    match (canary.posterior(), stable.posterior()) {
        (Some(c), Some(s)) => probability_worse_of(&c, &s, t),
        _ => 0.5,
    }
}

/// The decision `p_worse` makes after `canary_runs` canary runs.
pub fn decide(p_worse: f64, canary_runs: u64, t: &Thresholds) -> Decision {
    if p_worse > t.confidence {
        Decision::Fail
    } else if 1.0 - p_worse > t.confidence && canary_runs >= t.min_runs {
        Decision::Pass
    } else {
        Decision::Continue
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Judges the canary's runs against stable's.
pub fn analyse(canary: Outcomes, stable: Outcomes, t: &Thresholds) -> Analysis {
    let canary = Outcomes::new(canary.runs, canary.failures);
    let stable = Outcomes::new(stable.runs, stable.failures);
    // Shapes of at least 1 are always valid; a failure here is a bug in
    // statrs, judged as "no evidence yet".
    let (Some(cb), Some(sb)) = (canary.posterior(), stable.posterior()) else {
        return Analysis {
            decision: Decision::Continue,
            canary: Estimate {
                rate: 0.0,
                low: 0.0,
                high: 1.0,
            },
            stable: Estimate {
                rate: 0.0,
                low: 0.0,
                high: 1.0,
            },
            p_worse: 0.5,
            why: "the failure rates could not be estimated".into(),
        };
    };
    let p_worse = probability_worse_of(&cb, &sb, t);
    let (ce, se) = (estimate(&cb, canary), estimate(&sb, stable));
    let counts = format!(
        "canary {}/{} failed ({} [{}, {}]), stable {}/{} ({} [{}, {}])",
        canary.failures,
        canary.runs,
        percent(ce.rate),
        percent(ce.low),
        percent(ce.high),
        stable.failures,
        stable.runs,
        percent(se.rate),
        percent(se.low),
        percent(se.high),
    );
    let decision = decide(p_worse, canary.runs, t);
    let why = match decision {
        Decision::Fail => format!(
            "the canary fails more often than stable allows: {} sure ({counts})",
            percent(p_worse)
        ),
        Decision::Pass => format!(
            "the canary fails no more often than stable allows: {} sure ({counts})",
            percent(1.0 - p_worse)
        ),
        Decision::Continue if canary.runs < t.min_runs => format!(
            "{} of at least {} canary runs so far ({counts})",
            canary.runs, t.min_runs
        ),
        Decision::Continue => format!(
            "not sure yet either way: {} that the canary is worse ({counts})",
            percent(p_worse)
        ),
    };
    Analysis {
        decision,
        canary: ce,
        stable: se,
        p_worse,
        why,
    }
}

#[cfg(test)]
#[path = "simulation_tests.rs"]
mod simulation_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(c: (u64, u64), s: (u64, u64)) -> Analysis {
        analyse(
            Outcomes::new(c.0, c.1),
            Outcomes::new(s.0, s.1),
            &Thresholds::default(),
        )
    }

    #[test]
    fn a_canary_failing_far_more_often_fails() {
        let a = judge((30, 12), (300, 6));
        assert_eq!(a.decision, Decision::Fail, "{a:?}");
        assert!(a.p_worse > 0.95);
        assert!(a.why.contains("canary 12/30 failed"), "{}", a.why);
    }

    #[test]
    fn a_canary_as_good_as_stable_passes_once_it_has_enough_runs() {
        // 1% each; the tolerance is 2.5% (half again, plus a point). With
        // 200 canary runs that is not yet sure; with 1,000 it is.
        let unsure = judge((200, 2), (2_000, 20));
        assert_eq!(unsure.decision, Decision::Continue, "{unsure:?}");
        let a = judge((1_000, 10), (10_000, 100));
        assert_eq!(a.decision, Decision::Pass, "{a:?}");
        assert!(
            a.why.starts_with("the canary fails no more often"),
            "{}",
            a.why
        );
        // Too few runs to pass, however clean.
        let early = judge((10, 0), (2_000, 20));
        assert_eq!(early.decision, Decision::Continue, "{early:?}");
        assert!(early.why.contains("10 of at least 20"), "{}", early.why);
    }

    #[test]
    fn sparse_evidence_continues_rather_than_deciding() {
        // One failure in five, stable one in twenty: not enough to say.
        let a = judge((5, 1), (20, 1));
        assert_eq!(a.decision, Decision::Continue, "{a:?}");
        let none = judge((0, 0), (0, 0));
        assert_eq!(none.decision, Decision::Continue, "{none:?}");
        assert!((0.0..=1.0).contains(&none.p_worse));
    }

    #[test]
    fn estimates_are_posterior_means_with_intervals_around_them() {
        let a = judge((98, 0), (998, 10));
        assert!((a.canary.rate - 0.01).abs() < 1e-9);
        assert!(a.canary.low < a.canary.rate && a.canary.rate < a.canary.high);
        assert!((a.stable.rate - 0.011).abs() < 1e-9);
        assert!(a.stable.high - a.stable.low < a.canary.high - a.canary.low);
    }

    #[test]
    fn more_failures_never_make_the_canary_look_better() {
        let mut last = 0.0;
        for failures in 0..=40 {
            let p = judge((40, failures), (400, 8)).p_worse;
            assert!(p + 1e-9 >= last, "{failures}: {p} < {last}");
            last = p;
        }
    }
}
