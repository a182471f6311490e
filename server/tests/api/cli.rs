//! The `gantry` binary as an operator meets it.

use std::process::Command;

fn gantry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env_remove("GANTRY_DEV")
        .env_remove("GANTRY_BIND")
        .env_remove("GANTRY_DATABASE_URL")
        .output()
        .expect("run gantry")
}

#[test]
fn help_lists_serve_and_its_environment_variables() {
    let out = gantry(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
    let out = gantry(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "GANTRY_BIND",
        "GANTRY_DATABASE_URL",
        "GANTRY_DEV",
        "GANTRY_ENVIRONMENTS",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[test]
fn dev_mode_on_a_public_address_stops_with_one_clear_line() {
    let out = gantry(&["serve", "--dev", "--bind", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn a_bad_database_url_is_refused_without_echoing_secrets() {
    let out = gantry(&["serve", "--database-url", "mysql://root:hunter2@db/x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("GANTRY_DATABASE_URL") && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn an_unreachable_database_stops_start_up_with_one_line() {
    let out = gantry(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        "postgres://gantry:hunter2@127.0.0.1:1/gantry",
        "--log",
        "error",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// The promotion commands refuse a malformed command line with exit 2 and a
/// message naming the flag, before they call anyone (no server runs here).
#[test]
fn promotion_commands_refuse_bad_arguments_before_any_call() {
    // (arguments, what the message must name)
    let cases: &[(&[&str], &str)] = &[
        (&["promote", "deploy", "--reason", "r"], "--to <ENV>"),
        (&["promote", "deploy", "--to", "prod"], "--reason <TEXT>"),
        (
            &["promote", "deploy", "--to", "PROD", "--reason", "r"],
            "environment name \"PROD\" is invalid",
        ),
        (
            &[
                "promote",
                "deploy",
                "--to",
                "prod",
                "--reason",
                "r",
                "--wait",
                "--timeout",
                "forever",
            ],
            "write it like 30s, 10m or 2h",
        ),
        (&["rollback", "deploy", "--env", "prod"], "--reason <TEXT>"),
        (
            &[
                "rollback", "deploy", "--env", "prod", "--reason", "r", "--to", "0",
            ],
            "--to <N>",
        ),
        (&["promotions", "--state", "open"], "use one of pending"),
        (&["promotion", "approve"], "<ID>"),
        (
            &[
                "promotion",
                "check",
                "p-1",
                "item",
                "--uncheck",
                "--evidence",
                "x",
            ],
            "cannot be used with",
        ),
        (
            &["deployments", "--at", "yesterday"],
            "2026-12-05T03:00:00Z",
        ),
    ];
    for (args, names) in cases {
        let mut argv = args.to_vec();
        // Somewhere nothing listens: a command that got as far as calling
        // would fail with exit 1 instead.
        argv.extend(["--url", "http://127.0.0.1:9"]);
        let out = gantry(&argv);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn promotion_commands_say_where_they_could_not_reach() {
    let out = gantry(&["deployments", "deploy", "--url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach Gantry at http://127.0.0.1:9") && err.contains("GANTRY_URL"),
        "{err}"
    );
}

/// Without a valid token every promotion command stops at authentication
/// (exit 1, pointing at GANTRY_TOKEN), whatever the port would say, and
/// never echoes the token.
#[tokio::test]
async fn promotion_commands_without_a_valid_token_are_turned_away() {
    let app = crate::helpers::TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let url = app.url("");
    let commands: &[&[&str]] = &[
        &["promote", "deploy", "--to", "stage", "--reason", "r"],
        &["promotions", "--pending"],
        &["promotion", "show", "p-1"],
        &["promotion", "approve", "p-1"],
        &["promotion", "check", "p-1", "on_call_aware"],
        &["rollback", "deploy", "--env", "prod", "--reason", "r"],
        &["deployments", "--at", "2026-12-05T03:00:00Z"],
    ];
    for token in [None, Some("gantry_not-a-real-token-0123456789abcdef")] {
        for args in commands {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"));
            cmd.args(*args)
                .env("GANTRY_URL", &url)
                .env_remove("GANTRY_TOKEN");
            if let Some(t) = token {
                cmd.env("GANTRY_TOKEN", t);
            }
            let out = cmd.output().await.expect("run gantry");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} {token:?}: {err}");
            assert!(err.contains("set GANTRY_TOKEN"), "{args:?}: {err}");
            assert!(!err.contains("not-a-real-token"), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
}
