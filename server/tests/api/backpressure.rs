//! Backpressure (docs/security.md, "Backpressure"): limits on unfinished
//! runs per workflow, per environment and for the server; triggers over
//! them get 429 (503 for the server's) with `Retry-After` and nothing is
//! made, exactly at the limit under concurrent triggers; a schedule's slot
//! over them is skipped, on the record as "missed: backpressure".

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};

/// With no worker, runs stay unfinished: the backlog only grows.
const NO_WORKER: [&str; 2] = ["--worker-slots", "0"];

async fn spawn(backend: Backend, limits: &[&str]) -> TestApp {
    let flags: Vec<&str> = NO_WORKER.iter().chain(limits).copied().collect();
    let app = TestApp::spawn_on(backend, &flags).await;
    for name in ["alpha", "beta", "gamma"] {
        let (status, body) = app
            .apply(&format!(
                "name: {name}\nsteps:\n  - id: work\n    run: \"true\"\n"
            ))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    app
}

async fn trigger(app: &TestApp, workflow: &str, environment: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/workflows/{workflow}/runs")))
        .bearer_auth(TOKEN)
        .json(&json!({"environment": environment}))
        .send()
        .await
        .unwrap()
}

async fn refusal(resp: reqwest::Response, status: u16, flag: &str) {
    assert_eq!(resp.status(), status);
    assert_eq!(resp.headers()["retry-after"], "5");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(flag) && message.contains("nothing was started"),
        "{message}"
    );
}

async fn runs(app: &TestApp, workflow: &str) -> i64 {
    app.count_sql(&format!(
        "SELECT count(*) FROM runs WHERE workflow_name = '{workflow}'"
    ))
    .await
}

async fn each_limit_refuses_the_run_that_would_break_it(backend: Backend) {
    let app = spawn(
        backend,
        &[
            "--max-unfinished-runs-per-workflow",
            "2",
            "--max-unfinished-runs-per-environment",
            "3",
            "--max-unfinished-runs",
            "4",
        ],
    )
    .await;
    for _ in 0..2 {
        assert_eq!(trigger(&app, "alpha", "dev").await.status(), 201);
    }
    refusal(
        trigger(&app, "alpha", "dev").await,
        429,
        "--max-unfinished-runs-per-workflow",
    )
    .await;
    assert_eq!(runs(&app, "alpha").await, 2);
    // Another lane has room of its own, until the environment is full.
    assert_eq!(trigger(&app, "beta", "dev").await.status(), 201);
    refusal(
        trigger(&app, "gamma", "dev").await,
        429,
        "--max-unfinished-runs-per-environment",
    )
    .await;
    // Another environment, until the server is.
    app.activate_dev_versions_in_stage().await;
    assert_eq!(trigger(&app, "gamma", "stage").await.status(), 201);
    refusal(
        trigger(&app, "beta", "stage").await,
        503,
        "--max-unfinished-runs",
    )
    .await;
    assert_eq!(runs(&app, "gamma").await, 1);

    // Finished runs free their place.
    let id: String = app
        .scalar_text("SELECT id FROM runs WHERE workflow_name = 'alpha' ORDER BY id LIMIT 1")
        .await;
    let (status, _) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(trigger(&app, "alpha", "dev").await.status(), 201);

    // Each refusal is on the record as a failed trigger.
    let failed = app
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'run.trigger' AND outcome = 'failed'",
        )
        .await;
    assert_eq!(failed, 3);
}

async fn concurrent_triggers_stop_exactly_at_the_workflows_limit(backend: Backend) {
    let app = spawn(backend, &["--max-unfinished-runs-per-workflow", "3"]).await;
    let sent: Vec<_> = (0..8)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/api/v1/workflows/alpha/runs"))
                .bearer_auth(TOKEN)
                .json(&json!({"environment": "dev"}));
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in sent {
        statuses.push(s.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429, 429, 429]);
    assert_eq!(runs(&app, "alpha").await, 3);
}

async fn a_schedule_over_the_limit_skips_its_slot_on_the_record(backend: Backend) {
    let app = spawn(backend, &["--max-unfinished-runs-per-workflow", "1"]).await;
    let (status, body) = app
        .apply("name: nightly\nschedule: \"0 3 * * *\"\nsteps:\n  - id: work\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(trigger(&app, "nightly", "dev").await.status(), 201);
    let slot = (chrono::Utc::now().date_naive() - chrono::Duration::days(1))
        .and_hms_opt(3, 0, 0)
        .unwrap()
        .and_utc();
    app.exec_sql(&format!(
        "UPDATE workflow_environments SET next_fire_at = '{}' WHERE environment = 'dev'
         AND workflow_id = (SELECT id FROM workflows WHERE name = 'nightly')",
        slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    ))
    .await;
    let skipped = "SELECT count(*) FROM audit_log WHERE action = 'schedule.skip'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.count_sql(skipped).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slot was never judged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let details = app
        .scalar_text("SELECT details FROM audit_log WHERE action = 'schedule.skip'")
        .await;
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["reason"], "missed: backpressure");
    assert_eq!(details["limit"], "workflow");
    // No run for the slot, and the schedule moved on to the next one.
    assert_eq!(runs(&app, "nightly").await, 1);
    let scheduled = app
        .count_sql("SELECT count(*) FROM runs WHERE trigger_kind = 'schedule'")
        .await;
    assert_eq!(scheduled, 0);
    let still_due = app
        .count_sql(&format!(
            "SELECT count(*) FROM workflow_environments WHERE next_fire_at = '{}'",
            slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        ))
        .await;
    assert_eq!(still_due, 0);
}

on_both_backends!(
    each_limit_refuses_the_run_that_would_break_it,
    concurrent_triggers_stop_exactly_at_the_workflows_limit,
    a_schedule_over_the_limit_skips_its_slot_on_the_record,
);
