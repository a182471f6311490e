use super::*;
use crate::cli::{Cli, Command};
use clap::Parser;
use clap::error::ErrorKind;

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    let mut argv = vec!["gantry"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).map(|c| c.command)
}

/// The message clap prints for a refused command line (exit code 2).
fn refusal(args: &[&str]) -> (ErrorKind, String) {
    let err = parse(args).expect_err("refused");
    (err.kind(), err.to_string())
}

#[test]
fn promote_reads_its_flags_into_the_request_body() {
    let Ok(Command::Promote(args)) = parse(&[
        "promote",
        "deploy",
        "--to",
        "prod",
        "--version",
        "4",
        "--reason",
        "release 2.1",
        "--wait",
        "--timeout",
        "90s",
        "--url",
        "http://gantry.internal:3000",
    ]) else {
        panic!("a promote command")
    };
    assert_eq!(args.workflow, "deploy");
    assert!(args.wait);
    assert_eq!(args.timeout, Duration::from_secs(90));
    assert_eq!(args.conn.url, "http://gantry.internal:3000");
    assert_eq!(
        serde_json::to_value(args.ask()).unwrap(),
        serde_json::json!({
            "to_environment": "prod",
            "version": 4,
            "reason": "release 2.1",
            "confirm_rolled_back": false,
        })
    );
}

#[test]
fn promote_defaults_to_the_previous_environments_version_and_ten_minutes() {
    let Ok(Command::Promote(args)) = parse(&[
        "promote",
        "deploy",
        "--to",
        "stage",
        "--reason",
        "r",
        "--confirm-rolled-back",
    ]) else {
        panic!("a promote command")
    };
    assert_eq!(args.version, None);
    assert!(!args.wait);
    assert_eq!(args.timeout, Duration::from_secs(600));
    let body = serde_json::to_value(args.ask()).unwrap();
    assert!(body.get("version").is_none(), "{body}");
    assert_eq!(body["confirm_rolled_back"], true);
}

#[test]
fn promote_refuses_bad_command_lines_before_calling_anyone() {
    // (arguments, what the message must say)
    let cases: &[(&[&str], &str)] = &[
        (&["promote", "deploy", "--reason", "r"], "--to <ENV>"),
        (&["promote", "deploy", "--to", "prod"], "--reason <TEXT>"),
        (&["promote", "--to", "prod", "--reason", "r"], "<WORKFLOW>"),
        (
            &["promote", "deploy", "--to", "Prod!", "--reason", "r"],
            "use 1-32 characters of a-z",
        ),
        (
            &[
                "promote",
                "deploy",
                "--to",
                "prod",
                "--reason",
                "r",
                "--version",
                "0",
            ],
            "0 is not in 1..",
        ),
        (
            &[
                "promote",
                "deploy",
                "--to",
                "prod",
                "--reason",
                "r",
                "--version",
                "v4",
            ],
            "invalid digit",
        ),
        (
            &[
                "promote",
                "deploy",
                "--to",
                "prod",
                "--reason",
                "r",
                "--timeout",
                "soon",
            ],
            "write it like 30s, 10m or 2h",
        ),
        (
            &[
                "promote",
                "deploy",
                "--to",
                "prod",
                "--reason",
                "r",
                "--timeout",
                "0s",
            ],
            "wait at least 1s",
        ),
    ];
    for (args, says) in cases {
        let (_, message) = refusal(args);
        assert!(message.contains(says), "{args:?}: {message}");
    }
}

#[test]
fn promotions_filters_become_the_query() {
    let cases: &[(&[&str], &str)] = &[
        (&["promotions"], "/api/v1/promotions"),
        (
            &["promotions", "--pending"],
            "/api/v1/promotions?state=pending",
        ),
        (
            &[
                "promotions",
                "--state",
                "rejected",
                "--workflow",
                "nightly backup",
            ],
            "/api/v1/promotions?workflow=nightly+backup&state=rejected",
        ),
        (
            &[
                "promotions",
                "--env",
                "prod",
                "--pending",
                "--workflow",
                "deploy",
            ],
            "/api/v1/promotions?workflow=deploy&environment=prod&state=pending",
        ),
    ];
    for (args, path) in cases {
        let Ok(Command::Promotions(list)) = parse(args) else {
            panic!("{args:?}: a promotions command")
        };
        assert_eq!(list.path(), *path, "{args:?}");
    }
    let (kind, message) = refusal(&["promotions", "--state", "open"]);
    assert_eq!(kind, ErrorKind::ValueValidation);
    assert!(
        message.contains("use one of pending, promoted, rejected, cancelled, expired, superseded"),
        "{message}"
    );
    let (kind, _) = refusal(&["promotions", "--pending", "--state", "promoted"]);
    assert_eq!(kind, ErrorKind::ArgumentConflict);
}

#[test]
fn promotion_subcommands_name_the_request() {
    let Ok(Command::Promotion(PromotionCommand::Show(show))) = parse(&["promotion", "show", "p-1"])
    else {
        panic!("show")
    };
    assert_eq!(show.id, "p-1");
    for verb in ["approve", "reject", "cancel"] {
        let command = parse(&["promotion", verb, "p-1", "--comment", "checked the diff"]).unwrap();
        let (found, args) = match &command {
            Command::Promotion(PromotionCommand::Approve(a)) => ("approve", a),
            Command::Promotion(PromotionCommand::Reject(a)) => ("reject", a),
            Command::Promotion(PromotionCommand::Cancel(a)) => ("cancel", a),
            other => panic!("{verb}: a decision, got {other:?}"),
        };
        assert_eq!(found, verb);
        assert_eq!(args.id, "p-1", "{verb}");
        assert_eq!(args.comment.as_deref(), Some("checked the diff"), "{verb}");
        let (_, message) = refusal(&["promotion", verb]);
        assert!(message.contains("<ID>"), "{verb}: {message}");
    }
    let (kind, _) = refusal(&["promotion", "merge", "p-1"]);
    assert_eq!(kind, ErrorKind::InvalidSubcommand);
}

#[test]
fn check_ticks_with_evidence_and_unchecks_without() {
    let Ok(Command::Promotion(PromotionCommand::Check(tick))) = parse(&[
        "promotion",
        "check",
        "p-1",
        "on_call_aware",
        "--evidence",
        "https://chat.example/on-call/123",
    ]) else {
        panic!("check")
    };
    assert_eq!(tick.item, "on_call_aware");
    assert_eq!(
        serde_json::to_value(tick.mark()).unwrap(),
        serde_json::json!({"checked": true, "evidence": "https://chat.example/on-call/123"})
    );
    let Ok(Command::Promotion(PromotionCommand::Check(untick))) =
        parse(&["promotion", "check", "p-1", "on_call_aware", "--uncheck"])
    else {
        panic!("uncheck")
    };
    assert_eq!(
        serde_json::to_value(untick.mark()).unwrap(),
        serde_json::json!({"checked": false})
    );
    let (kind, _) = refusal(&[
        "promotion",
        "check",
        "p-1",
        "on_call_aware",
        "--uncheck",
        "--evidence",
        "x",
    ]);
    assert_eq!(kind, ErrorKind::ArgumentConflict);
    let (_, message) = refusal(&["promotion", "check", "p-1"]);
    assert!(message.contains("<ITEM>"), "{message}");
}

#[test]
fn rollback_needs_an_environment_and_a_reason() {
    let Ok(Command::Rollback(args)) = parse(&[
        "rollback",
        "deploy",
        "--env",
        "prod",
        "--to",
        "3",
        "--reason",
        "INC-42: 5xx after v4",
        "--cancel-running",
    ]) else {
        panic!("rollback")
    };
    assert_eq!(args.workflow, "deploy");
    assert_eq!(
        serde_json::to_value(args.ask()).unwrap(),
        serde_json::json!({
            "environment": "prod",
            "to_version": 3,
            "reason": "INC-42: 5xx after v4",
            "cancel_running": true,
        })
    );
    let Ok(Command::Rollback(plain)) =
        parse(&["rollback", "deploy", "--env", "prod", "--reason", "r"])
    else {
        panic!("rollback")
    };
    let body = serde_json::to_value(plain.ask()).unwrap();
    assert!(body.get("to_version").is_none(), "{body}");
    assert_eq!(body["cancel_running"], false);
    let cases: &[(&[&str], &str)] = &[
        (&["rollback", "deploy", "--env", "prod"], "--reason <TEXT>"),
        (&["rollback", "deploy", "--reason", "r"], "--env <ENV>"),
        (
            &[
                "rollback", "deploy", "--env", "prod", "--reason", "r", "--to", "0",
            ],
            "0 is not in 1..",
        ),
    ];
    for (args, says) in cases {
        let (_, message) = refusal(args);
        assert!(message.contains(says), "{args:?}: {message}");
    }
}

#[test]
fn deployments_at_is_an_rfc3339_instant_sent_in_utc() {
    let cases: &[(&[&str], &str)] = &[
        (&["deployments"], "/api/v1/deployments"),
        (
            &["deployments", "deploy", "--env", "prod"],
            "/api/v1/deployments?workflow=deploy&environment=prod",
        ),
        (
            &["deployments", "--at", "2026-12-05T04:00:00+01:00"],
            "/api/v1/deployments?at=2026-12-05T03%3A00%3A00Z",
        ),
        (
            &["deployments", "deploy", "--at", "2026-12-05T03:00:00.250Z"],
            "/api/v1/deployments?workflow=deploy&at=2026-12-05T03%3A00%3A00.250Z",
        ),
    ];
    for (args, path) in cases {
        let Ok(Command::Deployments(list)) = parse(args) else {
            panic!("{args:?}: a deployments command")
        };
        assert_eq!(list.path(), *path, "{args:?}");
    }
    for bad in ["yesterday", "2026-12-05", "2026-12-05 03:00"] {
        let (kind, message) = refusal(&["deployments", "--at", bad]);
        assert_eq!(kind, ErrorKind::ValueValidation, "{bad}");
        assert!(message.contains("2026-12-05T03:00:00Z"), "{bad}: {message}");
    }
}

#[test]
fn the_command_line_definition_is_consistent() {
    // clap checks its own definition (names, conflicts) only when asked or
    // at parse time in debug builds; ask, for every subcommand.
    <Cli as clap::CommandFactory>::command().debug_assert();
}
