use super::*;
use crate::promotion::checklist::default_checklist;
use chrono::Duration;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn week() -> PolicyDuration {
    PolicyDuration::from_days(7)
}

/// Facts under which the default checklist is green but for its manual item.
fn facts() -> ChecklistFacts {
    ChecklistFacts {
        now: now(),
        previous_environment: "stage".into(),
        target_environment: "prod".into(),
        version: 7,
        run_windows: vec![RunWindow {
            window: week(),
            finished: 5,
            succeeded: 5,
        }],
        active_in_previous_since: Some(now() - Duration::hours(3)),
        target_last_run: Some(LastRun {
            id: "r-41".into(),
            status: RunStatus::Succeeded,
        }),
        new_http_hosts: vec![],
        new_secret_references: vec![],
        firing_alerts: vec![],
        previous_verification: None,
    }
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: format!("{}{}", id[..1].to_uppercase(), &id[1..]),
    }
}

fn tick(item: &str, by: &str) -> ChecklistTick {
    ChecklistTick {
        item: item.into(),
        by: person(by),
        at: now() - Duration::minutes(5),
        evidence: None,
        acknowledged: vec![],
    }
}

fn item(check: ItemCheck) -> ChecklistItemTemplate {
    ChecklistItemTemplate {
        id: "x".into(),
        check,
    }
}

/// The one item's status and explanation.
fn one(check: ItemCheck, facts: &ChecklistFacts, ticks: &[ChecklistTick]) -> (ItemStatus, String) {
    let mut ticks = ticks.to_vec();
    for t in &mut ticks {
        t.item = "x".into();
    }
    let snapshot = evaluate(&[item(check)], facts, &ticks);
    let only = snapshot.items.into_iter().next().unwrap();
    (only.status, only.explanation)
}

#[test]
fn runs_in_the_previous_environment_table() {
    let check = |min_runs, ratio| ItemCheck::SuccessfulRunsInPrevious {
        min_runs,
        window: week(),
        min_success_ratio: ratio,
    };
    let with = |finished, succeeded| ChecklistFacts {
        run_windows: vec![RunWindow {
            window: week(),
            finished,
            succeeded,
        }],
        ..facts()
    };
    // (min runs, min ratio, finished, succeeded, green, explanation)
    let cases: &[(u32, f64, u32, u32, bool, &str)] = &[
        (
            3,
            0.9,
            3,
            2,
            false,
            "2 of 3 successful runs in stage in the last 7 d",
        ),
        (
            3,
            0.9,
            0,
            0,
            false,
            "0 of 3 successful runs in stage in the last 7 d",
        ),
        (
            3,
            0.9,
            3,
            3,
            true,
            "3 successful runs in stage in the last 7 d (needs 3); 3 of 3 finished runs succeeded (100%; needs 90%)",
        ),
        (
            3,
            0.9,
            10,
            9,
            true,
            "9 successful runs in stage in the last 7 d (needs 3); 9 of 10 finished runs succeeded (90%; needs 90%)",
        ),
        (
            3,
            0.9,
            5,
            3,
            false,
            "3 successful runs in stage in the last 7 d (needs 3), but only 3 of 5 finished runs succeeded (60%; needs 90%)",
        ),
        // Just under the bar: shown floored, never as reaching it.
        (
            1,
            0.9,
            1000,
            899,
            false,
            "899 successful runs in stage in the last 7 d (needs 1), but only 899 of 1000 finished runs succeeded (89%; needs 90%)",
        ),
        (
            1,
            0.0,
            4,
            1,
            true,
            "1 successful run in stage in the last 7 d (needs 1); 1 of 4 finished runs succeeded (25%; needs 0%)",
        ),
        // A count the server got wrong can't claim more successes than runs.
        (
            1,
            1.0,
            1,
            5,
            true,
            "1 successful run in stage in the last 7 d (needs 1); 1 of 1 finished run succeeded (100%; needs 100%)",
        ),
    ];
    for (min_runs, ratio, finished, succeeded, green, explanation) in cases {
        let (status, why) = one(check(*min_runs, *ratio), &with(*finished, *succeeded), &[]);
        assert_eq!(status.is_green(), *green, "{why}");
        assert_eq!(why, *explanation);
    }
}

#[test]
fn a_missing_window_fails_safe() {
    let check = ItemCheck::SuccessfulRunsInPrevious {
        min_runs: 1,
        window: PolicyDuration::from_days(1),
        min_success_ratio: 0.5,
    };
    let (status, why) = one(check, &facts(), &[]);
    assert_eq!(status, ItemStatus::Fail);
    assert_eq!(why, "No run counts for the last 1 d in stage were gathered");
}

#[test]
fn soak_time_table() {
    let check = ItemCheck::SoakTime {
        min: PolicyDuration::from_hours(1),
    };
    let since = |d: Option<Duration>| ChecklistFacts {
        active_in_previous_since: d.map(|d| now() - d),
        ..facts()
    };
    let cases = [
        (
            Some(Duration::hours(3)),
            true,
            "Active in stage for 3 h (needs 1 h)",
        ),
        (
            Some(Duration::hours(1)),
            true,
            "Active in stage for 1 h (needs 1 h)",
        ),
        (
            Some(Duration::minutes(20)),
            false,
            "Active in stage for 20 min; needs 1 h, 40 min to go",
        ),
        // Activation a little in the future (clocks apart) is no time at all.
        (
            Some(Duration::seconds(-30)),
            false,
            "Active in stage for 0 s; needs 1 h, 1 h to go",
        ),
        (
            None,
            false,
            "Version 7 is not active in stage now, so it is not soaking there",
        ),
    ];
    for (d, green, explanation) in cases {
        let (status, why) = one(check.clone(), &since(d), &[]);
        assert_eq!(status.is_green(), green, "{why}");
        assert_eq!(why, explanation);
    }
}

#[test]
fn target_not_failing_table() {
    let last = |status: Option<RunStatus>| ChecklistFacts {
        target_last_run: status.map(|status| LastRun {
            id: "r-9".into(),
            status,
        }),
        ..facts()
    };
    let cases = [
        (None, true, "No finished runs in prod yet"),
        (
            Some(RunStatus::Succeeded),
            true,
            "The last run in prod (r-9) succeeded",
        ),
        (
            Some(RunStatus::Cancelled),
            true,
            "The last run in prod (r-9) was cancelled",
        ),
        (
            Some(RunStatus::Running),
            true,
            "The last run in prod (r-9) is still going",
        ),
        (
            Some(RunStatus::Failed),
            false,
            "The last run in prod (r-9) failed; fix it or roll back before promoting",
        ),
        (
            Some(RunStatus::TimedOut),
            false,
            "The last run in prod (r-9) timed out; fix it or roll back before promoting",
        ),
    ];
    for (status, green, explanation) in cases {
        let (got, why) = one(ItemCheck::TargetNotFailing, &last(status), &[]);
        assert_eq!(got.is_green(), green, "{why}");
        assert_eq!(why, explanation);
    }
}

#[test]
fn new_hosts_and_references_need_an_acknowledgement_naming_them() {
    let hosts = ChecklistFacts {
        new_http_hosts: vec!["api.example.com".into(), "${{ inputs.host }}".into()],
        new_secret_references: vec!["vault:kv/data/prod/db#password".into()],
        firing_alerts: vec![],
        ..facts()
    };
    let (status, why) = one(ItemCheck::NoNewHttpHosts, &facts(), &[]);
    assert_eq!(
        (status, why.as_str()),
        (ItemStatus::Pass, "No new HTTP hosts")
    );

    let (status, why) = one(ItemCheck::NoNewHttpHosts, &hosts, &[]);
    assert_eq!(
        status,
        ItemStatus::NeedsAcknowledgement {
            new: vec!["api.example.com".into(), "${{ inputs.host }}".into()]
        }
    );
    assert_eq!(
        why,
        "New HTTP hosts api.example.com, ${{ inputs.host }}: an approver must acknowledge them"
    );

    let (_, why) = one(ItemCheck::NoNewSecretReferences, &hosts, &[]);
    assert_eq!(
        why,
        "New secret reference vault:kv/data/prod/db#password: an approver must acknowledge it"
    );

    // Acknowledged by name: green, and says by whom.
    let ack = ChecklistTick {
        acknowledged: vec!["${{ inputs.host }}".into(), "api.example.com".into()],
        ..tick("x", "avery")
    };
    let (status, why) = one(
        ItemCheck::NoNewHttpHosts,
        &hosts,
        std::slice::from_ref(&ack),
    );
    assert!(status.is_green(), "{status:?}");
    assert!(matches!(status, ItemStatus::Acknowledged { ref by, .. } if by.id == "avery"));
    assert_eq!(
        why,
        "New HTTP hosts api.example.com, ${{ inputs.host }}: acknowledged by Avery"
    );

    // Something new since the acknowledgement: it no longer counts.
    let more = ChecklistFacts {
        new_http_hosts: vec![
            "api.example.com".into(),
            "evil.example.net".into(),
            "${{ inputs.host }}".into(),
        ],
        ..hosts
    };
    let (status, why) = one(ItemCheck::NoNewHttpHosts, &more, &[ack]);
    assert!(matches!(status, ItemStatus::NeedsAcknowledgement { .. }));
    assert!(
        why.contains("Avery acknowledged an earlier list, not evil.example.net"),
        "{why}"
    );
}

#[test]
fn manual_items_table() {
    let check = |evidence_required| ItemCheck::Manual {
        text: "Release notes published".into(),
        role: Role::Operator,
        evidence_required,
    };
    let with_evidence = ChecklistTick {
        evidence: Some("https://wiki/notes/7".into()),
        ..tick("x", "oscar")
    };
    let (status, why) = one(check(false), &facts(), &[]);
    assert_eq!(status, ItemStatus::Unchecked);
    assert_eq!(
        why,
        "Not ticked yet; an operator or an admin in prod ticks it"
    );

    let (status, why) = one(check(false), &facts(), &[tick("x", "oscar")]);
    assert_eq!(
        status,
        ItemStatus::Manual {
            checked_by: person("oscar"),
            evidence: None,
            at: now() - Duration::minutes(5)
        }
    );
    assert_eq!(why, "Ticked by Oscar");

    let (status, why) = one(check(true), &facts(), &[tick("x", "oscar")]);
    assert_eq!(status, ItemStatus::Unchecked);
    assert_eq!(
        why,
        "Ticked by Oscar without evidence; this item needs a link or note"
    );

    let (status, why) = one(check(true), &facts(), &[with_evidence]);
    assert!(status.is_green());
    assert_eq!(why, "Ticked by Oscar, with evidence");
}

#[test]
fn the_default_checklist_waits_for_its_manual_item_then_is_green() {
    let checklist = default_checklist();
    let snapshot = evaluate(&checklist, &facts(), &[]);
    assert_eq!(snapshot.evaluated_at, now());
    assert!(!snapshot.all_green());
    assert!(!all_green(&snapshot));
    assert_eq!(snapshot.progress(), (6, 7));
    let blocking: Vec<&str> = snapshot.blocking().map(|i| i.id.as_str()).collect();
    assert_eq!(blocking, ["on_call_aware"]);

    // Ticks of other items, and of items not in the checklist, don't count.
    let snapshot = evaluate(
        &checklist,
        &facts(),
        &[tick("stray", "oscar"), tick("on_call_aware", "oscar")],
    );
    assert!(snapshot.all_green(), "{snapshot:?}");
    assert_eq!(snapshot.progress(), (7, 7));
    // Items keep the policy's order, ids and titles.
    let ids: Vec<&str> = snapshot.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "stage_runs",
            "soak",
            "target_healthy",
            "no_firing_alerts",
            "http_hosts",
            "secret_references",
            "on_call_aware"
        ]
    );
    assert_eq!(snapshot.items[1].title, "Active in stage for at least 1 h");
    assert!(snapshot.items[0].automatic && !snapshot.items[6].automatic);
}

#[test]
fn an_empty_checklist_is_green() {
    let snapshot = evaluate(&[], &facts(), &[]);
    assert!(snapshot.all_green());
    assert_eq!(snapshot.progress(), (0, 0));
}

#[test]
fn the_last_tick_of_an_item_counts() {
    let check = ItemCheck::Manual {
        text: "t".into(),
        role: Role::Operator,
        evidence_required: false,
    };
    let (status, _) = one(check, &facts(), &[tick("x", "oscar"), tick("x", "olga")]);
    assert!(matches!(status, ItemStatus::Manual { checked_by, .. } if checked_by.id == "olga"));
}

#[test]
fn windows_needed_are_distinct_and_sorted() {
    let runs = |days| ChecklistItemTemplate {
        id: format!("r{days}"),
        check: ItemCheck::SuccessfulRunsInPrevious {
            min_runs: 1,
            window: PolicyDuration::from_days(days),
            min_success_ratio: 0.5,
        },
    };
    let checklist = vec![runs(7), runs(1), runs(7), item(ItemCheck::TargetNotFailing)];
    assert_eq!(
        run_windows_needed(&checklist),
        [PolicyDuration::from_days(1), PolicyDuration::from_days(7)]
    );
}

#[test]
fn runs_count_toward_the_ratio_once_finished_and_not_cancelled() {
    let cases = [
        (RunStatus::Succeeded, Some(true)),
        (RunStatus::Failed, Some(false)),
        (RunStatus::TimedOut, Some(false)),
        (RunStatus::Cancelled, None),
        (RunStatus::Queued, None),
        (RunStatus::Running, None),
    ];
    for (status, counts) in cases {
        assert_eq!(counts_toward_ratio(status), counts, "{status:?}");
    }
}

#[test]
fn snapshots_round_trip_through_json() {
    let snapshot = evaluate(
        &default_checklist(),
        &facts(),
        &[tick("on_call_aware", "oscar")],
    );
    let json = serde_json::to_string(&snapshot).unwrap();
    assert!(
        json.contains(r#""status":{"state":"manual","checked_by":{"id":"oscar""#),
        "{json}"
    );
    let back: ChecklistSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snapshot);
}

#[test]
fn a_firing_alert_blocks_the_no_firing_alerts_item_by_name() {
    let mut f = facts();
    let (got, why) = one(ItemCheck::NoFiringAlerts, &f, &[]);
    assert_eq!(got, ItemStatus::Pass, "{why}");
    f.firing_alerts = vec!["nightly keeps failing (stage)".into()];
    let (got, why) = one(ItemCheck::NoFiringAlerts, &f, &[]);
    assert_eq!(got, ItemStatus::Fail);
    assert!(why.contains("nightly keeps failing (stage)"), "{why}");
}
