//! Turning timestamps and samples into figures: milliseconds between two
//! instants, means, medians and nearest-rank percentiles.

use chrono::{DateTime, Utc};
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
        let rank = |p: f64| {
            let i = (p * s.len() as f64).ceil() as usize;
            s.get(i.saturating_sub(1)).copied().unwrap_or(f64::NAN)
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: s.last().copied().unwrap_or(f64::NAN),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        let one = Percentiles::of(&[7.0]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
    }
}
