use super::*;
use crate::promotion::evaluation::{ItemEvaluation, ItemStatus};
use chrono::{DateTime, Utc};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn basis() -> ReviewBasis {
    ReviewBasis {
        content_hash: "content-7".into(),
        diff_digest: "diff-7-vs-6".into(),
    }
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id[..1].to_uppercase() + &id[1..],
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

fn stale(by: &str) -> PromotionApproval {
    PromotionApproval {
        reviewed: ReviewBasis {
            diff_digest: "diff-7-vs-5".into(),
            ..basis()
        },
        ..approval(by, None)
    }
}

fn checklist(green: &[bool]) -> ChecklistSnapshot {
    ChecklistSnapshot {
        evaluated_at: now(),
        items: green
            .iter()
            .enumerate()
            .map(|(i, g)| ItemEvaluation {
                id: format!("item{i}"),
                title: format!("Item {i}"),
                automatic: true,
                status: if *g {
                    ItemStatus::Pass
                } else {
                    ItemStatus::Fail
                },
                explanation: format!("live value {i}"),
            })
            .collect(),
    }
}

fn policy(required: u32) -> EnvironmentPolicy {
    EnvironmentPolicy {
        required_approvals: required,
        ..EnvironmentPolicy::default()
    }
}

#[test]
fn the_gate_table() {
    // (required, approvals, checklist, ready, description)
    type Case = (u32, Vec<PromotionApproval>, Vec<bool>, bool, &'static str);
    let cases: Vec<Case> = vec![
        (0, vec![], vec![], true, "ready to promote"),
        (0, vec![], vec![true, true], true, "ready to promote"),
        (
            0,
            vec![],
            vec![true, false],
            false,
            "waiting: Item 1: live value 1",
        ),
        (
            1,
            vec![],
            vec![],
            false,
            "waiting: 0 of 1 required approval given",
        ),
        (
            1,
            vec![approval("avery", None)],
            vec![true],
            true,
            "ready to promote",
        ),
        (
            1,
            vec![approval("avery", None)],
            vec![false, false],
            false,
            "waiting: Item 0: live value 0; Item 1: live value 1",
        ),
        (
            2,
            vec![approval("avery", None), approval("avery", None)],
            vec![],
            false,
            "waiting: 1 of 2 required approvals given",
        ),
        (
            2,
            vec![approval("avery", None), approval("bea", None)],
            vec![true],
            true,
            "ready to promote",
        ),
        // A delegate and their delegator are one approval right.
        (
            2,
            vec![approval("avery", None), approval("dana", Some("avery"))],
            vec![],
            false,
            "waiting: 1 of 2 required approvals given",
        ),
        // A delegate approving for two people is still one person.
        (
            2,
            vec![
                approval("dana", Some("avery")),
                approval("dana", Some("bea")),
            ],
            vec![],
            false,
            "waiting: 1 of 2 required approvals given",
        ),
        (
            2,
            vec![approval("dana", Some("avery")), approval("bea", None)],
            vec![],
            true,
            "ready to promote",
        ),
        // Approvals of another diff don't count, and are named.
        (
            1,
            vec![stale("avery")],
            vec![true],
            false,
            "waiting: 0 of 1 required approval given; approvals by Avery were for what the diff showed before it changed; they must approve again",
        ),
        (
            2,
            vec![
                stale("avery"),
                approval("avery", None),
                approval("bea", None),
            ],
            vec![],
            true,
            "ready to promote",
        ),
        // Re-approved: not named as stale.
        (
            3,
            vec![stale("avery"), approval("avery", None), stale("bea")],
            vec![],
            false,
            "waiting: 1 of 3 required approvals given; approvals by Bea were for what the diff showed before it changed; they must approve again",
        ),
    ];
    for (required, approvals, items, ready, description) in cases {
        let decision = gate(&policy(required), &approvals, &basis(), &checklist(&items));
        assert_eq!(decision.is_ready(), ready, "{description}");
        assert_eq!(decision.describe(), description);
    }
}

#[test]
fn counted_approvals_are_the_deployments_approvers() {
    let approvals = vec![
        stale("cy"),
        approval("avery", None),
        approval("avery", None),
        approval("dana", Some("bea")),
        approval("bea", None),
    ];
    let counted: Vec<&str> = counted_approvals(&approvals, &basis())
        .into_iter()
        .map(|a| a.by.id.as_str())
        .collect();
    assert_eq!(counted, ["avery", "dana"]);
}

#[test]
fn a_content_change_invalidates_approvals_too() {
    let approvals = vec![approval("avery", None)];
    let other = ReviewBasis {
        content_hash: "content-8".into(),
        ..basis()
    };
    assert!(!gate(&policy(1), &approvals, &other, &checklist(&[])).is_ready());
}

#[test]
fn decisions_serialize_for_the_api() {
    let decision = gate(&policy(1), &[], &basis(), &checklist(&[false]));
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["gate"], "waiting");
    assert_eq!(
        json["reasons"][0],
        serde_json::json!({"kind": "approvals", "have": 0, "need": 1})
    );
    assert_eq!(json["reasons"][1]["kind"], "checklist");
    assert_eq!(json["reasons"][1]["item"], "item0");
    assert_eq!(
        serde_json::to_value(GateDecision::Ready).unwrap(),
        serde_json::json!({"gate": "ready"})
    );
}
