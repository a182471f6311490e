//! Properties that hold for any input, checked over many generated ones
//! (a fixed seed, so a failure reproduces; no property-testing crate in the
//! lock file): URL hosts never panic, the ledger's answers stay consistent
//! through random promotions and rollbacks, diffs account for every step,
//! and the gate counts each person and each right once.

use super::diff::{Change, diff};
use super::evaluation::{ChecklistSnapshot, ItemEvaluation, ItemStatus};
use super::gate::{counted_approvals, gate};
use super::hosts::url_host;
use super::ledger::{
    Deployment, DeploymentKind, active_at, active_now, rollback_target, rolled_back_versions,
};
use super::policy::EnvironmentPolicy;
use super::request::{PromotionApproval, ReviewBasis};
use crate::approval::Person;
use crate::spec::WorkflowSpec;
use chrono::{DateTime, Duration, Utc};

/// xorshift64: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id.into(),
    }
}

#[test]
fn url_hosts_never_panic_and_are_clean() {
    const PIECES: &[&str] = &[
        "http://",
        "https://",
        "HTTPS://",
        "${{",
        "}}",
        "${{ inputs.h }}",
        " ",
        ":",
        "::",
        "@",
        "[",
        "]",
        "/",
        "?",
        "#",
        "\\",
        ".",
        "a",
        "B",
        "example.com",
        "8080",
        "é",
        "😀",
        "%25",
        "\u{0}",
        "${{inputs.x}}",
        "}",
        "{",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let n = rng.below(8);
        let url: String = (0..n).map(|_| *rng.pick(PIECES)).collect();
        if let Some(host) = url_host(&url) {
            assert!(!host.host.is_empty(), "{url:?}");
            if host.templated {
                assert!(host.host.contains("${{ "), "{url:?} -> {host:?}");
            } else {
                assert!(
                    !host.host.contains(['/', '?', '#', '@']),
                    "{url:?} -> {host:?}"
                );
            }
        }
    }
}

#[test]
fn the_ledger_stays_consistent_through_random_promotions_and_rollbacks() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..200 {
        let mut rows: Vec<Deployment> = Vec::new();
        let mut newest = 0u32;
        for step in 0..30i64 {
            let current = active_now(&rows, "prod");
            let at = t0() + Duration::minutes(step);
            let (to, kind) = match rng.below(3) {
                0 => {
                    newest += 1;
                    (newest, DeploymentKind::Promotion)
                }
                1 => match rollback_target(&rows, "prod", None) {
                    Ok(plan) => {
                        let marked = rolled_back_versions(&rows, "prod");
                        assert_eq!(Some(plan.from), current);
                        assert_ne!(plan.to, plan.from);
                        assert!(
                            marked.iter().all(|r| r.version != plan.to),
                            "{plan:?} {marked:?}"
                        );
                        assert!(rows.iter().any(|r| r.to_version == plan.to));
                        (plan.to, DeploymentKind::Rollback)
                    }
                    Err(_) => continue,
                },
                _ => {
                    let named = rng.below(newest as usize + 2) as u32;
                    match rollback_target(&rows, "prod", Some(named)) {
                        Ok(plan) => {
                            assert_eq!(plan.to, named);
                            assert!(rows.iter().any(|r| r.to_version == named));
                            (named, DeploymentKind::Rollback)
                        }
                        Err(_) => {
                            let was = rows.iter().any(|r| r.to_version == named);
                            assert!(!was || Some(named) == current, "{named} refused");
                            continue;
                        }
                    }
                }
            };
            rows.push(Deployment {
                id: format!("d{step}"),
                workflow: "w".into(),
                environment: "prod".into(),
                from_version: current,
                to_version: to,
                kind,
                actor: person("oscar"),
                at,
                reason: None,
                request_id: None,
                approvers: vec![],
                checklist: None,
                freeze_break: None,
            });
            let now = active_now(&rows, "prod");
            assert_eq!(now, Some(to));
            assert!(
                rolled_back_versions(&rows, "prod")
                    .iter()
                    .all(|r| Some(r.version) != now)
            );
        }
        for row in &rows {
            assert_eq!(active_at(&rows, "prod", row.at), Some(row.to_version));
        }
    }
}

fn random_spec(rng: &mut Rng) -> WorkflowSpec {
    const IDS: &[&str] = &["a", "b", "c", "d", "e", "f"];
    const RUNS: &[&str] = &["true", "make", "exit 1"];
    const URLS: &[&str] = &[
        "https://x.example.com/",
        "https://y.example.com/a",
        "http://${{ inputs.h }}/",
    ];
    let mut steps = Vec::new();
    for id in IDS {
        if rng.below(2) == 0 {
            continue;
        }
        let step = if rng.below(3) == 0 {
            serde_json::json!({"id": id, "http": {"method": "GET", "url": rng.pick(URLS)}})
        } else {
            serde_json::json!({"id": id, "run": rng.pick(RUNS), "env": {"K": rng.pick(RUNS)}})
        };
        steps.push(step);
    }
    if rng.below(2) == 0 {
        steps.reverse();
    }
    serde_json::from_value(serde_json::json!({"name": "w", "steps": steps})).unwrap()
}

#[test]
fn diffs_account_for_every_step() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..2_000 {
        let a = random_spec(&mut rng);
        let b = random_spec(&mut rng);
        assert!(diff(Some(&a), &a).is_empty());
        let first = diff(None, &b);
        assert!(first.first_deployment);
        assert_eq!(first.steps.len(), b.steps.len());
        assert!(first.steps.iter().all(|s| s.change == Change::Added));

        let d = diff(Some(&a), &b);
        assert_eq!(d.digest(), diff(Some(&a), &b).digest());
        assert_eq!(d.is_empty(), a == b, "{a:?} {b:?}");
        for step in &b.steps {
            let change = d.steps.iter().find(|s| s.id == step.id).map(|s| s.change);
            match a.step(&step.id) {
                None => assert_eq!(change, Some(Change::Added)),
                Some(old) if old == step => assert_eq!(change, None),
                Some(_) => assert_eq!(change, Some(Change::Changed)),
            }
        }
        for step in &a.steps {
            if b.step(&step.id).is_none() {
                let change = d.steps.iter().find(|s| s.id == step.id).map(|s| s.change);
                assert_eq!(change, Some(Change::Removed));
            }
        }
        // Every new host is in the candidate and not in the active version.
        let hosts = |s: &WorkflowSpec| super::hosts::http_hosts(s);
        for h in &d.new_http_hosts {
            assert!(hosts(&b).contains(h) && !hosts(&a).contains(h));
        }
    }
}

#[test]
fn the_gate_counts_each_person_and_each_right_once() {
    let basis = ReviewBasis {
        content_hash: "c".into(),
        diff_digest: "d".into(),
    };
    let other = ReviewBasis {
        content_hash: "c".into(),
        diff_digest: "old".into(),
    };
    const PEOPLE: &[&str] = &["ann", "bob", "cy", "dee"];
    let mut rng = Rng(0xFEED_FACE_0000_0001);
    for _ in 0..5_000 {
        let approvals: Vec<PromotionApproval> = (0..rng.below(6))
            .map(|_| PromotionApproval {
                by: person(rng.pick::<&str>(PEOPLE)),
                on_behalf_of: (rng.below(3) == 0).then(|| person(rng.pick::<&str>(PEOPLE))),
                at: t0(),
                comment: None,
                reviewed: if rng.below(4) == 0 {
                    other.clone()
                } else {
                    basis.clone()
                },
            })
            .collect();
        let counted = counted_approvals(&approvals, &basis);
        let mut used: Vec<&str> = Vec::new();
        for a in &counted {
            assert_eq!(a.reviewed, basis);
            for id in [a.by.id.as_str(), a.right_holder().id.as_str()] {
                assert!(!used.contains(&id), "{id} counted twice: {counted:?}");
            }
            used.push(&a.by.id);
            if a.right_holder().id != a.by.id {
                used.push(&a.right_holder().id);
            }
        }
        let required = rng.below(4) as u32;
        let green = rng.below(2) == 0;
        let checklist = ChecklistSnapshot {
            evaluated_at: t0(),
            items: vec![ItemEvaluation {
                id: "i".into(),
                title: "I".into(),
                automatic: true,
                status: if green {
                    ItemStatus::Pass
                } else {
                    ItemStatus::Fail
                },
                explanation: String::new(),
            }],
        };
        let policy = EnvironmentPolicy {
            required_approvals: required,
            ..EnvironmentPolicy::default()
        };
        let ready = gate(&policy, &approvals, &basis, &checklist).is_ready();
        assert_eq!(ready, green && counted.len() as u32 >= required);
    }
}
