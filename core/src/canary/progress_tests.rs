use super::*;
use crate::approval::Person;
use crate::canary::policy::CanaryPolicy;
use crate::canary::view::CanaryState;
use chrono::Duration;

fn t0() -> DateTime<Utc> {
    "2026-12-06T10:00:00Z".parse().unwrap()
}

fn canary(state: CanaryState, step: u32) -> Canary {
    let policy: CanaryPolicy = serde_json::from_value(serde_json::json!({
        "steps": [{ "weight": 10, "min_runs": 20, "min_time": "10m", "time_limit": "1h" },
                  { "weight": 50, "min_runs": 20, "min_time": "10m", "time_limit": "1h" }],
        "critical_steps": ["migrate"],
        // Half a point (the default) needs ~740 clean runs to be sure;
        // five points, ~75.
        "analysis": { "max_failure_increase_absolute": 0.05 },
    }))
    .unwrap();
    Canary {
        id: "c1".into(),
        workflow: "ship".into(),
        environment: "prod".into(),
        stable_version: 1,
        canary_version: 2,
        request_id: "r1".into(),
        weight: policy.steps[step as usize].weight,
        policy,
        step,
        state,
        started_by: Person {
            id: "u1".into(),
            name: "Ada".into(),
        },
        started_at: t0(),
        step_started_at: t0(),
        step_clock_at: t0(),
        ended_at: None,
        why: None,
        held: false,
        last: None,
    }
}

fn facts(canary: (u64, u64), stable: (u64, u64)) -> StepFacts {
    StepFacts {
        canary: ArmCounts {
            runs: canary.0,
            failures: canary.1,
        },
        stable: ArmCounts {
            runs: stable.0,
            failures: stable.1,
        },
        ..StepFacts::default()
    }
}

#[test]
fn a_clean_step_advances_only_after_its_minimum_time() {
    let c = canary(CanaryState::Running, 0);
    let clean = facts((200, 0), (2_000, 0));
    let (e, next) = look(&c, &clean, t0() + Duration::minutes(5));
    assert_eq!((e.decision, next), (CanaryDecision::Pass, Next::Stay));
    assert!(
        e.why.contains("once it has been at 10% for 10 min"),
        "{}",
        e.why
    );
    let (_, next) = look(&c, &clean, t0() + Duration::minutes(10));
    assert_eq!(next, Next::Advance { step: 1 });
    let last = canary(CanaryState::Running, 1);
    assert_eq!(
        look(&last, &clean, t0() + Duration::hours(1)).1,
        Next::Promote
    );
}

#[test]
fn a_failing_canary_rolls_back_even_when_paused() {
    for state in [CanaryState::Running, CanaryState::Paused] {
        let (e, next) = look(&canary(state, 0), &facts((30, 20), (300, 3)), t0());
        assert_eq!((e.decision, next), (CanaryDecision::Fail, Next::RollBack));
        assert!(e.why.contains("canary 20/30 failed"), "{}", e.why);
    }
}

#[test]
fn a_critical_step_failing_once_rolls_back() {
    let mut f = facts((1, 1), (0, 0));
    f.critical_failure = Some(CriticalFailure {
        step: "migrate".into(),
        run_id: "run-9".into(),
    });
    let (e, next) = look(&canary(CanaryState::Running, 0), &f, t0());
    assert_eq!(next, Next::RollBack);
    assert_eq!(
        e.why,
        "critical step \"migrate\" failed in canary run run-9"
    );
}

#[test]
fn an_undecided_step_pauses_at_its_time_limit_and_never_passes() {
    let c = canary(CanaryState::Running, 0);
    let sparse = facts((5, 1), (20, 1));
    assert_eq!(
        look(&c, &sparse, t0() + Duration::minutes(59)).1,
        Next::Stay
    );
    let (e, next) = look(&c, &sparse, t0() + Duration::hours(1));
    assert_eq!(
        (e.decision, next),
        (CanaryDecision::Inconclusive, Next::Pause)
    );
    assert!(
        e.why.starts_with("no decision within the step's 1 h"),
        "{}",
        e.why
    );
    // Paused, it stays paused however much time passes.
    let paused = canary(CanaryState::Paused, 0);
    assert_eq!(
        look(
            &paused,
            &facts((200, 0), (2_000, 0)),
            t0() + Duration::days(2)
        )
        .1,
        Next::Stay
    );
}

#[test]
fn a_freeze_holds_a_passing_step_but_not_a_rollback() {
    let c = canary(CanaryState::Running, 0);
    let mut f = facts((200, 0), (2_000, 0));
    f.frozen_until = Some(t0() + Duration::days(1));
    let (e, next) = look(&c, &f, t0() + Duration::hours(2));
    assert_eq!(next, Next::Stay);
    assert!(e.why.contains("once the freeze of prod ends"), "{}", e.why);
    let mut bad = facts((30, 20), (300, 3));
    bad.frozen_until = f.frozen_until;
    assert_eq!(look(&c, &bad, t0()).1, Next::RollBack);
}

#[test]
fn a_canary_much_slower_than_stable_rolls_back() {
    let c = canary(CanaryState::Running, 0);
    let mut f = facts((40, 0), (400, 0));
    f.stable_durations = (0..400).map(|i| 1_000 + i % 100).collect();
    f.canary_durations = (0..40).map(|i| 2_000 + i % 100).collect();
    let (e, next) = look(&c, &f, t0() + Duration::minutes(30));
    assert_eq!((e.decision, next), (CanaryDecision::Fail, Next::RollBack));
    assert!(e.why.contains("slower than stable allows"), "{}", e.why);
}
