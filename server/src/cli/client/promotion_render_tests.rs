use super::*;
use gantry_core::promotion::delegation::Delegation;
use gantry_core::promotion::diff::{InputDiff, StepDiff};
use gantry_core::promotion::evaluation::ChecklistSnapshot;
use gantry_core::promotion::gate::WaitReason;
use gantry_core::promotion::hosts::HttpHost;
use gantry_core::promotion::{DeploymentKind, EnvironmentPolicy, EnvironmentPosition};

fn t(minutes: i64) -> DateTime<Utc> {
    // 2026-12-05 14:00 UTC, plus minutes.
    DateTime::from_timestamp(1_796_479_200 + minutes * 60, 0).unwrap()
}

fn person(name: &str) -> Person {
    Person {
        id: name.to_lowercase(),
        name: name.to_owned(),
    }
}

fn item(id: &str, title: &str, status: ItemStatus, explanation: &str) -> ItemEvaluation {
    ItemEvaluation {
        id: id.into(),
        title: title.into(),
        automatic: !matches!(status, ItemStatus::Unchecked | ItemStatus::Manual { .. }),
        status,
        explanation: explanation.into(),
    }
}

fn diff() -> SpecDiff {
    let change = |field: &str, before: Option<&str>, after: Option<&str>| FieldChange {
        field: field.into(),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
    };
    SpecDiff {
        first_deployment: false,
        workflow: vec![change("schedule", Some("*/5 * * * *"), Some("0 * * * *"))],
        inputs: vec![InputDiff {
            name: "region".into(),
            change: Change::Added,
            fields: vec![change("type", None, Some("string"))],
        }],
        steps: vec![
            StepDiff {
                id: "build".into(),
                change: Change::Changed,
                fields: vec![
                    change("run", Some("make"), Some("make all")),
                    change("timeout", None, Some("10m")),
                ],
            },
            StepDiff {
                id: "notify".into(),
                change: Change::Added,
                fields: vec![
                    change("http.method", None, Some("POST")),
                    change("http.url", None, Some("https://hooks.example.com/x")),
                ],
            },
            StepDiff {
                id: "cleanup".into(),
                change: Change::Removed,
                fields: vec![change("run", Some("rm -rf /tmp/build"), None)],
            },
        ],
        new_http_hosts: vec![HttpHost {
            host: "hooks.example.com".into(),
            templated: false,
        }],
        new_secret_references: vec![],
    }
}

fn request(state: PromotionState) -> PromotionRequest {
    PromotionRequest {
        id: "p-1".into(),
        workflow: "deploy".into(),
        version: 4,
        content_hash: "hash-4".into(),
        from_environment: "stage".into(),
        to_environment: "prod".into(),
        replaces: Some(3),
        requested_by: person("Avery"),
        reason: "release 2.1".into(),
        created_at: t(0),
        expires_at: t(7 * 24 * 60),
        state,
        approvals: vec![],
        ticks: vec![],
        decided_by: None,
        decided_at: None,
        comment: None,
    }
}

/// A pending request into prod under the default policy: two items green,
/// soak still running, the manual item unticked, a new host to acknowledge.
fn pending() -> PromotionDetail {
    let checklist = ChecklistSnapshot {
        evaluated_at: t(20),
        items: vec![
            item(
                "stage_runs",
                "At least 3 successful runs in stage in the last 7 d",
                ItemStatus::Pass,
                "3 successful runs in stage in the last 7 d (needs 3)",
            ),
            item(
                "soak",
                "Active in stage for at least 1 h",
                ItemStatus::Fail,
                "Active in stage for 20 min; needs 1 h, 40 min to go",
            ),
            item(
                "target_healthy",
                "The last run in prod is not failing",
                ItemStatus::Pass,
                "No finished runs in prod yet",
            ),
            item(
                "http_hosts",
                "No new HTTP hosts",
                ItemStatus::NeedsAcknowledgement {
                    new: vec!["hooks.example.com".into()],
                },
                "New HTTP host hooks.example.com; an approver acknowledges it",
            ),
            item(
                "on_call_aware",
                "The on-call engineer knows",
                ItemStatus::Unchecked,
                "Not ticked yet; an operator or an admin in prod ticks it",
            ),
        ],
    };
    PromotionDetail {
        request: request(PromotionState::Pending),
        policy: EnvironmentPolicy::default_for(EnvironmentPosition::Last),
        checklist,
        gate: GateDecision::Waiting {
            reasons: vec![
                WaitReason::Approvals { have: 0, need: 1 },
                WaitReason::Checklist {
                    item: "soak".into(),
                    title: "Active in stage for at least 1 h".into(),
                    explanation: "Active in stage for 20 min; needs 1 h, 40 min to go".into(),
                },
            ],
        },
        diff: diff(),
        deployment: None,
        delegations: vec![],
        freeze: Default::default(),
        canary: None,
        waits_for: None,
        verification: None,
    }
}

fn approval(by: &str, detail: &PromotionDetail, minutes: i64) -> PromotionApproval {
    PromotionApproval {
        by: person(by),
        on_behalf_of: None,
        at: t(minutes),
        comment: None,
        reviewed: basis(detail),
    }
}

fn deployment(kind: DeploymentKind, from: Option<u32>, to: u32) -> Deployment {
    Deployment {
        id: "d-9".into(),
        workflow: "deploy".into(),
        environment: "prod".into(),
        from_version: from,
        to_version: to,
        kind,
        actor: person("Blake"),
        at: t(90),
        reason: Some("release 2.1".into()),
        request_id: Some("p-1".into()),
        approvers: vec![person("Blake")],
        checklist: None,
        freeze_break: None,
    }
}

#[test]
fn a_pending_request_says_what_it_waits_for() {
    assert_eq!(
        summary(&pending(), t(21)),
        [
            "promotion p-1: deploy v4, stage -> prod: pending",
            "  checklist 2/5, approvals 0/1",
            "  waiting for:",
            "    0 of 1 required approval given",
            "    Active in stage for at least 1 h: Active in stage for 20 min; needs 1 h, 40 min to go",
        ]
    );
}

#[test]
fn decided_requests_say_who_decided_or_what_was_deployed() {
    let mut promoted = pending();
    promoted.request.state = PromotionState::Promoted;
    promoted.deployment = Some(deployment(DeploymentKind::Promotion, Some(3), 4));
    assert_eq!(
        summary(&promoted, t(91)),
        [
            "promotion p-1: deploy v4, stage -> prod: promoted",
            "  deploy v3 -> v4 in prod (promotion by Blake, 2026-12-05 15:30 UTC)",
        ]
    );

    let mut rejected = pending();
    rejected.request.state = PromotionState::Rejected;
    rejected.request.decided_by = Some(person("Blake"));
    rejected.request.decided_at = Some(t(30));
    rejected.request.comment = Some("not during the freeze".into());
    assert_eq!(
        summary(&rejected, t(31))[1],
        "  rejected by Blake 2026-12-05 14:30 UTC: not during the freeze"
    );

    // Stored as pending, but past its expiry: it reads as expired.
    let late = pending();
    let lines = summary(&late, t(7 * 24 * 60 + 1));
    assert_eq!(lines[0], "promotion p-1: deploy v4, stage -> prod: expired");
    assert_eq!(lines[1], "  expired 2026-12-12 14:00 UTC, nobody decided");

    let mut superseded = pending();
    superseded.request.state = PromotionState::Superseded;
    superseded.request.decided_at = Some(t(40));
    assert_eq!(
        summary(&superseded, t(41))[1],
        "  superseded 2026-12-05 14:40 UTC: a newer version was asked for, same target"
    );
}

#[test]
fn show_lists_the_checklist_approvals_gate_and_diff() {
    let mut d = pending();
    let counted = approval("Casey", &d, 10);
    let mut stale = approval("Dana", &d, 5);
    stale.reviewed.diff_digest = "an earlier diff".into();
    stale.comment = Some("lgtm".into());
    let mut delegate = approval("Emery", &d, 12);
    delegate.on_behalf_of = Some(person("Finley"));
    d.request.approvals = vec![stale, counted, delegate];
    d.delegations = vec![Delegation {
        from: person("Finley"),
        to: person("Emery"),
        environment: "prod".into(),
        from_time: t(-60),
        until: t(14 * 24 * 60),
    }];
    let lines = detail(&d, t(21));
    let expected = [
        "promotion p-1: pending",
        "  deploy v4: stage -> prod (replaces v3)",
        "  asked by Avery 2026-12-05 14:00 UTC: release 2.1",
        "  expires 2026-12-12 14:00 UTC",
        "checklist 2/5 (evaluated 2026-12-05 14:20 UTC)",
        "  ok       stage_runs - At least 3 successful runs in stage in the last 7 d",
        "             3 successful runs in stage in the last 7 d (needs 3)",
        "  failing  soak - Active in stage for at least 1 h",
        "             Active in stage for 20 min; needs 1 h, 40 min to go",
        "  ok       target_healthy - The last run in prod is not failing",
        "             No finished runs in prod yet",
        "  to ack   http_hosts - No new HTTP hosts",
        "             New HTTP host hooks.example.com; an approver acknowledges it",
        "  to tick  on_call_aware - The on-call engineer knows",
        "             Not ticked yet; an operator or an admin in prod ticks it",
        // Casey and Finley's right (used by Emery) count: 2 of the 1 needed.
        "approvals 2/1",
        "  Dana 2026-12-05 14:05 UTC: lgtm (approved an earlier diff; doesn't count)",
        "  Casey 2026-12-05 14:10 UTC",
        "  Emery (for Finley) 2026-12-05 14:12 UTC",
        "  waiting for:",
        "    0 of 1 required approval given",
        "    Active in stage for at least 1 h: Active in stage for 20 min; needs 1 h, 40 min to go",
        "diff against v3, active in prod:",
        "  ~ schedule: \"*/5 * * * *\" -> \"0 * * * *\"",
        "  + input region",
        "      type: \"string\"",
        "  ~ step build",
        "      run: \"make\" -> \"make all\"",
        "      timeout: (not set) -> \"10m\"",
        "  + step notify",
        "      http.method: \"POST\"",
        "      http.url: \"https://hooks.example.com/x\"",
        "  - step cleanup",
        "      run: \"rm -rf /tmp/build\"",
        "  new HTTP hosts: hooks.example.com",
        "delegations in prod:",
        "  Finley -> Emery until 2026-12-19 14:00 UTC",
    ];
    assert_eq!(lines, expected);
}

#[test]
fn show_of_a_promoted_request_names_its_deployment_and_not_a_count() {
    let mut d = pending();
    d.request.state = PromotionState::Promoted;
    d.request.approvals = vec![approval("Blake", &d, 60)];
    d.checklist.items.clear();
    d.diff = SpecDiff {
        first_deployment: false,
        workflow: vec![],
        inputs: vec![],
        steps: vec![],
        new_http_hosts: vec![],
        new_secret_references: vec![],
    };
    d.deployment = Some(deployment(DeploymentKind::Promotion, Some(3), 4));
    let lines = detail(&d, t(91));
    assert_eq!(
        lines,
        [
            "promotion p-1: promoted",
            "  deploy v4: stage -> prod (replaces v3)",
            "  asked by Avery 2026-12-05 14:00 UTC: release 2.1",
            "  deployed: deploy v3 -> v4 in prod (promotion by Blake, 2026-12-05 15:30 UTC)",
            "checklist 0/0 (evaluated 2026-12-05 14:20 UTC)",
            "  (the policy of prod has no checklist)",
            "approvals",
            "  Blake 2026-12-05 15:00 UTC",
            "diff against v3, active in prod:",
            "  no changes",
        ]
    );
}

#[test]
fn diffs_cut_long_values_and_say_when_everything_is_new() {
    let mut d = diff();
    d.first_deployment = true;
    d.workflow.clear();
    d.inputs.clear();
    d.new_http_hosts = vec![HttpHost {
        host: "${{ inputs.host }}".into(),
        templated: true,
    }];
    d.new_secret_references = vec!["vault:kv/data/prod/db#password".into()];
    let long = "é".repeat(100);
    d.steps = vec![StepDiff {
        id: "migrate".into(),
        change: Change::Added,
        fields: vec![FieldChange {
            field: "run".into(),
            before: None,
            after: Some(format!("{long}\nsecond line")),
        }],
    }];
    let lines = diff_lines(&d, None, "stage");
    assert_eq!(
        lines[0],
        "diff: nothing is active in stage yet; everything is new"
    );
    assert_eq!(lines[1], "  + step migrate");
    let value = lines[2].strip_prefix("      run: \"").unwrap();
    assert_eq!(value.chars().count(), MAX_VALUE_CHARS - 1, "{value}");
    assert!(value.ends_with("..."), "{value}");
    assert!(!lines[2].contains('\n'));
    assert_eq!(
        &lines[3..],
        [
            "  new HTTP hosts: ${{ inputs.host }} (templated)",
            "  new secret references: vault:kv/data/prod/db#password",
        ]
    );
}

#[test]
fn waiting_prints_only_what_changed() {
    let before = pending();

    // The soak's live value moves every poll: nothing to say.
    let mut after = pending();
    after.checklist.items[1].explanation = "Active in stage for 21 min; needs 1 h".into();
    assert_eq!(progress(&before, &after), Vec::<String>::new());

    // A tick, the soak passing and an approval: one line each.
    let mut after = pending();
    after.checklist.items[1].status = ItemStatus::Pass;
    after.checklist.items[1].explanation = "Active in stage for 1 h (needs 1 h)".into();
    after.checklist.items[4].status = ItemStatus::Manual {
        checked_by: person("Avery"),
        evidence: None,
        at: t(61),
    };
    after.checklist.items[4].explanation = "Ticked by Avery".into();
    let mut approved = approval("Blake", &after, 62);
    approved.comment = Some("diff reviewed".into());
    after.request.approvals.push(approved);
    assert_eq!(
        progress(&before, &after),
        [
            "  soak: ok - Active in stage for 1 h (needs 1 h)",
            "  on_call_aware: ok - Ticked by Avery",
            "  approved by Blake: diff reviewed (approvals 1/1)",
        ]
    );

    // The target moved: the same approval no longer counts.
    let mut moved = after.clone();
    moved.diff.steps.pop();
    let lines = progress(&after, &moved);
    assert_eq!(
        lines,
        ["  approvals 0/1: approvals given before the diff changed no longer count"]
    );
}

#[test]
fn the_request_table_shows_states_as_of_now() {
    let mut promoted = request(PromotionState::Promoted);
    promoted.id = "p-0".into();
    promoted.version = 3;
    promoted.reason = "a reason much longer than the forty characters a row shows".into();
    let rows = request_table(
        &[request(PromotionState::Pending), promoted],
        t(8 * 24 * 60),
    );
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("PROMOTION"), "{}", rows[0]);
    assert!(
        rows[1].starts_with("p-1") && rows[1].contains("  expired    deploy v4"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("stage -> prod"), "{}", rows[1]);
    assert!(
        rows[1].ends_with("2026-12-05 14:00 UTC release 2.1"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].ends_with("a reason much longer than the forty c..."),
        "{}",
        rows[2]
    );
    assert_eq!(request_table(&[], t(0)), ["no promotion requests match"]);
}

#[test]
fn the_ledger_reads_as_moves_or_as_what_was_active() {
    let first = Deployment {
        from_version: None,
        kind: DeploymentKind::Apply,
        reason: None,
        ..deployment(DeploymentKind::Apply, None, 1)
    };
    let rows = deployment_table(
        &[
            deployment(DeploymentKind::Rollback, Some(4), 3),
            first.clone(),
        ],
        None,
    );
    assert_eq!(
        rows,
        [
            "AT                   WORKFLOW                 ENV        MOVE           KIND       BY                   REASON",
            "2026-12-05 15:30 UTC deploy                   prod       v4 -> v3       rollback   Blake                release 2.1",
            "2026-12-05 15:30 UTC deploy                   prod       (none) -> v1   apply      Blake                ",
        ]
    );
    let at = deployment_table(&[first], Some(t(120)));
    assert_eq!(
        at,
        [
            "active at 2026-12-05 16:00 UTC:",
            "WORKFLOW                 ENV        VERSION  SINCE                KIND       BY",
            "deploy                   prod       v1       2026-12-05 15:30 UTC apply      Blake",
        ]
    );
    assert_eq!(deployment_table(&[], None), ["no deployments match"]);
    assert_eq!(
        deployment_table(&[], Some(t(0))),
        ["nothing was active at 2026-12-05 14:00 UTC for this filter"]
    );
}

#[test]
fn a_rollback_says_where_runs_in_flight_stand() {
    let outcome = |cancelled: &[&str]| RollbackOutcome {
        deployment: deployment(DeploymentKind::Rollback, Some(4), 3),
        cancelled_runs: cancelled.iter().map(|s| s.to_string()).collect(),
    };
    let kept = rollback(&outcome(&[]), false);
    assert_eq!(
        kept,
        [
            "rolled back deploy in prod: v4 -> v3 (deployment d-9)",
            "  runs of v4 already started or queued keep v4; new runs use v3",
            "  v4 is marked rolled back in prod; promoting it there again needs --confirm-rolled-back",
        ]
    );
    assert_eq!(
        rollback(&outcome(&["r-1", "r-2"]), true)[1],
        "  cancelled 2 runs of v4: r-1, r-2"
    );
    assert_eq!(
        rollback(&outcome(&["r-1"]), true)[1],
        "  cancelled 1 run of v4: r-1"
    );
    assert_eq!(
        rollback(&outcome(&[]), true)[1],
        "  no run of v4 was still going"
    );
}

#[test]
fn cutting_counts_characters_not_bytes() {
    assert_eq!(cut("short", 10), "short");
    assert_eq!(cut("ééééééééééé", 8), "ééééé...");
    assert_eq!(cut("abc", 3), "abc");
}
