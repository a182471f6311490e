use super::*;
use crate::environment::{Environment, Environments};
use crate::promotion::EnvironmentPosition;
use crate::promotion::evaluation::{ChecklistFacts, ItemStatus, evaluate};

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn verification(state: VerificationState, version: u32) -> Verification {
    Verification {
        id: "v-1".into(),
        deployment_id: "d-1".into(),
        workflow: "deploy".into(),
        environment: "stage".into(),
        version,
        kind: DeploymentKind::Promotion,
        verifier: "smoke".into(),
        on_failure: OnVerificationFailure::Rollback,
        state,
        run_id: Some("r-9".into()),
        created_at: at(),
        started_at: Some(at()),
        finished_at: None,
        why: Some("verification run r-9 failed".into()),
        rollback_id: None,
    }
}

fn input(kind: InputType) -> InputSpec {
    InputSpec {
        kind,
        default: None,
        description: None,
        options: None,
    }
}

#[test]
fn policies_travel_as_json_with_hold_by_default_and_refuse_unknown_fields() {
    let p: VerificationPolicy = serde_json::from_str(r#"{"workflow":"smoke"}"#).unwrap();
    assert_eq!(p.on_failure, OnVerificationFailure::Hold);
    let p: VerificationPolicy =
        serde_json::from_str(r#"{"workflow":"smoke","on_failure":"rollback"}"#).unwrap();
    assert_eq!(p.on_failure, OnVerificationFailure::Rollback);
    for bad in [
        r#"{"workflow":"smoke","on_failure":"retry"}"#,
        r#"{"workflow":"smoke","timeout":"5m"}"#,
        r#"{}"#,
    ] {
        assert!(
            serde_json::from_str::<VerificationPolicy>(bad).is_err(),
            "{bad}"
        );
    }
    for s in ["hold", "rollback"] {
        assert_eq!(OnVerificationFailure::parse(s).unwrap().as_str(), s);
    }
}

#[test]
fn a_policy_names_a_valid_workflow_and_not_in_the_first_environment() {
    let ok = VerificationPolicy {
        workflow: "smoke-test".into(),
        on_failure: OnVerificationFailure::Hold,
    };
    assert_eq!(ok.problems("verification"), vec![]);
    let bad = VerificationPolicy {
        workflow: "Smoke Test".into(),
        ..ok.clone()
    };
    let problems = bad.problems("verification");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "verification.workflow");
    assert!(problems[0].message.contains("not a workflow name"));

    let envs = Environments::default();
    let dev = Environment::parse("dev").unwrap();
    let policy = EnvironmentPolicy {
        verification: Some(ok),
        ..EnvironmentPolicy::default()
    };
    let first = policy.problems(&dev, EnvironmentPosition::of(&envs, &dev).unwrap());
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].path, "verification");
    let stage = Environment::parse("stage").unwrap();
    assert_eq!(policy.problems(&stage, EnvironmentPosition::Middle), vec![]);
}

#[test]
fn promotions_and_rollbacks_are_verified_and_nothing_else() {
    assert!(VerificationPolicy::verifies(DeploymentKind::Promotion));
    assert!(VerificationPolicy::verifies(DeploymentKind::Rollback));
    assert!(!VerificationPolicy::verifies(DeploymentKind::Canary));
    assert!(!VerificationPolicy::verifies(DeploymentKind::Apply));
}

#[test]
fn the_run_gets_only_the_inputs_it_declares_in_the_type_it_declares() {
    let v = verification(VerificationState::Pending, 7);
    assert!(inputs_for(&IndexMap::new(), &v).is_empty());
    let mut declared = IndexMap::new();
    declared.insert("version".to_owned(), input(InputType::String));
    declared.insert("workflow".to_owned(), input(InputType::String));
    declared.insert("kind".to_owned(), input(InputType::Choice));
    declared.insert("other".to_owned(), input(InputType::Integer));
    let inputs = inputs_for(&declared, &v);
    assert_eq!(
        serde_json::to_value(&inputs).unwrap(),
        serde_json::json!({"kind": "promotion", "version": "7", "workflow": "deploy"})
    );
    declared.insert("version".to_owned(), input(InputType::Integer));
    declared.insert("environment".to_owned(), input(InputType::String));
    let inputs = inputs_for(&declared, &v);
    assert_eq!(inputs["version"], serde_json::json!(7));
    assert_eq!(inputs["environment"], serde_json::json!("stage"));
}

#[test]
fn a_run_passes_only_by_succeeding() {
    assert_eq!(outcome_of("r", RunStatus::Queued), None);
    assert_eq!(outcome_of("r", RunStatus::Running), None);
    let (state, why) = outcome_of("r", RunStatus::Succeeded).unwrap();
    assert_eq!(
        (state, why.as_str()),
        (VerificationState::Passed, "verification run r succeeded")
    );
    for (status, word) in [
        (RunStatus::Failed, "failed"),
        (RunStatus::TimedOut, "timed out"),
        (RunStatus::Cancelled, "cancelled"),
    ] {
        let (state, why) = outcome_of("r", status).unwrap();
        assert_eq!(state, VerificationState::Failed);
        assert!(why.contains(word), "{why}");
    }
}

#[test]
fn only_a_failed_promotion_still_in_place_rolls_back() {
    let failed = verification(VerificationState::Failed, 7);
    assert!(failed.rolls_back(Some("d-1")));
    // Someone moved the pointer since: theirs stands.
    assert!(!failed.rolls_back(Some("d-2")));
    assert!(!failed.rolls_back(None));
    let hold = Verification {
        on_failure: OnVerificationFailure::Hold,
        ..failed.clone()
    };
    assert!(!hold.rolls_back(Some("d-1")));
    let of_rollback = Verification {
        kind: DeploymentKind::Rollback,
        ..failed.clone()
    };
    assert!(!of_rollback.rolls_back(Some("d-1")), "no ping-pong");
    let passed = verification(VerificationState::Passed, 7);
    assert!(!passed.rolls_back(Some("d-1")));
    for s in ["pending", "running", "passed", "failed"] {
        assert_eq!(VerificationState::parse(s).unwrap().as_str(), s);
    }
    assert!(VerificationState::Failed.is_finished());
    assert!(!VerificationState::Running.is_finished());
}

#[test]
fn a_promotion_out_of_a_verifying_environment_gets_the_item() {
    let verifying = EnvironmentPolicy {
        verification: Some(VerificationPolicy {
            workflow: "smoke".into(),
            on_failure: OnVerificationFailure::Hold,
        }),
        ..EnvironmentPolicy::default()
    };
    let target = EnvironmentPolicy::default_for(EnvironmentPosition::Last);
    let n = target.checklist.len();
    assert_eq!(
        checklist_for(&target, &EnvironmentPolicy::default()).len(),
        n
    );
    let items = checklist_for(&target, &verifying);
    assert_eq!(items.len(), n + 1);
    assert_eq!(items[n].id, VERIFICATION_ITEM);
    assert_eq!(items[n].check, ItemCheck::LastVerificationPassed);
    // Asked for by the target already: not twice.
    let asking = EnvironmentPolicy {
        checklist: items.clone(),
        ..target.clone()
    };
    assert_eq!(checklist_for(&asking, &verifying).len(), n + 1);
    // An item of another kind with the id: the added one gets another id.
    let mut taken = target.clone();
    taken.checklist[0].id = VERIFICATION_ITEM.into();
    let items = checklist_for(&taken, &verifying);
    assert_eq!(items[n].id, "verification-previous");
}

#[test]
fn the_item_passes_only_for_a_passed_verification_of_this_version() {
    let facts = |v: Option<Verification>| ChecklistFacts {
        now: at(),
        previous_environment: "stage".into(),
        target_environment: "prod".into(),
        version: 7,
        run_windows: vec![],
        active_in_previous_since: None,
        target_last_run: None,
        new_http_hosts: vec![],
        new_secret_references: vec![],
        firing_alerts: vec![],
        previous_verification: v,
    };
    let item = [ChecklistItemTemplate {
        id: VERIFICATION_ITEM.into(),
        check: ItemCheck::LastVerificationPassed,
    }];
    let one = |v| {
        let s = evaluate(&item, &facts(v), &[]);
        let i = s.items[0].clone();
        (i.status, i.explanation, i.title, i.automatic)
    };
    let (status, why, title, automatic) = one(Some(verification(VerificationState::Passed, 7)));
    assert_eq!(status, ItemStatus::Pass);
    assert_eq!(
        why,
        "The verification workflow smoke passed in stage (run r-9)"
    );
    assert_eq!(
        title,
        "The last verification in stage passed for this version"
    );
    assert!(automatic);
    for (v, phrase) in [
        (None, "no verification has run in stage yet"),
        (
            Some(verification(VerificationState::Passed, 6)),
            "checked version 6, not 7",
        ),
        (
            Some(verification(VerificationState::Failed, 7)),
            "failed in stage: verification run r-9 failed",
        ),
        (
            Some(verification(VerificationState::Running, 7)),
            "still running in stage",
        ),
        (
            Some(verification(VerificationState::Pending, 7)),
            "still running in stage",
        ),
    ] {
        let (status, why, ..) = one(v);
        assert_eq!(status, ItemStatus::Fail, "{why}");
        assert!(why.to_lowercase().contains(phrase), "{why}");
    }
}
