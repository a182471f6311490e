//! RFC 7643/7644 compliance: PyPI's scim2-tester (through scim2-cli) runs
//! its checks against the live server with a SCIM token, and every one must
//! pass. `make tools-scim` installs it; `make test` points `SCIM2` at it.

use crate::helpers::Backend;
use crate::on_both_backends;
use crate::scim::scim_app;
use std::path::PathBuf;

on_both_backends!(scim2_tester_passes_every_check);

fn scim2() -> PathBuf {
    crate::helpers::venv_tool("SCIM2", "scim-venv/bin/scim2")
}

async fn scim2_tester_passes_every_check(backend: Backend) {
    let bin = scim2();
    assert!(
        bin.exists(),
        "{} is missing: run `make tools-scim`",
        bin.display()
    );
    let (app, token) = scim_app(backend, &[]).await;
    let out = tokio::process::Command::new(&bin)
        .args(["--url", &app.url("/scim/v2"), "test", "--verbose"])
        // The token travels in the environment, not on the command line.
        .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("run scim2");
    let report = String::from_utf8_lossy(&out.stdout);
    let failed: Vec<&str> = report
        .lines()
        .filter(|l| {
            !l.starts_with("SUCCESS") && !l.starts_with("  ") && !l.starts_with("Performing")
        })
        .collect();
    assert!(
        out.status.success() && failed.is_empty(),
        "scim2-tester failed ({}):\n{report}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let passed = report.lines().filter(|l| l.starts_with("SUCCESS")).count();
    assert!(passed >= 100, "only {passed} checks ran:\n{report}");
}
