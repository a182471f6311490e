//! How long to wait before the next attempt: exponential from 10 s,
//! doubling per attempt up to [`MAX_BACKOFF`], with "equal jitter" (a random
//! point in the upper half) so senders that failed together don't retry
//! together, and never sooner than the receiver's `Retry-After`.

use super::MAX_RETRY_AFTER;
use rand::Rng;
use std::time::Duration;

const FIRST: Duration = Duration::from_secs(10);
/// The longest wait Gantry picks by itself (a receiver's `Retry-After`
/// may ask for more, up to [`MAX_RETRY_AFTER`]).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10 * 60);

/// The wait after failed attempt `attempt` (1-based; 0 counts as 1): in
/// `[d/2, d]` for `d = min(10 s × 2^(attempt-1), 10 min)`, and at least
/// `retry_after` (itself capped at an hour).
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let ceiling = FIRST.saturating_mul(1 << doublings).min(MAX_BACKOFF);
    let half = ceiling / 2;
    let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
    let wait = half + Duration::from_millis(jitter);
    match retry_after {
        Some(asked) => wait.max(asked.min(MAX_RETRY_AFTER)),
        None => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(attempt: u32, low: u64, high: u64) {
        for _ in 0..200 {
            let d = backoff(attempt, None);
            assert!(
                d >= Duration::from_secs(low) && d <= Duration::from_secs(high),
                "attempt {attempt}: {d:?} not in [{low}s, {high}s]"
            );
        }
    }

    #[test]
    fn waits_double_per_attempt_within_their_jitter_and_stop_at_ten_minutes() {
        within(0, 5, 10);
        within(1, 5, 10);
        within(2, 10, 20);
        within(3, 20, 40);
        within(7, 300, 600);
        within(8, 300, 600);
        within(u32::MAX, 300, 600);
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let waits: std::collections::HashSet<Duration> =
            (0..50).map(|_| backoff(6, None)).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_an_hour() {
        assert!(backoff(1, Some(Duration::from_secs(120))) == Duration::from_secs(120));
        // A shorter Retry-After doesn't shorten the backoff.
        assert!(backoff(3, Some(Duration::from_secs(1))) >= Duration::from_secs(20));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(86_400))),
            MAX_RETRY_AFTER
        );
    }
}
