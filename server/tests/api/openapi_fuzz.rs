//! The API fuzzed: PyPI's schemathesis (`make tools-schemathesis`; `make
//! test` points `SCHEMATHESIS` at it) runs its checks, in all four phases
//! (examples, coverage, fuzzing, stateful), against the live server's
//! OpenAPI document with the bootstrap token and the default lockout
//! settings. It fails on any 5xx, any answer whose status, headers or body
//! the document doesn't describe, a schema-violating request accepted, or
//! bad credentials answered other than 401/403. Rate limits are off so that
//! a bounded run reaches every operation (they have their own tests,
//! `rate_limits.rs`). Bounded and repeatable: a fixed seed and a fixed
//! number of examples per operation; `make fuzz-long` runs more
//! (docs/testing.md). Two things are left out, each for a reason:
//! - `positive_data_acceptance` (a schema-valid request refused): the
//!   rules that span fields, the clock or stored data (an end after its
//!   start, a rule's fields by its kind, a webhook's workflow existing)
//!   can't be said in JSON Schema, so such requests rightly get 400/422;
//!   docs/testing.md lists them.
//! - revoking a token: the stateful phase finds the bootstrap token in
//!   `GET /tokens` and revokes it, and every later request is a 401.
//!   Revocation has its own tests (`tokens.rs`).
//!
//! One worker: with two, the venv's Python (3.11) can trip over its own
//! `ast.parse` race (CPython gh-106905) inside Hypothesis.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use std::path::PathBuf;

on_both_backends!(schemathesis_finds_nothing_wrong);

fn schemathesis() -> PathBuf {
    crate::helpers::venv_tool("SCHEMATHESIS", "schemathesis-venv/bin/st")
}

async fn schemathesis_finds_nothing_wrong(backend: Backend) {
    let bin = schemathesis();
    assert!(
        bin.exists(),
        "{} is missing: run `make tools-schemathesis`",
        bin.display()
    );
    let app = TestApp::spawn_on(backend, &["--rate-limit", "read=off,write=off,trigger=off"]).await;
    // `make fuzz-long` asks for more examples and a seed of its own.
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "10".into());
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    let reports = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(&bin)
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args(["--exclude-operation-id", "revoke_token"])
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args([
            "--seed",
            &seed,
            "--max-examples",
            &examples,
            "--workers",
            "1",
        ])
        .args(["--generation-database", "none", "--no-color"])
        .arg("--report-dir")
        .arg(reports.path())
        .current_dir(reports.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    // The end of the report has the summary and, above it, each failure
    // with a curl line that reproduces it.
    let tail: String = {
        let start = report.len().saturating_sub(30_000);
        let start = (start..report.len())
            .find(|i| report.is_char_boundary(*i))
            .unwrap_or(report.len());
        report[start..].to_owned()
    };
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{tail}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // It really ran: every operation was tested and nothing failed.
    assert!(report.contains("Tested: "), "{tail}");
    assert!(!report.contains("Selected: 0/"), "{tail}");
    assert!(
        !report.contains("❌") && !report.contains("🚫"),
        "schemathesis reported failures or errors:\n{tail}"
    );
}
