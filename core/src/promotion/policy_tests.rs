use super::*;
use crate::promotion::checklist::ItemCheck;

fn env(name: &str) -> Environment {
    Environment::parse(name).unwrap()
}

fn manual(id: &str) -> ChecklistItemTemplate {
    ChecklistItemTemplate {
        id: id.into(),
        check: ItemCheck::Manual {
            text: "Release notes published".into(),
            role: Role::Operator,
            evidence_required: true,
        },
    }
}

#[test]
fn positions_follow_the_configured_order() {
    let envs = Environments::parse_list("dev,stage,qa,prod").unwrap();
    let cases = [
        ("dev", Some(EnvironmentPosition::First)),
        ("stage", Some(EnvironmentPosition::Middle)),
        ("qa", Some(EnvironmentPosition::Middle)),
        ("prod", Some(EnvironmentPosition::Last)),
        ("live", None),
    ];
    for (name, position) in cases {
        assert_eq!(
            EnvironmentPosition::of(&envs, &env(name)),
            position,
            "{name}"
        );
    }
    let single = Environments::parse_list("prod").unwrap();
    assert_eq!(
        EnvironmentPosition::of(&single, &env("prod")),
        Some(EnvironmentPosition::Last)
    );
}

#[test]
fn defaults_ask_nothing_of_dev_and_stage_and_guard_the_last_environment() {
    use EnvironmentPosition::*;
    for position in [First, Middle] {
        let p = EnvironmentPolicy::default_for(position);
        assert_eq!(p.required_approvals, 0);
        assert!(p.checklist.is_empty());
        assert!(!p.step_up_applies(position));
        assert_eq!(p.request_ttl, PolicyDuration::from_days(7));
        assert_eq!(
            (p.request_role, p.rollback_role),
            (Role::Operator, Role::Operator)
        );
    }
    let last = EnvironmentPolicy::default_for(Last);
    assert_eq!(last.required_approvals, 1);
    assert!(last.step_up && last.step_up_applies(Last));
    assert_eq!(last.checklist, default_checklist());
    assert_eq!(last.rollback_role, Role::Operator);
    // Each default passes its own validation.
    for (name, position) in [("dev", First), ("stage", Middle), ("prod", Last)] {
        let p = EnvironmentPolicy::default_for(position);
        assert_eq!(p.validate(&env(name), position), Ok(()), "{name}");
    }
}

#[test]
fn an_empty_body_is_a_policy_that_requires_nothing() {
    let p: EnvironmentPolicy = serde_json::from_str("{}").unwrap();
    assert_eq!(p, EnvironmentPolicy::default());
    let typo = serde_json::from_str::<EnvironmentPolicy>(r#"{"required_approval": 2}"#);
    let err = typo.unwrap_err().to_string();
    assert!(err.contains("unknown field `required_approval`"), "{err}");
    let full = r#"{"required_approvals":2,"request_role":"approver","rollback_role":"admin","step_up":true,"checklist":[],"request_ttl":"3days"}"#;
    let p: EnvironmentPolicy = serde_json::from_str(full).unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), full);
}

#[test]
fn the_step_up_floor_holds_whatever_the_policy_says() {
    let relaxed = EnvironmentPolicy::default();
    assert!(relaxed.step_up_applies(EnvironmentPosition::Last));
    assert!(!relaxed.step_up_applies(EnvironmentPosition::Middle));
    let strict = EnvironmentPolicy {
        step_up: true,
        ..EnvironmentPolicy::default()
    };
    assert!(strict.step_up_applies(EnvironmentPosition::Middle));
}

#[test]
fn validation_table_names_the_field_and_what_to_do() {
    use EnvironmentPosition::*;
    let base = || EnvironmentPolicy {
        step_up: true,
        ..EnvironmentPolicy::default()
    };
    type Case = (
        &'static str,
        EnvironmentPolicy,
        EnvironmentPosition,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "too many approvers",
            EnvironmentPolicy {
                required_approvals: 6,
                ..base()
            },
            Last,
            "required_approvals",
            "use 0 (no approval) to 5",
        ),
        (
            "auditors can't request",
            EnvironmentPolicy {
                request_role: Role::Auditor,
                ..base()
            },
            Middle,
            "request_role",
            "auditor is a read-only role",
        ),
        (
            "viewers can't roll back",
            EnvironmentPolicy {
                rollback_role: Role::Viewer,
                ..base()
            },
            Middle,
            "rollback_role",
            "use operator, approver or admin",
        ),
        (
            "step-up off in the last environment",
            EnvironmentPolicy {
                step_up: false,
                ..base()
            },
            Last,
            "step_up",
            "set step_up to true",
        ),
        (
            "approvals into the first environment",
            EnvironmentPolicy {
                required_approvals: 1,
                ..base()
            },
            First,
            "",
            "nothing is promoted into dev",
        ),
        (
            "a checklist for the first environment",
            EnvironmentPolicy {
                checklist: vec![manual("notes")],
                ..base()
            },
            First,
            "",
            "leave the checklist empty",
        ),
        (
            "a request that lives a few minutes",
            EnvironmentPolicy {
                request_ttl: PolicyDuration::from_mins(10),
                ..base()
            },
            Middle,
            "request_ttl",
            "between 1 h and 30 d",
        ),
        (
            "a request that lives a year",
            EnvironmentPolicy {
                request_ttl: PolicyDuration::from_days(365),
                ..base()
            },
            Middle,
            "request_ttl",
            "between 1 h and 30 d",
        ),
        (
            "two items with one id",
            EnvironmentPolicy {
                checklist: vec![manual("notes"), manual("other"), manual("notes")],
                ..base()
            },
            Last,
            "checklist[2].id",
            "also the id of checklist[0]",
        ),
        (
            "a bad item",
            EnvironmentPolicy {
                checklist: vec![manual("ok"), manual("Not OK")],
                ..base()
            },
            Last,
            "checklist[1].id",
            "start with a lowercase letter",
        ),
        (
            "too many items",
            EnvironmentPolicy {
                checklist: (0..21).map(|i| manual(&format!("m{i}"))).collect(),
                ..base()
            },
            Last,
            "checklist",
            "21 items is more than the 20 allowed",
        ),
    ];
    for (what, policy, position, path, phrase) in cases {
        let name = if position == First { "dev" } else { "prod" };
        let problems = policy.problems(&env(name), position);
        assert_eq!(problems.len(), 1, "{what}: {problems:?}");
        assert_eq!(problems[0].path, path, "{what}");
        assert!(
            problems[0].message.contains(phrase),
            "{what}: {}",
            problems[0]
        );
        let err = policy.validate(&env(name), position).unwrap_err();
        assert_eq!(err.http_status(), 422, "{what}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let policy = EnvironmentPolicy {
        required_approvals: 9,
        request_role: Role::Viewer,
        step_up: false,
        request_ttl: PolicyDuration::from_secs(1),
        ..EnvironmentPolicy::default()
    };
    let err = policy
        .validate(&env("prod"), EnvironmentPosition::Last)
        .unwrap_err();
    let PortError::Unprocessable { message, problems } = err else {
        panic!("expected 422");
    };
    assert_eq!(message, "the policy for prod was not saved");
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "required_approvals",
            "request_role",
            "step_up",
            "request_ttl"
        ]
    );
}

#[test]
fn items_are_found_by_id() {
    let p = EnvironmentPolicy::default_for(EnvironmentPosition::Last);
    assert!(matches!(
        p.item("soak").map(|i| &i.check),
        Some(ItemCheck::SoakTime { .. })
    ));
    assert!(p.item("nope").is_none());
}
