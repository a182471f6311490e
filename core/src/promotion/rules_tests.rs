use super::*;
use crate::approval::Person;
use crate::environment::EnvScope;
use crate::identity::{Principal, PrincipalKind, RoleGrant, UserId};
use crate::promotion::checklist::default_checklist;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn fresh() -> Freshness {
    Freshness {
        now: now(),
        max_age: Duration::minutes(15),
    }
}

fn env(e: &str) -> Environment {
    Environment::parse(e).unwrap()
}

/// A person signed in `minutes_ago`.
fn user(id: &str, grants: &[(Role, &str)], minutes_ago: i64) -> Principal {
    Principal {
        id: UserId(id.into()),
        kind: PrincipalKind::User,
        username: id.into(),
        display_name: id.into(),
        email: None,
        grants: grants
            .iter()
            .map(|(role, scope)| RoleGrant {
                role: *role,
                scope: EnvScope::parse(scope).unwrap(),
                source: "test".into(),
            })
            .collect(),
        signed_in_at: Some(now() - Duration::minutes(minutes_ago)),
        break_glass_until: None,
    }
}

fn token(id: &str, grants: &[(Role, &str)]) -> Principal {
    Principal {
        kind: PrincipalKind::ServiceToken,
        signed_in_at: None,
        ..user(id, grants, 0)
    }
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id.into(),
    }
}

fn basis() -> ReviewBasis {
    ReviewBasis {
        content_hash: "c7".into(),
        diff_digest: "d7".into(),
    }
}

fn approval(by: &str, on_behalf_of: Option<&str>) -> PromotionApproval {
    PromotionApproval {
        by: person(by),
        on_behalf_of: on_behalf_of.map(person),
        at: now(),
        comment: None,
        reviewed: basis(),
    }
}

struct World {
    envs: [Environment; 3],
    policies: [EnvironmentPolicy; 3],
    authors: Vec<String>,
}

impl World {
    fn new() -> Self {
        World {
            envs: [env("dev"), env("stage"), env("prod")],
            policies: [
                EnvironmentPolicy::default_for(EnvironmentPosition::First),
                EnvironmentPolicy::default_for(EnvironmentPosition::Middle),
                EnvironmentPolicy::default_for(EnvironmentPosition::Last),
            ],
            authors: vec!["walt".into()],
        }
    }

    fn target(&self, e: &str) -> Target<'_> {
        let i = self.envs.iter().position(|x| x.as_str() == e).unwrap();
        Target {
            environment: &self.envs[i],
            position: [
                EnvironmentPosition::First,
                EnvironmentPosition::Middle,
                EnvironmentPosition::Last,
            ][i],
            policy: &self.policies[i],
        }
    }

    fn parties(&self) -> FourEyes<'_> {
        FourEyes {
            workflow: "deploy",
            version: 7,
            requester: "olga",
            authors: &self.authors,
        }
    }
}

/// The outcome as a short word, for tables: "ok", the refusal's reason tag.
fn outcome<T>(r: Result<T, Refusal>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(refusal) => serde_json::to_value(&refusal).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

#[test]
fn who_may_request_table() {
    use Role::*;
    let w = World::new();
    let mut strict_stage = w.policies[1].clone();
    strict_stage.step_up = true;
    let strict = Target {
        policy: &strict_stage,
        ..w.target("stage")
    };
    let mut admins_only = w.policies[2].clone();
    admins_only.request_role = Admin;
    let admin_target = Target {
        policy: &admins_only,
        ..w.target("prod")
    };
    let mut no_gate = w.policies[2].clone();
    no_gate.required_approvals = 0;
    let open_prod = Target {
        policy: &no_gate,
        ..w.target("prod")
    };
    // (who, target, outcome)
    let cases: Vec<(Principal, Target<'_>, &str)> = vec![
        (
            user("oscar", &[(Operator, "prod")], 60),
            w.target("prod"),
            "ok",
        ),
        (
            user("oscar", &[(Operator, "stage")], 60),
            w.target("prod"),
            "missing_role",
        ),
        // The role counts in the target, not the source.
        (
            user("oscar", &[(Operator, "dev")], 60),
            w.target("stage"),
            "missing_role",
        ),
        (
            user("ada", &[(Admin, "stage")], 60),
            w.target("stage"),
            "ok",
        ),
        (
            user("vera", &[(Viewer, "*")], 0),
            w.target("stage"),
            "missing_role",
        ),
        (
            user("avery", &[(Approver, "*")], 0),
            w.target("stage"),
            "missing_role",
        ),
        (
            user("oscar", &[(Operator, "*")], 0),
            admin_target,
            "missing_role",
        ),
        (user("ada", &[(Admin, "prod")], 0), admin_target, "ok"),
        (token("ci", &[(Operator, "*")]), w.target("prod"), "ok"),
        // With no approval required the request alone promotes: step-up.
        (
            user("oscar", &[(Operator, "*")], 60),
            open_prod,
            "step_up_required",
        ),
        (user("oscar", &[(Operator, "*")], 1), open_prod, "ok"),
        (
            user("oscar", &[(Operator, "*")], 60),
            strict,
            "step_up_required",
        ),
        // Where the policy doesn't ask for it, no step-up.
        (
            user("oscar", &[(Operator, "*")], 600),
            w.target("stage"),
            "ok",
        ),
        (token("ci", &[(Operator, "*")]), open_prod, "ok"),
    ];
    for (who, target, expected) in cases {
        let got = may_request(&Actor::person(&who), &target, &fresh());
        assert_eq!(
            outcome(got),
            expected,
            "{} into {}",
            who.roles_summary(),
            target.environment
        );
    }
    let err = may_request(
        &Actor::person(&user("oscar", &[(Operator, "dev")], 0)),
        &w.target("stage"),
        &fresh(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "asking for promotions into stage needs the operator or admin role there"
    );
}

#[test]
fn who_may_approve_table() {
    use Role::*;
    let w = World::new();
    let avery = user("avery", &[(Approver, "prod")], 1);
    let d = Delegation {
        from: person("avery"),
        to: person("dana"),
        environment: "prod".into(),
        from_time: now() - Duration::days(1),
        until: now() + Duration::days(1),
    };
    let rights = [DelegatedRight {
        delegation: &d,
        delegator: &avery,
    }];
    let stale_basis = ReviewBasis {
        diff_digest: "d6".into(),
        ..basis()
    };
    let stale = PromotionApproval {
        reviewed: stale_basis,
        ..approval("avery", None)
    };
    // (who, acting for, approvals so far, target, outcome)
    type Case = (
        Principal,
        Option<&'static str>,
        Vec<PromotionApproval>,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (avery.clone(), Some("avery"), vec![], "prod", "ok"),
        (
            user("ada", &[(Admin, "*")], 1),
            Some("ada"),
            vec![],
            "prod",
            "ok",
        ),
        (
            user("sam", &[(Approver, "stage")], 1),
            Some("sam"),
            vec![],
            "prod",
            "missing_role",
        ),
        (
            user("oscar", &[(Operator, "*")], 1),
            Some("oscar"),
            vec![],
            "prod",
            "missing_role",
        ),
        // Four eyes: the requester and the author, whatever their roles or credential.
        (
            user("olga", &[(Admin, "*")], 1),
            Some("olga"),
            vec![],
            "prod",
            "own_request",
        ),
        (
            user("walt", &[(Approver, "*")], 1),
            Some("walt"),
            vec![],
            "prod",
            "author",
        ),
        (
            token("t-olga", &[(Approver, "*")]),
            Some("olga"),
            vec![],
            "prod",
            "own_request",
        ),
        (
            token("t-old", &[(Approver, "*")]),
            None,
            vec![],
            "prod",
            "unknown_person",
        ),
        // Once per person, once per right.
        (
            avery.clone(),
            Some("avery"),
            vec![approval("avery", None)],
            "prod",
            "already_approved",
        ),
        (
            user("dana", &[], 1),
            Some("dana"),
            vec![approval("avery", None)],
            "prod",
            "already_approved",
        ),
        (
            avery.clone(),
            Some("avery"),
            vec![approval("dana", Some("avery"))],
            "prod",
            "already_approved",
        ),
        // An approval of another diff is no obstacle to approving this one.
        (avery.clone(), Some("avery"), vec![stale], "prod", "ok"),
        // The delegate, with the delegator's right.
        (user("dana", &[], 1), Some("dana"), vec![], "prod", "ok"),
        (
            user("dana", &[], 1),
            Some("dana"),
            vec![approval("bea", None)],
            "prod",
            "ok",
        ),
        // Step-up: always into the last environment, not into stage by default.
        (
            user("avery", &[(Approver, "*")], 60),
            Some("avery"),
            vec![],
            "prod",
            "step_up_required",
        ),
        (
            user("avery", &[(Approver, "*")], 60),
            Some("avery"),
            vec![],
            "stage",
            "ok",
        ),
        (
            token("t-bea", &[(Approver, "*")]),
            Some("bea"),
            vec![],
            "prod",
            "ok",
        ),
    ];
    for (who, acting_for, approvals, target, expected) in cases {
        let actor = Actor {
            principal: &who,
            person: acting_for,
        };
        let b = basis();
        let review = PendingReview {
            parties: w.parties(),
            approvals: &approvals,
            basis: &b,
        };
        let got = may_approve(&actor, &w.target(target), &review, &rights, &fresh());
        assert_eq!(
            outcome(got),
            expected,
            "{} as {acting_for:?} into {target}",
            who.id
        );
    }
    // The right used is reported, for the approval record.
    let dana = user("dana", &[], 1);
    let b = basis();
    let review = PendingReview {
        parties: w.parties(),
        approvals: &[],
        basis: &b,
    };
    assert_eq!(
        may_approve(
            &Actor::person(&dana),
            &w.target("prod"),
            &review,
            &rights,
            &fresh()
        ),
        Ok(ApprovalRight::Delegated {
            from: person("avery")
        })
    );
}

#[test]
fn rejecting_follows_approving_without_the_once_rule() {
    use Role::*;
    let w = World::new();
    let cases = [
        (user("avery", &[(Approver, "prod")], 1), "ok"),
        (user("olga", &[(Admin, "*")], 1), "own_request"),
        (user("walt", &[(Admin, "*")], 1), "author"),
        (user("oscar", &[(Operator, "*")], 1), "missing_role"),
        (user("avery", &[(Approver, "prod")], 60), "step_up_required"),
    ];
    for (who, expected) in cases {
        let got = may_reject(
            &Actor::person(&who),
            &w.target("prod"),
            &w.parties(),
            &[],
            &fresh(),
        );
        assert_eq!(outcome(got), expected, "{}", who.id);
    }
    let err = may_reject(
        &Actor::person(&user("olga", &[(Admin, "*")], 1)),
        &w.target("prod"),
        &w.parties(),
        &[],
        &fresh(),
    )
    .unwrap_err();
    assert!(
        err.to_string().ends_with("to withdraw it, cancel it"),
        "{err}"
    );
}

#[test]
fn who_may_cancel() {
    use Role::*;
    let w = World::new();
    let cases = [
        (user("olga", &[(Operator, "prod")], 600), Some("olga"), "ok"),
        (token("t-olga", &[(Operator, "prod")]), Some("olga"), "ok"),
        (user("ada", &[(Admin, "prod")], 600), Some("ada"), "ok"),
        (
            user("ada", &[(Admin, "stage")], 600),
            Some("ada"),
            "not_requester",
        ),
        (
            user("avery", &[(Approver, "*")], 0),
            Some("avery"),
            "not_requester",
        ),
    ];
    for (who, acting_for, expected) in cases {
        let actor = Actor {
            principal: &who,
            person: acting_for,
        };
        assert_eq!(
            outcome(may_cancel(&actor, &w.target("prod"), "olga")),
            expected,
            "{}",
            who.id
        );
    }
}

#[test]
fn who_may_tick_which_item() {
    use Role::*;
    let w = World::new();
    let checklist = default_checklist();
    let item = |id: &str| checklist.iter().find(|i| i.id == id).unwrap();
    // (who, item, outcome)
    let cases = [
        (
            user("oscar", &[(Operator, "prod")], 600),
            "on_call_aware",
            "ok",
        ),
        // The requester ticks manual items of their own request.
        (
            user("olga", &[(Operator, "prod")], 600),
            "on_call_aware",
            "ok",
        ),
        (user("ada", &[(Admin, "prod")], 600), "on_call_aware", "ok"),
        (
            user("oscar", &[(Operator, "stage")], 600),
            "on_call_aware",
            "missing_role",
        ),
        (
            user("avery", &[(Approver, "prod")], 600),
            "on_call_aware",
            "missing_role",
        ),
        // Acknowledging is a review: approvers, not the parties.
        (
            user("avery", &[(Approver, "prod")], 600),
            "http_hosts",
            "ok",
        ),
        (
            user("oscar", &[(Operator, "prod")], 600),
            "http_hosts",
            "missing_role",
        ),
        (
            user("olga", &[(Admin, "*")], 600),
            "secret_references",
            "own_request",
        ),
        (user("walt", &[(Admin, "*")], 600), "http_hosts", "author"),
        // Automatic items aren't ticked.
        (user("ada", &[(Admin, "*")], 0), "soak", "automatic_item"),
        (
            user("ada", &[(Admin, "*")], 0),
            "stage_runs",
            "automatic_item",
        ),
        (
            user("ada", &[(Admin, "*")], 0),
            "target_healthy",
            "automatic_item",
        ),
    ];
    for (who, id, expected) in cases {
        let got = may_tick(
            &Actor::person(&who),
            &w.target("prod"),
            item(id),
            &w.parties(),
        );
        assert_eq!(outcome(got), expected, "{} ticks {id}", who.id);
    }
}

#[test]
fn evidence_is_clean_and_present_when_required() {
    let item = |evidence_required| ChecklistItemTemplate {
        id: "notes".into(),
        check: ItemCheck::Manual {
            text: "Release notes".into(),
            role: Role::Operator,
            evidence_required,
        },
    };
    assert_eq!(check_evidence(&item(false), None), Ok(None));
    assert_eq!(
        check_evidence(&item(true), Some(" https://wiki/notes ")),
        Ok(Some("https://wiki/notes".into()))
    );
    let err = check_evidence(&item(true), Some("  ")).unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert!(
        err.to_string().contains("item notes needs evidence"),
        "{err}"
    );
    assert!(check_evidence(&item(false), Some("\u{202E}x")).is_err());
}

#[test]
fn who_may_roll_back_edit_policies_and_delegate() {
    use Role::*;
    let w = World::new();
    let mut approvers_roll_back = w.policies[2].clone();
    approvers_roll_back.rollback_role = Approver;
    let custom = Target {
        policy: &approvers_roll_back,
        ..w.target("prod")
    };
    let roll = |who: &Principal, target: &Target<'_>| {
        outcome(may_roll_back(&Actor::person(who), target, &fresh()))
    };
    assert_eq!(
        roll(&user("oscar", &[(Operator, "prod")], 1), &w.target("prod")),
        "ok"
    );
    assert_eq!(
        roll(&user("oscar", &[(Operator, "prod")], 60), &w.target("prod")),
        "step_up_required"
    );
    assert_eq!(
        roll(
            &user("oscar", &[(Operator, "stage")], 60),
            &w.target("stage")
        ),
        "ok"
    );
    assert_eq!(
        roll(&user("vera", &[(Viewer, "*")], 1), &w.target("prod")),
        "missing_role"
    );
    assert_eq!(
        roll(&user("oscar", &[(Operator, "*")], 1), &custom),
        "missing_role"
    );
    assert_eq!(
        roll(&user("avery", &[(Approver, "prod")], 1), &custom),
        "ok"
    );
    assert_eq!(
        roll(&token("ci", &[(Operator, "*")]), &w.target("prod")),
        "ok"
    );
    let err = may_roll_back(
        &Actor::person(&user("oscar", &[(Operator, "prod")], 60)),
        &w.target("prod"),
        &fresh(),
    )
    .unwrap_err();
    assert_eq!(PortError::from(err).http_status(), 401);

    let edit = |who: &Principal, e: &str| {
        outcome(may_edit_policy(&Actor::person(who), &w.target(e), &fresh()))
    };
    assert_eq!(edit(&user("ada", &[(Admin, "prod")], 1), "prod"), "ok");
    assert_eq!(
        edit(&user("ada", &[(Admin, "prod")], 60), "prod"),
        "step_up_required"
    );
    assert_eq!(edit(&user("ada", &[(Admin, "stage")], 60), "stage"), "ok");
    assert_eq!(
        edit(&user("ada", &[(Admin, "stage")], 1), "prod"),
        "missing_role"
    );
    let err = may_edit_policy(
        &Actor::person(&user("avery", &[(Approver, "*")], 1)),
        &w.target("prod"),
        &fresh(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "changing the promotion policy of prod needs the admin role there"
    );

    let d = Delegation {
        from: person("avery"),
        to: person("dana"),
        environment: "prod".into(),
        from_time: now(),
        until: now() + Duration::days(14),
    };
    let delegate = |minutes_ago| {
        outcome(may_delegate(
            &Actor::person(&user("avery", &[(Approver, "prod")], minutes_ago)),
            &d,
            &env("prod"),
            &fresh(),
        ))
    };
    assert_eq!(delegate(1), "ok");
    assert_eq!(delegate(60), "step_up_required");
}
