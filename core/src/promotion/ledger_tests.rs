use super::*;
use DeploymentKind::*;
use chrono::Duration;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

/// `minutes` after t0.
fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

fn row(
    environment: &str,
    from: Option<u32>,
    to: u32,
    kind: DeploymentKind,
    minutes: i64,
) -> Deployment {
    Deployment {
        id: format!("d-{environment}-{minutes}"),
        workflow: "deploy".into(),
        environment: environment.into(),
        from_version: from,
        to_version: to,
        kind,
        actor: Person {
            id: "oscar".into(),
            name: "Oscar".into(),
        },
        at: at(minutes),
        reason: (kind != Apply).then(|| format!("{} at {minutes}", kind.as_str())),
        request_id: None,
        approvers: vec![],
        checklist: None,
        freeze_break: None,
    }
}

/// dev: 1, 2, 3 applied; prod: 1 promoted, then 2, rolled back to 1, then 3.
fn history() -> Vec<Deployment> {
    vec![
        row("dev", None, 1, Apply, 0),
        row("prod", None, 1, Promotion, 10),
        row("dev", Some(1), 2, Apply, 20),
        row("prod", Some(1), 2, Promotion, 30),
        row("prod", Some(2), 1, Rollback, 40),
        row("dev", Some(2), 3, Apply, 50),
        row("prod", Some(1), 3, Promotion, 60),
    ]
}

#[test]
fn the_ledger_answers_which_version_was_active_when() {
    let rows = history();
    // (environment, minutes, active)
    let cases = [
        ("prod", -1, None),
        ("prod", 9, None),
        ("prod", 10, Some(1)),
        ("prod", 35, Some(2)),
        ("prod", 40, Some(1)),
        ("prod", 59, Some(1)),
        ("prod", 60, Some(3)),
        ("prod", 10_000, Some(3)),
        ("dev", 25, Some(2)),
        ("stage", 100, None),
    ];
    for (environment, minutes, active) in cases {
        assert_eq!(
            active_at(&rows, environment, at(minutes)),
            active,
            "{environment} at {minutes}"
        );
    }
    assert_eq!(active_now(&rows, "prod"), Some(3));
    assert_eq!(active_now(&rows, "stage"), None);
}

#[test]
fn rows_written_at_the_same_instant_count_in_written_order() {
    let rows = vec![
        row("prod", None, 1, Promotion, 5),
        row("prod", Some(1), 2, Promotion, 5),
    ];
    assert_eq!(active_at(&rows, "prod", at(5)), Some(2));
}

#[test]
fn rolled_back_versions_are_marked_until_they_leave_some_other_way() {
    let rows = history();
    let marked = rolled_back_versions(&rows, "prod");
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].version, 2);
    assert_eq!(marked[0].at, at(40));
    assert_eq!(marked[0].reason.as_deref(), Some("rollback at 40"));
    assert!(rolled_back_versions(&rows, "dev").is_empty());

    // Promoted again (confirmed) and then replaced normally: no longer marked.
    let mut again = history();
    again.push(row("prod", Some(3), 2, Promotion, 70));
    assert!(
        rolled_back_versions(&again, "prod").is_empty(),
        "active again"
    );
    again.push(row("prod", Some(2), 4, Promotion, 80));
    assert!(
        rolled_back_versions(&again, "prod")
            .iter()
            .all(|r| r.version != 2)
    );

    // Rolled back and active again through a rollback to it: not marked while active.
    let mut back = history();
    back.push(row("prod", Some(3), 2, Rollback, 70));
    let versions: Vec<u32> = rolled_back_versions(&back, "prod")
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, [3]);
}

#[test]
fn rollback_targets_table() {
    let rows = history();
    let mut twice = history();
    twice.push(row("prod", Some(3), 1, Rollback, 70));
    let single = vec![row("prod", None, 5, Promotion, 0)];
    let re_promoted = vec![
        row("prod", None, 1, Promotion, 0),
        row("prod", Some(1), 2, Promotion, 10),
        row("prod", Some(2), 1, Rollback, 20),
        row("prod", Some(1), 2, Promotion, 30),
    ];
    // (rows, environment, asked, plan (from, to) or the message)
    type Case<'a> = (
        &'a [Deployment],
        &'a str,
        Option<u32>,
        Result<(u32, u32), &'a str>,
    );
    let cases: Vec<Case> = vec![
        // The version before, skipping the one that was rolled back.
        (&rows, "prod", None, Ok((3, 1))),
        (&rows, "dev", None, Ok((3, 2))),
        // Named: any version that was active there, even a rolled-back one.
        (&rows, "prod", Some(2), Ok((3, 2))),
        (&rows, "prod", Some(1), Ok((3, 1))),
        (
            &rows,
            "prod",
            Some(3),
            Err("version 3 is already active in prod"),
        ),
        (
            &rows,
            "prod",
            Some(9),
            Err(
                "version 9 was never active in prod, so it can't be rolled back to (versions that were: 1, 2, 3)",
            ),
        ),
        // Rolling back twice goes further back, never to what was just rolled back.
        (
            &twice,
            "prod",
            None,
            Err(
                "nothing to roll back to in prod: no version was active there before version 1 that wasn't rolled back itself; name one with to_version",
            ),
        ),
        (&twice, "prod", Some(3), Ok((1, 3))),
        (
            &single,
            "prod",
            None,
            Err("nothing to roll back to in prod: no version was active there before version 5"),
        ),
        (
            &rows,
            "stage",
            None,
            Err("nothing is active in stage, so there is nothing to roll back"),
        ),
        (&re_promoted, "prod", None, Ok((2, 1))),
    ];
    for (rows, environment, asked, expected) in cases {
        let got = rollback_target(rows, environment, asked);
        match expected {
            Ok((from, to)) => assert_eq!(
                got,
                Ok(RollbackPlan { from, to }),
                "{environment} {asked:?}"
            ),
            Err(message) => {
                let refusal = got.unwrap_err();
                assert_eq!(refusal.to_string(), message, "{environment} {asked:?}");
                assert_eq!(PortError::from(refusal).http_status(), 409);
            }
        }
    }
}

#[test]
fn a_ledger_that_starts_mid_history_still_knows_the_version_before() {
    // The first row recorded a move from a version active before the ledger.
    let rows = vec![row("prod", Some(4), 5, Promotion, 0)];
    assert_eq!(
        rollback_target(&rows, "prod", None),
        Ok(RollbackPlan { from: 5, to: 4 })
    );
}

#[test]
fn active_periods_draw_the_history_as_bands() {
    let periods = active_periods(&history(), "prod");
    let bands: Vec<(u32, i64, Option<i64>, DeploymentKind, bool)> = periods
        .iter()
        .map(|p| {
            (
                p.version,
                (p.from - t0()).num_minutes(),
                p.until.map(|u| (u - t0()).num_minutes()),
                p.kind,
                p.rolled_back,
            )
        })
        .collect();
    assert_eq!(
        bands,
        [
            (1, 10, Some(30), Promotion, false),
            (2, 30, Some(40), Promotion, true),
            (1, 40, Some(60), Rollback, false),
            (3, 60, None, Promotion, false),
        ]
    );
    assert!(active_periods(&history(), "stage").is_empty());
}

#[test]
fn kinds_and_rows_travel_as_json() {
    for kind in [Apply, Promotion, Rollback, Canary] {
        assert_eq!(DeploymentKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert_eq!(DeploymentKind::parse("deploy"), None);
    let r = row("prod", Some(1), 2, Promotion, 30);
    let back: Deployment = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
