//! Where a principal stands against a quota after a check, from the
//! limiter's theoretical arrival time (TAT: when its bucket would be full
//! again), in microseconds: what the `RateLimit` and `Retry-After`
//! headers say.

use super::Quota;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub allowed: bool,
    pub quota: Quota,
    /// Requests that may follow at once.
    pub remaining: u32,
    /// Seconds until the whole quota is available again.
    pub reset_seconds: u64,
    /// When refused: seconds until one more request is allowed.
    pub retry_after_seconds: u64,
}

impl Standing {
    /// After an allowed request moved the TAT to `tat`.
    pub fn allowed(quota: Quota, tat: i64, now: i64) -> Standing {
        let ahead = u64::try_from(tat.saturating_sub(now)).unwrap_or(0);
        let t = quota.emission_interval_micros();
        let used = ahead.div_ceil(t);
        Standing {
            allowed: true,
            quota,
            remaining: u32::try_from(u64::from(quota.requests).saturating_sub(used)).unwrap_or(0),
            reset_seconds: ahead.div_ceil(1_000_000),
            retry_after_seconds: 0,
        }
    }

    /// A refusal while the TAT stands at `tat`.
    pub fn refused(quota: Quota, tat: i64, now: i64) -> Standing {
        let ahead = u64::try_from(tat.saturating_sub(now)).unwrap_or(0);
        let t = quota.emission_interval_micros();
        // One more fits once the TAT is within the burst of now again.
        let burst = t * u64::from(quota.requests);
        let wait = (ahead + t).saturating_sub(burst);
        Standing {
            allowed: false,
            quota,
            remaining: 0,
            reset_seconds: ahead.div_ceil(1_000_000),
            // Never 0: "retry after 0 seconds" invites a busy loop.
            retry_after_seconds: wait.div_ceil(1_000_000).max(1),
        }
    }
}

/// The GCRA step: with the TAT at `tat` (or none yet), may a request at
/// `now` pass, and where does the TAT move? The database store runs the
/// same arithmetic in one SQL statement (`store/portable/rate_limits.rs`).
pub fn admit(quota: Quota, tat: Option<i64>, now: i64) -> (bool, i64) {
    let t = i64::try_from(quota.emission_interval_micros()).unwrap_or(i64::MAX);
    let burst = t.saturating_mul(i64::from(quota.requests));
    let start = tat.map_or(now, |tat| tat.max(now));
    let next = start.saturating_add(t);
    if next.saturating_sub(burst) <= now {
        (true, next)
    } else {
        (false, start)
    }
}
