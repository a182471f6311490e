//! `queue_backlog`: more steps ready and waiting for a worker than the
//! rule allows, or the oldest of them waiting too long. One instance for
//! the installation; the rule's `for_duration` makes "for 10 minutes" (the
//! state machine keeps it pending until then), so a burst that the
//! workers clear in a minute does not page anyone.

use super::{Finding, InstanceKey, human};
use crate::alert::state::Observation;
use std::time::Duration;

/// The queue now, as `gantry_queue_depth{state="ready"}` and
/// `gantry_queue_oldest_ready_age_seconds` report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFacts {
    /// Steps claimable now.
    pub depth: u64,
    /// How long the oldest of them has waited; `None` with none waiting.
    pub oldest_ready_age: Option<Duration>,
}

/// Breach when the depth is over `max_depth` or the oldest wait over
/// `max_oldest_age` (whichever the rule sets); clear otherwise. Exactly at
/// a limit is within it.
pub fn judge(
    max_depth: Option<u64>,
    max_oldest_age: Option<Duration>,
    facts: &QueueFacts,
) -> Vec<Finding> {
    let mut over = Vec::new();
    if let Some(max) = max_depth
        && facts.depth > max
    {
        over.push(format!("{} steps waiting (limit {max})", facts.depth));
    }
    if let (Some(max), Some(age)) = (max_oldest_age, facts.oldest_ready_age)
        && age > max
    {
        over.push(format!(
            "the oldest has waited {} (limit {})",
            human(age),
            human(max)
        ));
    }
    let finding = if over.is_empty() {
        Finding::new(
            InstanceKey::installation(),
            Observation::Clear,
            format!("{} steps waiting", facts.depth),
        )
    } else {
        Finding::new(
            InstanceKey::installation(),
            Observation::Breach,
            format!("queue backlog: {}", over.join("; ")),
        )
    };
    vec![finding]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(depth: u64, age_secs: Option<u64>) -> QueueFacts {
        QueueFacts {
            depth,
            oldest_ready_age: age_secs.map(Duration::from_secs),
        }
    }

    fn seen(depth: Option<u64>, age: Option<u64>, now: QueueFacts) -> Observation {
        let found = judge(depth, age.map(Duration::from_secs), &now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, InstanceKey::installation());
        found[0].seen
    }

    #[test]
    fn depth_over_its_limit_breaches_at_the_limit_is_clear() {
        assert_eq!(
            seen(Some(100), None, facts(100, Some(9999))),
            Observation::Clear
        );
        assert_eq!(seen(Some(100), None, facts(101, None)), Observation::Breach);
    }

    #[test]
    fn the_oldest_wait_over_its_limit_breaches() {
        assert_eq!(
            seen(None, Some(300), facts(1, Some(300))),
            Observation::Clear
        );
        assert_eq!(
            seen(None, Some(300), facts(1, Some(301))),
            Observation::Breach
        );
        assert_eq!(seen(None, Some(300), facts(0, None)), Observation::Clear);
    }

    #[test]
    fn either_limit_is_enough_and_the_summary_says_which() {
        let found = judge(Some(10), Some(Duration::from_secs(60)), &facts(5, Some(90)));
        assert_eq!(found[0].seen, Observation::Breach);
        assert_eq!(
            found[0].summary,
            "queue backlog: the oldest has waited 1m 30s (limit 1m)"
        );
        let both = judge(
            Some(10),
            Some(Duration::from_secs(60)),
            &facts(11, Some(90)),
        );
        assert!(
            both[0]
                .summary
                .contains("11 steps waiting (limit 10); the oldest")
        );
    }
}
