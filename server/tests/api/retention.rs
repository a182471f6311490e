//! Retention (docs/privacy.md): step logs and runs past their settings go
//! in audited batches, per environment, while the audit log and what is
//! still within its retention stay; admins may purge at once, `serve`
//! purges on its own.

use crate::audit::{all_records, text, verify_db};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use gantry_server::runtime::clock::ShiftedClock;
use serde_json::json;
use std::sync::Arc;

on_both_backends!(logs_then_runs_past_their_retention_are_purged_and_audited);

const HELLO: &str = "name: hello\nsteps:\n  - id: a\n    run: echo hello\n";

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

async fn logs_then_runs_past_their_retention_are_purged_and_audited(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(
        backend,
        &[
            "--dev",
            "--retain-runs",
            "dev=90d",
            "--retain-step-logs",
            "dev=30d",
            "--retain-notifications",
            "7d",
            "--retention-interval",
            "1h",
        ],
        clock.clone(),
    )
    .await;
    assert_eq!(app.apply(HELLO).await.0, 201);
    app.activate_dev_versions_in_stage().await;
    let mut dev = Vec::new();
    for _ in 0..3 {
        let id = app.trigger("hello", json!({})).await;
        assert_eq!(app.finished_run(&id).await["status"], "succeeded");
        dev.push(id);
    }
    let (status, staged) = app
        .api_post("/workflows/hello/runs", json!({"environment": "stage"}))
        .await;
    assert_eq!(status, 201, "{staged}");
    let stage_run = staged["id"].as_str().unwrap().to_owned();
    app.finished_run(&stage_run).await;
    let logs_of = |id: &str| format!("SELECT COUNT(*) FROM step_logs WHERE run_id = '{id}'");
    assert!(app.count_sql(&logs_of(&dev[0])).await > 0);

    // Nothing is due yet; the settings and the size are shown.
    let (status, view) = app.api_get("/retention").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["retention"]["runs"]["environments"]["dev"],
        90 * 86_400
    );
    assert_eq!(view["retention"]["notifications_seconds"], 7 * 86_400);
    assert!(view["database_bytes"].as_u64().unwrap() > 0, "{view}");
    assert_eq!(view["due"]["runs"], 0);
    assert_eq!(view["due"]["runs_logs_purged"], 0);

    // A month on: dev's step logs are due, its runs are not.
    clock.advance(days(31));
    let (_, view) = app.api_get("/retention").await;
    assert_eq!(view["due"]["runs_logs_purged"], 3, "{view}");
    assert_eq!(view["due"]["runs"], 0);
    let (status, purged) = app.api_post("/retention/purge", json!({})).await;
    assert_eq!(status, 200, "{purged}");
    assert_eq!(purged["runs_logs_purged"], 3, "{purged}");
    assert!(purged["log_lines"].as_u64().unwrap() >= 3, "{purged}");
    for id in &dev {
        assert_eq!(app.count_sql(&logs_of(id)).await, 0);
        let (status, run) = app.api_get(&format!("/runs/{id}")).await;
        assert_eq!(
            (status, &run["status"]),
            (200, &json!("succeeded")),
            "the run stays"
        );
    }
    assert!(
        app.count_sql(&logs_of(&stage_run)).await > 0,
        "stage keeps its logs"
    );
    let (_, again) = app.api_post("/retention/purge", json!({})).await;
    assert_eq!(
        again,
        json!({"runs": 0, "runs_logs_purged": 0, "log_lines": 0, "notifications": 0, "alert_transitions": 0})
    );

    // Three months on: dev's runs go; stage's (kept for ever) stay.
    clock.advance(days(60));
    let (_, purged) = app.api_post("/retention/purge", json!({})).await;
    assert_eq!(purged["runs"], 3, "{purged}");
    for id in &dev {
        assert_eq!(app.api_get(&format!("/runs/{id}")).await.0, 404);
        assert_eq!(
            app.count_sql(&format!(
                "SELECT COUNT(*) FROM run_steps WHERE run_id = '{id}'"
            ))
            .await,
            0
        );
    }
    assert_eq!(app.api_get(&format!("/runs/{stage_run}")).await.0, 200);

    // On the record, batch by batch, and the audit log itself untouched.
    let records = all_records(&app).await;
    let purges: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["action"] == "retention.purge" && r["outcome"] == "succeeded")
        .collect();
    assert_eq!(purges.len(), 2, "one batch each: {purges:?}");
    assert_eq!(purges[0]["environment"], "dev");
    assert_eq!(purges[0]["details"]["purged"]["runs_logs_purged"], 3);
    assert_eq!(purges[1]["details"]["purged"]["runs"], 3);
    let triggers = records
        .iter()
        .filter(|r| r["action"] == "run.trigger")
        .count();
    assert_eq!(triggers, 4, "the audit log is never purged");
    let verified = verify_db(&app).await;
    assert!(verified.status.success(), "{}", text(&verified));

    // Purging needs admin everywhere; auditors may look.
    let viewer = app.person("viewer").await;
    assert_eq!(viewer.post("/retention/purge", json!({})).await.0, 403);
    assert_eq!(viewer.get("/retention").await.0, 403);
    let auditor = app.person("auditor").await;
    assert_eq!(auditor.get("/retention").await.0, 200);
}

#[tokio::test]
async fn serve_purges_on_its_own_and_refuses_settings_that_would_lose_data() {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(
        Backend::Sqlite,
        &["--retain-step-logs", "1d", "--retention-interval", "1s"],
        clock.clone(),
    )
    .await;
    assert_eq!(app.apply(HELLO).await.0, 201);
    let id = app.trigger("hello", json!({})).await;
    app.finished_run(&id).await;
    clock.advance(days(2));
    let purged = "SELECT COUNT(*) FROM runs WHERE logs_purged_at IS NOT NULL";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.count_sql(purged).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the periodic purge never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let records = all_records(&app).await;
    let purge = records
        .iter()
        .find(|r| r["action"] == "retention.purge")
        .unwrap();
    assert_eq!(purge["actor"]["id"], "system:retention");

    for (flag, value, says) in [
        ("--retain-runs", "dev=30d", "90 days"),
        ("--retain-runs", "qa=400d", "qa is not an environment"),
        ("--retain-step-logs", "soon", "--retain-step-logs"),
    ] {
        let cli = <gantry_server::cli::Cli as clap::Parser>::try_parse_from([
            "gantry", "serve", flag, value,
        ])
        .unwrap();
        let gantry_server::cli::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        let err = args.into_config().unwrap_err();
        assert!(err.0.contains(says), "{flag} {value}: {}", err.0);
    }
}

#[tokio::test]
async fn the_overview_shows_admins_the_database_size_and_what_retention_frees() {
    let app = TestApp::spawn_with(&["--dev", "--retain-step-logs", "dev=2d"]).await;
    app.sign_in_as("admin").await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Database size"), "{html}");
    assert!(html.contains("data-database-bytes="), "{html}");
    assert!(html.contains("Nothing is past its retention"), "{html}");

    let viewer = TestApp::spawn_with(&["--dev"]).await;
    viewer.sign_in_as("viewer").await;
    let (status, html) = viewer.get_html("/").await;
    assert_eq!(status, 200);
    assert!(!html.contains("Database size"), "{html}");
    let denied = crate::audit::all_records(&viewer)
        .await
        .iter()
        .filter(|r| r["action"] == "view.denied")
        .count();
    assert_eq!(
        denied, 0,
        "a viewer's Overview asks for nothing it may not see"
    );
}
