use super::*;
use crate::environment::EnvScope;
use crate::identity::{RoleGrant, UserId};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn env(e: &str) -> Environment {
    Environment::parse(e).unwrap()
}

fn principal(id: &str, kind: PrincipalKind, grants: &[(Role, &str)]) -> Principal {
    Principal {
        id: UserId(id.into()),
        kind,
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
        signed_in_at: None,
        break_glass_until: None,
    }
}

fn user(id: &str, grants: &[(Role, &str)]) -> Principal {
    principal(id, PrincipalKind::User, grants)
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id[..1].to_uppercase() + &id[1..],
    }
}

fn delegation(from: &str, to: &str, environment: &str) -> Delegation {
    Delegation {
        from: person(from),
        to: person(to),
        environment: environment.into(),
        from_time: now() - Duration::days(1),
        until: now() + Duration::days(13),
    }
}

fn authors() -> Vec<String> {
    vec!["walt".to_owned()]
}

fn parties(authors: &[String]) -> FourEyes<'_> {
    FourEyes {
        workflow: "deploy",
        version: 7,
        requester: "olga",
        authors,
    }
}

#[test]
fn delegations_apply_in_their_environment_and_period() {
    let d = delegation("avery", "dana", "prod");
    let cases = [
        ("prod", now(), true),
        ("prod", d.from_time, true),
        ("prod", d.from_time - Duration::seconds(1), false),
        ("prod", d.until - Duration::seconds(1), true),
        ("prod", d.until, false),
        ("stage", now(), false),
    ];
    for (e, at, active) in cases {
        assert_eq!(d.is_active(e, at), active, "{e} {at}");
    }
}

#[test]
fn approval_rights_table() {
    use Role::*;
    let authors = authors();
    let avery = user("avery", &[(Approver, "prod")]);
    let olga = user("olga", &[(Approver, "prod")]);
    let walt = user("walt", &[(Admin, "*")]);
    let gone = user("avery", &[(Viewer, "prod")]);
    let to_dana = delegation("avery", "dana", "prod");
    let olga_to_dana = delegation("olga", "dana", "prod");
    let walt_to_dana = delegation("walt", "dana", "prod");
    let in_stage = delegation("avery", "dana", "stage");
    let expired = Delegation {
        until: now() - Duration::hours(1),
        ..delegation("avery", "dana", "prod")
    };
    let right = |delegation, delegator| DelegatedRight {
        delegation,
        delegator,
    };
    let dana = user("dana", &[(Operator, "prod")]);
    let dana_token = principal("t-1", PrincipalKind::ServiceToken, &[]);
    // (who, acting for person, delegations, expected right or the refusal's start)
    type Case<'a> = (
        &'a Principal,
        Option<&'a str>,
        Vec<DelegatedRight<'a>>,
        Result<ApprovalRight, &'a str>,
    );
    let cases: Vec<Case> = vec![
        (&avery, Some("avery"), vec![], Ok(ApprovalRight::Own)),
        (&walt, Some("bea"), vec![], Ok(ApprovalRight::Own)),
        (
            &dana,
            Some("dana"),
            vec![],
            Err(
                "approving promotions into prod needs the approver or admin role there (or a delegation",
            ),
        ),
        (
            &dana,
            Some("dana"),
            vec![right(&to_dana, &avery)],
            Ok(ApprovalRight::Delegated {
                from: person("avery"),
            }),
        ),
        // Four eyes come first, whatever right is at hand.
        (&olga, Some("olga"), vec![], Err("you asked for this")),
        (
            &walt,
            Some("walt"),
            vec![],
            Err("you applied version 7 of deploy"),
        ),
        (
            &dana_token,
            None,
            vec![],
            Err("this token's maker was never recorded"),
        ),
        // The delegator is a party: the right is void, and says why.
        (
            &dana,
            Some("dana"),
            vec![right(&olga_to_dana, &olga)],
            Err("Olga delegated their approvals in prod to you, but Olga asked for it"),
        ),
        (
            &dana,
            Some("dana"),
            vec![right(&walt_to_dana, &walt)],
            Err(
                "Walt delegated their approvals in prod to you, but Walt applied version 7 of deploy",
            ),
        ),
        // A void delegation doesn't hide a usable one.
        (
            &dana,
            Some("dana"),
            vec![right(&olga_to_dana, &olga), right(&to_dana, &avery)],
            Ok(ApprovalRight::Delegated {
                from: person("avery"),
            }),
        ),
        // Not active: other environment, expired, delegator lost the role, someone else's.
        (
            &dana,
            Some("dana"),
            vec![right(&in_stage, &avery)],
            Err("approving promotions into prod needs"),
        ),
        (
            &dana,
            Some("dana"),
            vec![right(&expired, &avery)],
            Err("approving promotions into prod needs"),
        ),
        (
            &dana,
            Some("dana"),
            vec![right(&to_dana, &gone)],
            Err("approving promotions into prod needs"),
        ),
        (
            &dana,
            Some("dana"),
            vec![right(&to_dana, &walt)],
            Err("approving promotions into prod needs"),
        ),
        (&avery, Some("bea"), vec![], Ok(ApprovalRight::Own)),
        // A token made by the delegate doesn't carry the delegation.
        (
            &dana_token,
            Some("dana"),
            vec![right(&to_dana, &avery)],
            Err("approving promotions into prod needs"),
        ),
    ];
    for (who, person, delegations, expected) in cases {
        let actor = Actor {
            principal: who,
            person,
        };
        let got = approval_right(
            &actor,
            &env("prod"),
            &parties(&authors),
            &delegations,
            PromotionAct::Approve,
            now(),
        );
        match expected {
            Ok(right) => assert_eq!(got, Ok(right), "{} as {person:?}", who.id),
            Err(start) => {
                let message = got.unwrap_err().to_string();
                assert!(
                    message.starts_with(start),
                    "{} as {person:?}: {message}",
                    who.id
                );
            }
        }
    }
}

#[test]
fn run_approvals_use_the_same_rights() {
    let authors = authors();
    let avery = user("avery", &[(Role::Approver, "prod")]);
    let dana = user("dana", &[]);
    let d = delegation("avery", "dana", "prod");
    let rights = [DelegatedRight {
        delegation: &d,
        delegator: &avery,
    }];
    let got = approval_right(
        &Actor::person(&dana),
        &env("prod"),
        &parties(&authors),
        &rights,
        PromotionAct::DecideRun,
        now(),
    );
    assert_eq!(
        got,
        Ok(ApprovalRight::Delegated {
            from: person("avery")
        })
    );
    let err = approval_right(
        &Actor::person(&dana),
        &env("prod"),
        &parties(&authors),
        &[],
        PromotionAct::DecideRun,
        now(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("deciding run approvals in prod"),
        "{err}"
    );
}

#[test]
fn making_a_delegation_table() {
    let avery = user("avery", &[(Role::Approver, "prod")]);
    let oscar = user("oscar", &[(Role::Operator, "*")]);
    let token = principal("t-1", PrincipalKind::ServiceToken, &[(Role::Approver, "*")]);
    let ok = delegation("avery", "dana", "prod");
    let with = |f: fn(&mut Delegation)| {
        let mut d = ok.clone();
        f(&mut d);
        d
    };
    // (who, delegation, the refusal's start or None)
    let cases: Vec<(&Principal, Delegation, Option<&str>)> = vec![
        (&avery, ok.clone(), None),
        (
            &avery,
            with(|d| d.until = d.from_time + Duration::days(90)),
            None,
        ),
        (
            &token,
            ok.clone(),
            Some("delegating approvals needs a person signed in"),
        ),
        (
            &oscar,
            with(|d| {
                d.from = Person {
                    id: "oscar".into(),
                    name: "Oscar".into(),
                }
            }),
            Some("delegating approvals in prod needs the approver or admin role there"),
        ),
        (
            &avery,
            with(|d| {
                d.from = Person {
                    id: "bea".into(),
                    name: "Bea".into(),
                }
            }),
            Some("from: a delegation gives away your own approvals"),
        ),
        (
            &avery,
            with(|d| d.environment = "stage".into()),
            Some("from: a delegation gives away your own approvals"),
        ),
        (
            &avery,
            with(|d| d.to = d.from.clone()),
            Some("to: name someone other than yourself"),
        ),
        (
            &avery,
            with(|d| d.until = d.from_time),
            Some("until: must be after the start"),
        ),
        (
            &avery,
            with(|d| {
                d.from_time = now() - Duration::days(3);
                d.until = now() - Duration::days(1);
            }),
            Some("until: is in the past"),
        ),
        (
            &avery,
            with(|d| d.until = d.from_time + Duration::days(91)),
            Some("until: a delegation lasts at most 90 days"),
        ),
    ];
    for (who, d, expected) in cases {
        let got = check_delegation(&Actor::person(who), &d, &env("prod"), now());
        match expected {
            None => assert_eq!(got, Ok(()), "{d:?}"),
            Some(start) => {
                let message = got.unwrap_err().to_string();
                assert!(message.starts_with(start), "{d:?}: {message}");
            }
        }
    }
}

#[test]
fn a_delegate_cannot_delegate_further() {
    // Dana holds avery's right only by delegation: that is no role to give away.
    let dana = user("dana", &[(Role::Operator, "prod")]);
    let onward = delegation("dana", "erin", "prod");
    let err = check_delegation(&Actor::person(&dana), &onward, &env("prod"), now()).unwrap_err();
    assert!(
        matches!(
            err,
            Refusal::MissingRole {
                delegable: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_delegator_or_an_admin_there_revokes() {
    let d = delegation("avery", "dana", "prod");
    let avery = user("avery", &[(Role::Approver, "prod")]);
    let dana = user("dana", &[(Role::Operator, "*")]);
    let prod_admin = user("ada", &[(Role::Admin, "prod")]);
    let stage_admin = user("sam", &[(Role::Admin, "stage")]);
    let admin_token = principal("t-1", PrincipalKind::ServiceToken, &[(Role::Admin, "*")]);
    // A token avery made acts for avery.
    let averys_token = principal("t-2", PrincipalKind::ServiceToken, &[]);
    let cases: [(Actor<'_>, bool); 6] = [
        (Actor::person(&avery), true),
        (Actor::person(&dana), false),
        (Actor::person(&prod_admin), true),
        (Actor::person(&stage_admin), false),
        (
            Actor {
                principal: &admin_token,
                person: None,
            },
            true,
        ),
        (
            Actor {
                principal: &averys_token,
                person: Some("avery"),
            },
            true,
        ),
    ];
    for (who, allowed) in cases {
        let got = may_revoke(&who, &d, &env("prod"));
        assert_eq!(got.is_ok(), allowed, "{}: {got:?}", who.principal.id.0);
        if let Err(refusal) = got {
            assert!(
                matches!(refusal, Refusal::NotDelegator { .. }),
                "{refusal:?}"
            );
        }
    }
}
