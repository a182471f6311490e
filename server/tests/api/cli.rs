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
