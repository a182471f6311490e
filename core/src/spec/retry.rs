//! Retry arithmetic: how many attempts a step gets and how long to wait
//! between them. Pure and jitter-free so the engine's decisions are
//! reproducible in tests; overflow saturates to the cap instead of panicking.

use super::{Backoff, RetryPolicy, StepSpec};
use std::time::Duration;

impl RetryPolicy {
    /// Delay before the second attempt when `initial` is not given.
    pub const DEFAULT_INITIAL: Duration = Duration::from_secs(1);
    /// Cap on every delay when `max` is not given.
    pub const DEFAULT_MAX: Duration = Duration::from_secs(60 * 60);

    /// How long to wait before attempt number `attempt` (the first attempt
    /// is 1 and starts at once). Before attempt 2 the wait is `initial`;
    /// exponential backoff doubles it for each later attempt. Never more
    /// than `max`.
    pub fn delay_before_attempt(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let initial = self.initial.map_or(Self::DEFAULT_INITIAL, |d| d.0);
        let cap = self.max.map_or(Self::DEFAULT_MAX, |d| d.0);
        let delay = match self.backoff {
            Backoff::Fixed => initial,
            Backoff::Exponential => {
                // attempt >= 2 here, so this cannot underflow.
                let doublings = attempt - 2;
                1u32.checked_shl(doublings)
                    .and_then(|factor| initial.checked_mul(factor))
                    .unwrap_or(Duration::MAX)
            }
        };
        delay.min(cap)
    }
}

impl StepSpec {
    /// Attempts this step gets in total: 1 without a retry policy.
    pub fn max_attempts(&self) -> u32 {
        self.retries.as_ref().map_or(1, |r| r.max_attempts.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecDuration;

    fn policy(backoff: Backoff, initial: Option<u64>, max: Option<u64>) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            backoff,
            initial: initial.map(|s| SpecDuration(Duration::from_secs(s))),
            max: max.map(|s| SpecDuration(Duration::from_secs(s))),
        }
    }

    #[test]
    fn delays_per_attempt() {
        let secs = Duration::from_secs;
        let cases = [
            // (policy, attempt, expected)
            (policy(Backoff::Fixed, None, None), 0, Duration::ZERO),
            (policy(Backoff::Fixed, None, None), 1, Duration::ZERO),
            (policy(Backoff::Fixed, None, None), 2, secs(1)),
            (policy(Backoff::Fixed, Some(5), None), 9, secs(5)),
            (policy(Backoff::Fixed, Some(50), Some(10)), 2, secs(10)),
            (policy(Backoff::Exponential, Some(5), None), 2, secs(5)),
            (policy(Backoff::Exponential, Some(5), None), 3, secs(10)),
            (policy(Backoff::Exponential, Some(5), None), 4, secs(20)),
            (policy(Backoff::Exponential, Some(5), None), 5, secs(40)),
            (policy(Backoff::Exponential, Some(5), Some(30)), 5, secs(30)),
            (policy(Backoff::Exponential, None, None), 13, secs(2048)),
            (policy(Backoff::Exponential, None, None), 14, secs(3600)),
        ];
        for (p, attempt, want) in cases {
            assert_eq!(
                p.delay_before_attempt(attempt),
                want,
                "{p:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn huge_attempt_numbers_saturate_at_the_cap() {
        let p = policy(Backoff::Exponential, Some(7 * 86400), Some(7 * 86400));
        for attempt in [33, 34, 64, 65, 1000, u32::MAX] {
            assert_eq!(
                p.delay_before_attempt(attempt),
                Duration::from_secs(7 * 86400)
            );
        }
        let default_cap = policy(Backoff::Exponential, None, None);
        assert_eq!(
            default_cap.delay_before_attempt(u32::MAX),
            RetryPolicy::DEFAULT_MAX
        );
    }

    #[test]
    fn max_attempts_defaults_to_one() {
        let mut step = StepSpec {
            id: "a".into(),
            name: None,
            needs: vec![],
            run: Some("true".into()),
            http: None,
            timeout: None,
            retries: None,
            env: Default::default(),
            secrets: Default::default(),
            outputs: vec![],
            limits: None,
        };
        assert_eq!(step.max_attempts(), 1);
        step.retries = Some(policy(Backoff::Fixed, None, None));
        assert_eq!(step.max_attempts(), 5);
    }
}
