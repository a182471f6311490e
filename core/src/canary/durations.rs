//! Whether the canary's successful runs are slower than stable's by more
//! than the policy allows: a rank-based test (Mann–Whitney) of the
//! canary's durations against stable's *stretched by the allowance*, so a
//! canary only fails when it is slower than "stable plus 20%" with
//! confidence, and its p95 is past that line too. Testing against the
//! stretched durations is what keeps repeated looks from failing a canary
//! as fast as stable: against them it is stochastically faster, and the
//! one-sided statistic drifts away from the threshold as runs accumulate.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Fewest successful runs of each version before durations are judged.
pub const MIN_DURATION_RUNS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DurationComparison {
    pub canary_p95_ms: u64,
    pub stable_p95_ms: u64,
    /// How much slower the canary's p95 is (0.25: 25% slower; negative:
    /// faster).
    pub slowdown: f64,
    /// One-sided P-value of "the canary is slower than stable stretched by
    /// the allowance".
    pub p_value: f64,
    /// The canary is too slow.
    pub fails: bool,
    pub why: String,
}

/// The nearest-rank 95th percentile; `None` for no values.
pub fn p95(sorted: &[u64]) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * 95).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Mann–Whitney's U of `a` over `b` (pairs where a > b, ties half) and its
/// one-sided P-value for "a tends to be larger", normal approximation.
fn u_test(a: &[f64], b: &[f64]) -> f64 {
    let mut b = b.to_vec();
    b.sort_by(f64::total_cmp);
    let mut u = 0.0;
    for x in a {
        let below = b.partition_point(|y| y < x);
        let not_above = b.partition_point(|y| y <= x);
        u += below as f64 + (not_above - below) as f64 / 2.0;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    if sd == 0.0 {
        return 1.0;
    }
    // Continuity correction toward the mean.
    let z = (u - mean - 0.5) / sd;
    Normal::standard().sf(z)
}

/// Compares successful runs' durations in milliseconds. `None` while
/// either version has fewer than [`MIN_DURATION_RUNS`].
pub fn compare(
    canary: &[u64],
    stable: &[u64],
    max_slowdown: f64,
    confidence: f64,
) -> Option<DurationComparison> {
    if canary.len() < MIN_DURATION_RUNS || stable.len() < MIN_DURATION_RUNS {
        return None;
    }
    let mut c = canary.to_vec();
    let mut s = stable.to_vec();
    c.sort_unstable();
    s.sort_unstable();
    let (cp, sp) = (p95(&c)?, p95(&s)?);
    let slowdown = if sp == 0 {
        0.0
    } else {
        cp as f64 / sp as f64 - 1.0
    };
    let stretched: Vec<f64> = s.iter().map(|d| *d as f64 * (1.0 + max_slowdown)).collect();
    let canary_f: Vec<f64> = c.iter().map(|d| *d as f64).collect();
    let p_value = u_test(&canary_f, &stretched);
    let fails = p_value < 1.0 - confidence && slowdown > max_slowdown;
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let why = if fails {
        format!(
            "the canary is slower than stable allows: p95 {cp} ms against {sp} ms ({} slower, \
             {} allowed)",
            pct(slowdown),
            pct(max_slowdown)
        )
    } else {
        format!(
            "durations within the allowance: p95 {cp} ms against {sp} ms ({} allowed)",
            pct(max_slowdown)
        )
    };
    Some(DurationComparison {
        canary_p95_ms: cp,
        stable_p95_ms: sp,
        slowdown,
        p_value,
        fails,
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn sample(rng: &mut StdRng, n: usize, scale: f64) -> Vec<u64> {
        // Log-normal-ish: most runs near the median, a tail of slow ones.
        (0..n)
            .map(|_| {
                let x: f64 = rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>();
                (1000.0 * scale * (x * 0.6).exp()) as u64
            })
            .collect()
    }

    #[test]
    fn p95_is_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(p95(&v), Some(95));
        assert_eq!(p95(&[7]), Some(7));
        assert_eq!(p95(&[]), None);
    }

    #[test]
    fn too_few_runs_are_not_judged() {
        assert!(compare(&[1; 9], &[1; 100], 0.2, 0.975).is_none());
    }

    #[test]
    fn a_canary_half_again_as_slow_fails_and_an_equal_one_never_does() {
        let mut rng = StdRng::seed_from_u64(7);
        let stable = sample(&mut rng, 300, 1.0);
        let slow = sample(&mut rng, 60, 1.5);
        let verdict = compare(&slow, &stable, 0.2, 0.975).expect("judged");
        assert!(verdict.fails, "{verdict:?}");
        assert!(
            verdict.why.contains("slower than stable allows"),
            "{}",
            verdict.why
        );
        // Repeated looks at an equal canary: never a failure.
        let mut equal = Vec::new();
        for _ in 0..50 {
            equal.extend(sample(&mut rng, 10, 1.0));
            if let Some(v) = compare(&equal, &stable, 0.2, 0.975) {
                assert!(!v.fails, "{v:?}");
            }
        }
    }

    #[test]
    fn slower_within_the_allowance_passes() {
        let mut rng = StdRng::seed_from_u64(11);
        let stable = sample(&mut rng, 400, 1.0);
        let bit_slower = sample(&mut rng, 400, 1.1);
        let v = compare(&bit_slower, &stable, 0.2, 0.975).expect("judged");
        assert!(!v.fails, "{v:?}");
    }
}
