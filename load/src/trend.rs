//! Is a resource growing? A least-squares line through the samples after
//! a warm-up (pools fill, caches warm, the allocator settles), and its rise
//! over the judged window compared with what the resource may drift.

/// The first part of the samples not judged.
const WARM_UP: f64 = 0.25;
/// Fewer judged samples than this can't tell a trend from noise.
pub const MIN_SAMPLES: usize = 6;

/// How much a series may rise over the judged window: the larger of an
/// absolute floor and a share of its median.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub floor: f64,
    pub relative: f64,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    /// Samples judged (after the warm-up).
    pub judged: usize,
    pub median: f64,
    /// The fitted line's rise from the first judged sample to the last.
    pub rise: f64,
    pub allowed: f64,
}

impl Verdict {
    pub fn growing(&self) -> bool {
        self.rise > self.allowed
    }

    pub fn too_short(&self) -> bool {
        self.judged < MIN_SAMPLES
    }
}

/// Judges `points` (seconds, value), in time order.
pub fn judge(points: &[(f64, f64)], allowance: Allowance) -> Verdict {
    let skip = (points.len() as f64 * WARM_UP).ceil() as usize;
    let judged = &points[skip.min(points.len())..];
    let mut values: Vec<f64> = judged.iter().map(|p| p.1).collect();
    values.sort_by(f64::total_cmp);
    let median = values.get(values.len() / 2).copied().unwrap_or(0.0);
    let rise = match (judged.first(), judged.last()) {
        (Some(first), Some(last)) if judged.len() >= 2 => slope(judged) * (last.0 - first.0),
        _ => 0.0,
    };
    Verdict {
        judged: judged.len(),
        median,
        rise,
        allowed: allowance.floor.max(allowance.relative * median),
    }
}

/// The least-squares slope of `points`.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in points {
        sxy += (x - mean_x) * (y - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOME: Allowance = Allowance {
        floor: 10.0,
        relative: 0.25,
    };

    fn series(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..40)
            .map(|i| (f64::from(i) * 2.0, f(f64::from(i) * 2.0)))
            .collect()
    }

    #[test]
    fn a_flat_series_with_noise_is_not_growing() {
        let flat = series(|t| 100.0 + if (t as i64) % 4 == 0 { 3.0 } else { -3.0 });
        let v = judge(&flat, SOME);
        assert!(!v.growing(), "{v:?}");
        assert_eq!(v.judged, 30);
    }

    #[test]
    fn a_steady_climb_beyond_the_allowance_is_growing() {
        // 1 unit a second for the judged 58 s: 58 > max(10, 25 % of ~150).
        let leak = series(|t| 100.0 + t);
        let v = judge(&leak, SOME);
        assert!(v.growing(), "{v:?}");
        assert!((v.rise - 58.0).abs() < 1e-6, "{v:?}");
    }

    #[test]
    fn growth_during_the_warm_up_only_is_not_a_trend() {
        let warming = series(|t| if t < 20.0 { t * 10.0 } else { 200.0 });
        assert!(!judge(&warming, SOME).growing());
    }

    #[test]
    fn a_handful_of_samples_is_too_short_to_judge() {
        let v = judge(&series(|_| 1.0)[..4], SOME);
        assert!(v.too_short());
    }
}
