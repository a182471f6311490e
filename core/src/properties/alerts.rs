//! The alert state machine over any sequence of observations and passes,
//! silences and policies: the promises `alert/state.rs` documents hold for
//! every history, not only the ones its unit tests tell.
//!
//! - notices pair up: a firing notice, maybe reminders, then at most one
//!   resolve; never two firings without a resolve between, never a
//!   resolve of a firing nobody was told about;
//! - it fires only after the breach held `for_duration`, and resolves only
//!   after `resolve_after` clear observations in a row;
//! - reminders only while firing, with `renotify` set, that far apart;
//! - a silence holds every notice but a resolve;
//! - the stored state reads back as it was written.

use super::config;
use crate::alert::state::{Instance, Notice, Observation, Phase, Policy};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::time::Duration;

/// What happens next to an instance, and how long after the last event.
#[derive(Debug, Clone, Copy)]
enum Event {
    Observe(Observation, bool),
    Tick(bool),
}

fn event() -> impl Strategy<Value = (u64, Event)> {
    let observation = prop_oneof![
        3 => Just(Observation::Breach),
        3 => Just(Observation::Clear),
        1 => Just(Observation::Hold),
    ];
    let what = prop_oneof![
        3 => (observation, prop::bool::weighted(0.2)).prop_map(|(o, s)| Event::Observe(o, s)),
        1 => prop::bool::weighted(0.2).prop_map(Event::Tick),
    ];
    // Seconds since the last event: often none, sometimes hours.
    let gap = prop_oneof![Just(0u64), 0u64..120, 0u64..20_000];
    (gap, what)
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![Just(0u64), 0u64..600],
        1u32..5,
        prop::option::of(1u64..3_600),
        0u32..5,
        1u64..7_200,
    )
        .prop_map(
            |(for_s, resolve_after, renotify, flap_max, flap_window)| Policy {
                for_duration: Duration::from_secs(for_s),
                resolve_after,
                renotify: renotify.map(Duration::from_secs),
                flap_max,
                flap_window: Duration::from_secs(flap_window),
            },
        )
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_history_keeps_the_documented_promises(
        policy in policy(),
        events in prop::collection::vec(event(), 0..120),
    ) {
        let mut now = start();
        let mut instance = Instance::new(now);
        // What the receiver has been told: firing (and not yet resolved).
        let mut told_firing = false;
        let mut last_notice: Option<DateTime<Utc>> = None;
        // When the current breach began (entering pending), and clear
        // observations in a row since the last other observation.
        let mut pending_since: Option<DateTime<Utc>> = None;
        let mut clears_in_a_row = 0u32;
        for (gap, event) in events {
            now += chrono::Duration::seconds(i64::try_from(gap).unwrap_or(0));
            let before = instance.phase;
            let (notice, silenced) = match event {
                Event::Observe(seen, silenced) => {
                    clears_in_a_row = if seen == Observation::Clear { clears_in_a_row + 1 } else { 0 };
                    (instance.observe(seen, now, &policy, silenced), silenced)
                }
                Event::Tick(silenced) => (instance.tick(now, &policy, silenced), silenced),
            };
            let after = instance.phase;
            if after == Phase::Pending && before != Phase::Pending {
                pending_since = Some(now);
            }
            if after == Phase::Firing && before != Phase::Firing {
                // Straight from ok to firing: the breach began now.
                let since = if before == Phase::Pending { pending_since.unwrap_or(now) } else { now };
                prop_assert!(
                    (now - since).to_std().unwrap_or_default() >= policy.for_duration,
                    "fired {}s into a breach that must hold {:?}", (now - since).num_seconds(), policy.for_duration
                );
            }
            if before == Phase::Firing && after == Phase::Resolved {
                prop_assert!(clears_in_a_row >= policy.resolve_after, "resolved after {clears_in_a_row} clears");
            }
            prop_assert!(
                !(before == Phase::Firing && after == Phase::Ok),
                "a firing instance went back to ok without resolving"
            );
            match notice {
                Some(Notice::Firing) => {
                    prop_assert!(!silenced, "a firing notice in a silence");
                    prop_assert!(!told_firing, "two firing notices without a resolve between");
                    prop_assert_eq!(after, Phase::Firing);
                    told_firing = true;
                    last_notice = Some(now);
                }
                Some(Notice::Reminder) => {
                    prop_assert!(!silenced, "a reminder in a silence");
                    prop_assert!(told_firing && after == Phase::Firing, "a reminder of nothing firing");
                    let every = policy.renotify.ok_or_else(|| TestCaseError::fail("a reminder without renotify"))?;
                    let last = last_notice.ok_or_else(|| TestCaseError::fail("a reminder before any notice"))?;
                    prop_assert!((now - last).to_std().unwrap_or_default() >= every);
                    last_notice = Some(now);
                }
                Some(Notice::Resolved) => {
                    prop_assert!(told_firing, "a resolve of a firing nobody was told about");
                    prop_assert_eq!(after, Phase::Resolved);
                    told_firing = false;
                    last_notice = Some(now);
                }
                None => {}
            }
            // Told "firing" exactly while it fires and the notice went out.
            prop_assert_eq!(told_firing, after == Phase::Firing && instance.firing_sent);
            // Stored and read back, it is the same instance.
            let stored = serde_json::to_string(&instance).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let read: Instance = serde_json::from_str(&stored).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&read, &instance);
        }
    }
}
