//! Turning timestamps and samples into figures: milliseconds between two
//! instants, means, medians, nearest-rank percentiles and bootstrap
//! intervals.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// Nearest-rank percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        Self {
            p50: nearest_rank(&s, 0.50),
            p99: nearest_rank(&s, 0.99),
            max: s.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The median and 95th percentile (nearest rank) of a few repetitions, in
/// milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub p50: f64,
    pub p95: f64,
}

impl Spread {
    pub fn of(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        Self {
            p50: nearest_rank(&s, 0.50),
            p95: nearest_rank(&s, 0.95),
        }
    }
}

/// The nearest-rank `p` percentile of `sorted`.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let i = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(i.saturating_sub(1)).copied().unwrap_or(f64::NAN)
}

pub fn ms_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from)
        .num_microseconds()
        .map_or(f64::NAN, |us| us as f64 / 1000.0)
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The 5th and 95th percentiles of `statistic` over `resamples` draws of
/// `n` indices from `0..n` with replacement (a bootstrap 90 % interval).
/// Seeded, so the same samples always give the same interval.
pub fn bootstrap_interval(
    n: usize,
    resamples: usize,
    statistic: impl Fn(&[usize]) -> f64,
) -> (f64, f64) {
    if n == 0 || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut picked = vec![0; n];
    let mut values: Vec<f64> = (0..resamples)
        .map(|_| {
            for p in &mut picked {
                *p = rng.random_range(0..n);
            }
            statistic(&picked)
        })
        .collect();
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((p * resamples as f64) as usize).min(resamples - 1)];
    (at(0.05), at(0.95))
}

/// Bootstrap resamples per interval.
const RESAMPLES: usize = 1000;

/// A difference between two sides (with − without), in ms, with its 90 %
/// interval.
#[derive(Debug, Clone, Copy)]
pub struct Difference {
    pub ms: f64,
    pub low: f64,
    pub high: f64,
}

impl Difference {
    /// Measurable when the whole interval is on one side of zero.
    pub fn measurable(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }

    /// "+0.05 ms [−0.10, +0.21]".
    pub fn describe(&self) -> String {
        format!("{:+.2} ms [{:+.2}, {:+.2}]", self.ms, self.low, self.high)
    }

    /// "+12 µs [+8, +15]": for differences well under a millisecond.
    pub fn describe_micros(&self) -> String {
        format!(
            "{:+.0} µs [{:+.0}, {:+.0}]",
            self.ms * 1000.0,
            self.low * 1000.0,
            self.high * 1000.0
        )
    }
}

/// `statistic(with) − statistic(without)` over the pooled blocks, with a
/// 90 % interval from resampling blocks (each block's two sides together,
/// so drift between blocks lands on both alike).
pub fn paired_difference(
    without: &[Vec<f64>],
    with: &[Vec<f64>],
    statistic: fn(&[f64]) -> f64,
) -> Difference {
    let pooled = |side: &[Vec<f64>], picked: &[usize]| -> f64 {
        let samples: Vec<f64> = picked
            .iter()
            .flat_map(|&b| side.get(b).into_iter().flatten().copied())
            .collect();
        statistic(&samples)
    };
    let blocks = without.len().min(with.len());
    let diff = |picked: &[usize]| pooled(with, picked) - pooled(without, picked);
    let all: Vec<usize> = (0..blocks).collect();
    let (low, high) = bootstrap_interval(blocks, RESAMPLES, diff);
    Difference {
        ms: diff(&all),
        low,
        high,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_pair_the_blocks() {
        // 10 blocks of 20 samples 1.00 … 1.19 ms; "with" is 0.5 ms slower.
        let without: Vec<Vec<f64>> = (0..10)
            .map(|_| (0..20).map(|i| 1.0 + f64::from(i) / 100.0).collect())
            .collect();
        let with: Vec<Vec<f64>> = without
            .iter()
            .map(|b| b.iter().map(|v| v + 0.5).collect())
            .collect();
        let d = paired_difference(&without, &with, |s| Percentiles::of(s).p99);
        assert!((d.ms - 0.5).abs() < 1e-9, "{d:?}");
        assert!(d.measurable(), "{d:?}");
        assert_eq!(d.describe_micros(), "+500 µs [+500, +500]");
        let same = paired_difference(&without, &without, |s| Percentiles::of(s).p50);
        assert_eq!((same.ms, same.low, same.high), (0.0, 0.0, 0.0));
        assert!(!same.measurable());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        let one = Percentiles::of(&[7.0]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        let spread = Spread::of(&(1..=20).rev().map(f64::from).collect::<Vec<_>>());
        assert_eq!((spread.p50, spread.p95), (10.0, 19.0));
    }

    #[test]
    fn bootstrap_intervals_bracket_the_statistic() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let mean_of = |picked: &[usize]| picked.iter().map(|&i| values[i]).sum::<f64>() / 100.0;
        let (low, high) = bootstrap_interval(values.len(), 1000, mean_of);
        // The mean is 50.5 with a standard error of about 2.9.
        assert!(low < 50.5 && 50.5 < high, "{low} {high}");
        assert!(high - low > 5.0 && high - low < 14.0, "{low} {high}");
        assert_eq!(
            bootstrap_interval(values.len(), 1000, mean_of),
            (low, high),
            "seeded"
        );
    }
}
