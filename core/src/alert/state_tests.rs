use super::*;
use chrono::{DateTime, TimeZone, Utc};
use std::time::Duration;

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn policy(resolve_after: u32) -> Policy {
    Policy {
        resolve_after,
        ..Policy::default()
    }
}

use Observation::{Breach, Clear, Hold};

/// Feeds observations a minute apart; the notices sent.
fn run(
    instance: &mut Instance,
    policy: &Policy,
    seen: &[Observation],
    start: i64,
) -> Vec<Option<Notice>> {
    seen.iter()
        .enumerate()
        .map(|(i, s)| instance.observe(*s, t(start + i as i64), policy, false))
        .collect()
}

#[test]
fn fires_once_and_resolves_once() {
    let p = policy(2);
    let mut i = Instance::new(t(0));
    let notices = run(
        &mut i,
        &p,
        &[Breach, Breach, Breach, Clear, Clear, Clear],
        0,
    );
    assert_eq!(
        notices,
        [
            Some(Notice::Firing),
            None,
            None,
            None,
            Some(Notice::Resolved),
            None
        ]
    );
    assert_eq!(i.phase, Phase::Resolved);
}

#[test]
fn hysteresis_a_hold_restarts_the_resolve_count() {
    let p = policy(2);
    let mut i = Instance::new(t(0));
    let notices = run(&mut i, &p, &[Breach, Clear, Hold, Clear, Clear], 0);
    assert_eq!(
        notices,
        [
            Some(Notice::Firing),
            None,
            None,
            None,
            Some(Notice::Resolved)
        ]
    );
}

#[test]
fn pending_waits_for_its_duration_and_a_clear_cancels_it_silently() {
    let p = Policy {
        for_duration: Duration::from_secs(5 * 60),
        ..Policy::default()
    };
    let mut i = Instance::new(t(0));
    assert_eq!(i.observe(Breach, t(0), &p, false), None);
    assert_eq!(i.phase, Phase::Pending);
    assert_eq!(i.observe(Clear, t(2), &p, false), None);
    assert_eq!(i.phase, Phase::Ok, "never fired, so nothing to resolve");
    assert_eq!(i.observe(Breach, t(3), &p, false), None);
    assert_eq!(i.tick(t(7), &p, false), None, "4 minutes in");
    assert_eq!(
        i.tick(t(8), &p, false),
        Some(Notice::Firing),
        "5 minutes in"
    );
}

#[test]
fn reminders_only_when_asked_and_only_as_often_as_asked() {
    let p = Policy {
        renotify: Some(Duration::from_secs(60 * 60)),
        ..Policy::default()
    };
    let mut i = Instance::new(t(0));
    assert_eq!(i.observe(Breach, t(0), &p, false), Some(Notice::Firing));
    assert_eq!(i.tick(t(59), &p, false), None);
    assert_eq!(i.tick(t(60), &p, false), Some(Notice::Reminder));
    assert_eq!(i.observe(Breach, t(61), &p, false), None);
    let quiet = Policy::default();
    let mut j = Instance::new(t(0));
    j.observe(Breach, t(0), &quiet, false);
    assert_eq!(
        j.tick(t(600), &quiet, false),
        None,
        "no renotify: no reminders"
    );
}

#[test]
fn a_silence_holds_notices_not_state() {
    let p = policy(1);
    let mut i = Instance::new(t(0));
    assert_eq!(i.observe(Breach, t(0), &p, true), None, "silenced");
    assert_eq!(i.phase, Phase::Firing, "state is still tracked");
    // Resolved within the silence: its firing never went out, so neither
    // does the resolve.
    assert_eq!(i.observe(Clear, t(1), &p, true), None);
    assert_eq!(i.phase, Phase::Resolved);

    // Fires while silenced, still firing when the silence ends: sent then.
    let mut j = Instance::new(t(0));
    assert_eq!(j.observe(Breach, t(0), &p, true), None);
    assert_eq!(j.tick(t(5), &p, false), Some(Notice::Firing));
    // A resolve during a later silence is delivered: its firing was.
    assert_eq!(j.observe(Clear, t(6), &p, true), Some(Notice::Resolved));
}

#[test]
fn a_flapping_instance_sends_one_pair_instead_of_dozens() {
    let p = Policy {
        flap_max: 2,
        flap_window: Duration::from_secs(60 * 60),
        ..policy(1)
    };
    let mut i = Instance::new(t(0));
    // Breach and clear every minute for an hour.
    let mut sent = Vec::new();
    for m in 0..60 {
        let seen = if m % 2 == 0 { Breach } else { Clear };
        if let Some(n) = i.observe(seen, t(m), &p, false) {
            sent.push((m, n));
        }
    }
    // Two honest pairs, then the third firing makes it flapping: it stays
    // firing through the churn.
    assert_eq!(
        sent,
        [
            (0, Notice::Firing),
            (1, Notice::Resolved),
            (2, Notice::Firing),
            (3, Notice::Resolved),
            (4, Notice::Firing),
        ]
    );
    assert!(i.flapping(&p));
    assert_eq!(i.phase, Phase::Firing);
    // Clear for a whole flap window (the streak began with the last clear
    // at minute 59): it resolves, once.
    let mut resolved = Vec::new();
    for m in 60..125 {
        if let Some(n) = i.observe(Clear, t(m), &p, false) {
            resolved.push((m, n));
        }
    }
    assert_eq!(resolved, [(119, Notice::Resolved)]);
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    assert_eq!(
        fingerprint("r1", "wf", "prod"),
        fingerprint("r1", "wf", "prod")
    );
    assert_ne!(
        fingerprint("r1", "wf", "prod"),
        fingerprint("r1", "wf", "dev")
    );
    assert_ne!(
        fingerprint("r1", "wfp", "rod"),
        fingerprint("r1", "wf", "prod")
    );
    assert_eq!(fingerprint("r1", "wf", "prod").len(), 16);
}
