use super::*;
use crate::approval::Person;
use crate::canary::{ArmCounts, CanaryPolicy, StepFacts, look};
use crate::promotion::ledger::DeploymentKind;
use crate::promotion::verification::OnVerificationFailure;
use chrono::{DateTime, Duration, Utc};

fn t0() -> DateTime<Utc> {
    "2026-12-06T10:00:00Z".parse().unwrap()
}

fn canary(state: CanaryState) -> Canary {
    let policy: CanaryPolicy = serde_json::from_value(serde_json::json!({
        "steps": [{ "weight": 10, "min_runs": 20, "min_time": "10m", "time_limit": "1h" }],
    }))
    .unwrap();
    Canary {
        id: "c1".into(),
        workflow: "ship".into(),
        environment: "prod".into(),
        stable_version: 1,
        canary_version: 2,
        request_id: "r1".into(),
        weight: 10,
        policy,
        step: 0,
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

/// A canary the analysis paused: past its step's time limit with three
/// runs, far from any decision.
fn inconclusive() -> Canary {
    let mut c = canary(CanaryState::Running);
    let facts = StepFacts {
        canary: ArmCounts {
            runs: 3,
            failures: 0,
        },
        stable: ArmCounts {
            runs: 30,
            failures: 0,
        },
        ..StepFacts::default()
    };
    let (evaluation, _) = look(&c, &facts, t0() + Duration::hours(2));
    assert_eq!(evaluation.decision, CanaryDecision::Inconclusive);
    c.state = CanaryState::Paused;
    c.last = Some(evaluation);
    c
}

fn verification(state: VerificationState, rollback: Option<&str>) -> Verification {
    Verification {
        id: "v1".into(),
        deployment_id: "d1".into(),
        workflow: "ship".into(),
        environment: "stage".into(),
        version: 4,
        kind: DeploymentKind::Promotion,
        verifier: "smoke".into(),
        on_failure: OnVerificationFailure::Rollback,
        state,
        run_id: Some("v1".into()),
        created_at: t0(),
        started_at: Some(t0()),
        finished_at: Some(t0()),
        why: Some("verification run v1 failed".into()),
        rollback_id: rollback.map(str::to_owned),
    }
}

#[test]
fn an_inconclusive_pause_and_a_held_rollback_need_a_person() {
    let paused = of_canary(&inconclusive()).unwrap();
    assert_eq!(
        (paused.workflow.as_str(), paused.environment.as_str()),
        ("ship", "prod")
    );
    assert!(
        paused.what.contains("step 1 ran out of time"),
        "{}",
        paused.what
    );
    let held = Canary {
        state: CanaryState::RolledBack,
        held: true,
        why: Some("the canary failed: 9 of 20 runs failed".into()),
        ..canary(CanaryState::RolledBack)
    };
    let what = of_canary(&held).unwrap().what;
    assert!(what.contains("9 of 20 runs failed"), "{what}");
    assert!(what.contains("clears the hold"), "{what}");
}

#[test]
fn canaries_going_their_way_need_nobody() {
    // Paused by a person (no inconclusive evaluation), running, promoted,
    // rolled back with the hold cleared, aborted.
    assert_eq!(of_canary(&canary(CanaryState::Paused)), None);
    assert_eq!(of_canary(&canary(CanaryState::Running)), None);
    let mut resumed = inconclusive();
    resumed.state = CanaryState::Running;
    assert_eq!(of_canary(&resumed), None);
    assert_eq!(of_canary(&canary(CanaryState::Promoted)), None);
    assert_eq!(of_canary(&canary(CanaryState::RolledBack)), None);
    let aborted = Canary {
        held: true,
        ..canary(CanaryState::Aborted)
    };
    assert_eq!(of_canary(&aborted), None);
}

#[test]
fn only_a_failed_last_verification_needs_a_person() {
    for state in [
        VerificationState::Pending,
        VerificationState::Running,
        VerificationState::Passed,
    ] {
        assert_eq!(of_verification(&verification(state, None)), None);
    }
    let held = of_verification(&verification(VerificationState::Failed, None)).unwrap();
    assert_eq!(held.environment, "stage");
    assert!(
        held.what.contains("smoke of version 4 failed"),
        "{}",
        held.what
    );
    assert!(held.what.contains("held"), "{}", held.what);
    let back = of_verification(&verification(VerificationState::Failed, Some("d2"))).unwrap();
    assert!(back.what.contains("(rolled back;"), "{}", back.what);
}

#[test]
fn one_instance_per_workflow_and_environment_resolving_when_nothing_waits() {
    let facts = AttentionFacts {
        waiting: vec![
            of_canary(&inconclusive()).unwrap(),
            Attention {
                workflow: "ship".into(),
                environment: "prod".into(),
                what: "second thing".into(),
            },
            of_verification(&verification(VerificationState::Failed, None)).unwrap(),
        ],
    };
    let gone = InstanceKey::new("other", "prod");
    let found = judge(&facts, std::slice::from_ref(&gone));
    assert_eq!(found.len(), 3, "{found:?}");
    let prod = found
        .iter()
        .find(|f| f.key == InstanceKey::new("ship", "prod"))
        .unwrap();
    assert_eq!(prod.seen, Observation::Breach);
    assert!(prod.summary.ends_with("; second thing"), "{}", prod.summary);
    let stage = found
        .iter()
        .find(|f| f.key == InstanceKey::new("ship", "stage"))
        .unwrap();
    assert_eq!(stage.seen, Observation::Breach);
    let other = found.iter().find(|f| f.key == gone).unwrap();
    assert_eq!(other.seen, Observation::Clear);
}
