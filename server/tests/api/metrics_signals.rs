//! What the metrics say about the queue, the audit log and runs that end
//! without a step ending them: a step held back T seconds shows a queue
//! wait of at least T while the queue depth equals the SQL count; every
//! audit record is counted by outcome and a tampered chain by the gap
//! counter (from the API's verification and `serve`'s own); runs
//! cancelled while queued, timed out with nothing running or reaped after
//! their worker died are counted once each.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::metrics::{sample, scrape};
use crate::on_both_backends;
use serde_json::json;
use std::time::{Duration, Instant};

on_both_backends!(
    a_step_held_back_shows_its_queue_wait,
    audit_records_and_chain_breaks_are_counted,
    runs_that_end_without_a_step_are_counted_once,
    a_run_reaped_after_its_worker_died_is_counted_once,
);

/// How long the step is held back.
const HELD: Duration = Duration::from_secs(2);

async fn a_step_held_back_shows_its_queue_wait(backend: Backend) {
    // No worker in the server: the step stays ready until one connects.
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    )
    .await;
    let token = app.worker_token("late").await;
    let id = app
        .apply_and_run(
            "name: held\nsteps:\n  - id: s\n    run: \"true\"\n",
            json!({}),
        )
        .await;
    // The step was ready before the trigger answered: held from here on,
    // it waits at least HELD.
    let queued_at = Instant::now();
    // Held back until HELD has passed, the queue depth equal to the SQL
    // count at every look.
    let mut looks = 0;
    while queued_at.elapsed() < HELD || looks == 0 {
        let text = scrape(&app).await;
        let ready = app
            .count_sql("SELECT COUNT(*) FROM run_steps WHERE status = 'queued'")
            .await;
        assert_eq!(ready, 1);
        assert_eq!(
            sample(&text, "gantry_queue_depth{state=\"ready\"}"),
            Some(ready as f64),
            "{text}"
        );
        assert!(
            !text.contains("gantry_step_queue_wait_seconds_count"),
            "nothing claimed yet: {text}"
        );
        looks += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _worker = app.spawn_worker_process(&token, "late", &[]);
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "gantry_step_queue_wait_seconds_count{kind=\"shell\"}"
        ),
        Some(1.0),
        "{text}"
    );
    let waited = sample(&text, "gantry_step_queue_wait_seconds_sum{kind=\"shell\"}").unwrap();
    assert!(
        waited >= HELD.as_secs_f64() && waited < 60.0,
        "held back {HELD:?}, waited {waited}"
    );
    // Buckets from 10 ms: none of it came in under a second.
    assert_eq!(
        sample(
            &text,
            "gantry_step_queue_wait_seconds_bucket{kind=\"shell\",le=\"1\"}"
        ),
        Some(0.0),
        "{text}"
    );
    assert!(
        text.contains("gantry_step_queue_wait_seconds_bucket{kind=\"shell\",le=\"0.01\"}"),
        "{text}"
    );
    assert!(
        text.contains("gantry_step_queue_wait_seconds_bucket{kind=\"shell\",le=\"3600\"}"),
        "{text}"
    );
    // Claimed: the queue is empty, as the database says.
    let ready = app
        .count_sql("SELECT COUNT(*) FROM run_steps WHERE status = 'queued'")
        .await;
    assert_eq!(ready, 0);
    assert_eq!(
        sample(&text, "gantry_queue_depth{state=\"ready\"}"),
        Some(0.0),
        "{text}"
    );
}

/// `gantry_audit_events_total{outcome}` for each outcome, as the database
/// counts them.
async fn audit_counts_match(app: &TestApp) {
    let text = scrape(app).await;
    for outcome in ["succeeded", "denied", "failed"] {
        let stored = app
            .count_sql(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE outcome = '{outcome}'"
            ))
            .await;
        let counted = sample(
            &text,
            &format!("gantry_audit_events_total{{outcome=\"{outcome}\"}}"),
        )
        .unwrap_or(0.0);
        assert_eq!(counted, stored as f64, "{outcome}: {text}");
    }
}

async fn audit_records_and_chain_breaks_are_counted(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--metrics-bind",
            "127.0.0.1:0",
            "--audit-verify-interval",
            "0",
        ],
    )
    .await;
    let id = app
        .apply_and_run(
            "name: audited\nsteps:\n  - id: s\n    run: \"true\"\n",
            json!({}),
        )
        .await;
    app.finished_run(&id).await;
    // A refusal and a rejected credential: records with outcome denied.
    let viewer = app.person("viewer").await;
    let (status, _) = viewer
        .post("/workflows/audited/runs", json!({"environment": "dev"}))
        .await;
    assert_eq!(status, 403);
    let bad = reqwest::Client::new()
        .get(app.url("/api/v1/runs"))
        .bearer_auth("gantry_not-a-real-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    audit_counts_match(&app).await;
    let text = scrape(&app).await;
    assert!(
        sample(&text, "gantry_audit_events_total{outcome=\"denied\"}").unwrap() >= 2.0,
        "{text}"
    );
    // An intact chain: verifying it counts nothing (the counter is served
    // at 0 from the start, so alerts see the first increase).
    let (status, verified) = app.api_get("/audit/verify").await;
    assert_eq!(status, 200, "{verified}");
    assert!(verified["problem"].is_null(), "{verified}");
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gantry_audit_chain_gap_total"),
        Some(0.0),
        "{text}"
    );

    // Someone with database access edits a record.
    app.exec_sql("UPDATE audit_log SET actor_name = 'somebody else' WHERE seq = 2")
        .await;
    let (_, verified) = app.api_get("/audit/verify").await;
    assert_eq!(verified["problem"]["seq"], 2, "{verified}");
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gantry_audit_chain_gap_total"),
        Some(1.0),
        "{text}"
    );

    // A server verifying on its own every second finds it too (both
    // servers share this test process's registry).
    let _watching = app
        .spawn_beside(&["--dev", "--audit-verify-interval", "1s"])
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(&app).await;
        if sample(&text, "gantry_audit_chain_gap_total").is_some_and(|n| n >= 2.0) {
            break;
        }
        assert!(Instant::now() < deadline, "never verified: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every record both servers wrote was counted once.
    audit_counts_match(&app).await;
}

async fn runs_that_end_without_a_step_are_counted_once(backend: Backend) {
    // No worker: nothing ever runs, so no step's end finishes these runs.
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    )
    .await;
    let (status, body) = app
        .apply("name: lane\nconcurrency: 1\nsteps:\n  - id: s\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    // The first run started (its step waits in the queue); the second
    // waits for the lane.
    let first = app.trigger("lane", json!({})).await;
    let second = app.trigger("lane", json!({})).await;
    let (_, waiting) = app.api_get(&format!("/runs/{second}")).await;
    assert_eq!(waiting["status"], "queued", "{waiting}");
    for id in [&second, &first] {
        let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "cancelled", "{body}");
        // Cancelling again changes nothing, and counts nothing.
        let (status, _) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
        assert_eq!(status, 409);
    }
    // A run past its deadline with nothing running times out.
    let (status, body) = app
        .apply("name: late\ntimeout: 1s\nsteps:\n  - id: s\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    let late = app.trigger("late", json!({})).await;
    let run = app.finished_run(&late).await;
    assert_eq!(run["status"], "timed_out", "{run:#}");

    let text = scrape(&app).await;
    let series = |workflow: &str, outcome: &str| {
        format!("{{workflow=\"{workflow}\",environment=\"dev\",outcome=\"{outcome}\"}}")
    };
    assert_eq!(
        sample(
            &text,
            &format!("gantry_runs_finished_total{}", series("lane", "cancelled"))
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "gantry_run_duration_seconds_count{}",
                series("lane", "cancelled")
            )
        ),
        Some(2.0),
        "every finished run has a duration: {text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("gantry_runs_finished_total{}", series("late", "timed_out"))
        ),
        Some(1.0),
        "{text}"
    );
    let duration = sample(
        &text,
        &format!(
            "gantry_run_duration_seconds_sum{}",
            series("late", "timed_out")
        ),
    )
    .unwrap();
    assert!(duration >= 1.0, "ran into its 1 s deadline: {duration}");
}

async fn a_run_reaped_after_its_worker_died_is_counted_once(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    )
    .await;
    let token = app.worker_token("doomed").await;
    let mut worker = app.spawn_worker_process(&token, "doomed", &["--worker-lease", "2s"]);
    let id = app
        .apply_and_run(
            "name: orphaned\nsteps:\n  - id: s\n    run: sleep 60\n",
            json!({}),
        )
        .await;
    app.wait_run(&id, |r| step_statuses(r)["s"] == "running")
        .await;
    worker.start_kill().unwrap();
    worker.wait().await.unwrap();
    // Cancelled while its step runs: the cancel finishes nothing (the
    // step must stop first), and no report ever comes; reaping the lost
    // attempt finishes the run.
    let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "running", "{body}");
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(run["steps"][0]["attempts"][0]["status"], "lost", "{run:#}");
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "gantry_runs_finished_total{workflow=\"orphaned\",environment=\"dev\",outcome=\"cancelled\"}"
        ),
        Some(1.0),
        "{text}"
    );
}
