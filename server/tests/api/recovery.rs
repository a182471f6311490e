//! Crash recovery with real processes: a `gantry worker` killed with SIGKILL
//! mid-step loses its lease, the step is retried as a new attempt by another
//! worker process, and a late report from the dead worker changes nothing.
//! Also: the scheduler fires each due slot exactly once, with at most one
//! catch-up run after downtime, even with two schedulers racing.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use gantry_core::run::AttemptEnd;
use gantry_server::engine::Scheduler;
use gantry_server::runtime::clock::SystemClock;
use gantry_server::store::queue::AttemptResult;
use gantry_server::store::{self, DatabaseUrl};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::process::Child;

on_both_backends!(
    a_killed_worker_loses_its_lease_and_the_step_runs_again,
    catch_up_after_downtime_fires_once,
    racing_schedulers_fire_a_slot_exactly_once,
    a_disabled_schedule_never_fires,
);

/// A remote worker process (execution API, worker token) with a short lease.
fn spawn_worker(app: &TestApp, token: &str, name: &str) -> Child {
    app.spawn_worker_process(token, name, &["--worker-lease", "2s"])
}

async fn a_killed_worker_loses_its_lease_and_the_step_runs_again(backend: Backend) {
    // The server runs the scheduler (which reaps leases) but no worker.
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let token = app.worker_token("workers").await;
    let mut first = spawn_worker(&app, &token, "w1");
    let id = app
        .apply_and_run(
            r#"
name: survives
steps:
  - id: work
    run: sleep 2; echo finished
"#,
            json!({}),
        )
        .await;
    let running = app
        .wait_run(&id, |r| step_statuses(r)["work"] == "running")
        .await;
    let dead_worker = running["steps"][0]["attempts"][0]["worker"]
        .as_str()
        .unwrap()
        .to_owned();
    first.start_kill().unwrap();
    first.wait().await.unwrap();

    let _second = spawn_worker(&app, &token, "w2");
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let attempts = run["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    assert_eq!(attempts[0]["status"], "lost");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("lease expired")
    );
    assert_eq!(attempts[1]["status"], "succeeded");
    assert_ne!(attempts[1]["worker"], dead_worker);

    // The dead worker's late report is refused and changes nothing.
    let url = DatabaseUrl::parse(&app.db_url).unwrap();
    let store = store::connect(&url, 2).await.unwrap();
    let settled = store
        .finish_attempt(
            AttemptResult {
                run_id: id.clone(),
                step_id: "work".into(),
                attempt: 1,
                worker: dead_worker,
                end: AttemptEnd::Failed,
                exit_code: Some(1),
                error: Some("late".into()),
                outputs: BTreeMap::new(),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert!(!settled.accepted);
    let (_, after) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["steps"][0]["attempts"], run["steps"][0]["attempts"]);
}

const SCHEDULED: &str = r#"
name: nightly
schedule: "0 3 * * *"
inputs:
  target: { type: string, default: primary }
steps:
  - id: work
    run: echo "${{ inputs.target }}"
"#;

/// Pretends the server was down since `days` ago.
async fn rewind_schedule(app: &TestApp, days: i64) {
    let past = (chrono::Utc::now() - chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    app.exec_sql(&format!(
        "UPDATE workflow_environments SET next_fire_at = '{past}'"
    ))
    .await;
}

async fn scheduled_runs(app: &TestApp) -> Vec<serde_json::Value> {
    let (_, page) = app.api_get("/runs?workflow=nightly").await;
    page["runs"].as_array().unwrap().clone()
}

async fn catch_up_after_downtime_fires_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, _) = app.apply(SCHEDULED).await;
    assert_eq!(status, 201);
    let (_, wf) = app.api_get("/workflows/nightly").await;
    let next: chrono::DateTime<chrono::Utc> = wf["active"][0]["next_fire_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > chrono::Utc::now());
    assert!(scheduled_runs(&app).await.is_empty());

    rewind_schedule(&app, 3).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let runs = loop {
        let runs = scheduled_runs(&app).await;
        if !runs.is_empty() {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler never fired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // Three missed slots, one catch-up run; the next slot is in the future,
    // so nothing else can fire.
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(runs[0]["triggered_by"], "scheduler");
    let (_, wf) = app.api_get("/workflows/nightly").await;
    let next: chrono::DateTime<chrono::Utc> = wf["active"][0]["next_fire_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > chrono::Utc::now(), "moved past now: {next}");
    let run = app.finished_run(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["inputs"], json!({ "target": "primary" }));
}

async fn racing_schedulers_fire_a_slot_exactly_once(backend: Backend) {
    // No in-process scheduler interference: the two below are the only ones
    // that see the rewound slot first, but the server's own may race too,
    // which only strengthens the test.
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    app.apply(SCHEDULED).await;
    rewind_schedule(&app, 1).await;
    let url = DatabaseUrl::parse(&app.db_url).unwrap();
    let a = Scheduler::new(
        store::connect(&url, 2).await.unwrap(),
        Arc::new(SystemClock),
    );
    let b = Scheduler::new(
        store::connect(&url, 2).await.unwrap(),
        Arc::new(SystemClock),
    );
    tokio::join!(a.once(), b.once(), a.once(), b.once());
    assert_eq!(scheduled_runs(&app).await.len(), 1);
    assert_eq!(
        app.count_sql("SELECT count(*) FROM runs WHERE trigger_kind = 'schedule'")
            .await,
        1
    );
}

async fn a_disabled_schedule_never_fires(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    app.apply(SCHEDULED).await;
    let off = json!({ "environment": "dev", "enabled": false });
    let (status, lane) = app
        .api(
            reqwest::Method::PUT,
            "/workflows/nightly/schedule",
            Some(off),
        )
        .await;
    assert_eq!(status, 200, "{lane}");
    assert_eq!(lane["schedule_enabled"], false);
    assert!(lane["next_fire_at"].is_null());
    // Even with a fire time in the past, nothing fires while it is off.
    rewind_schedule(&app, 1).await;
    let url = DatabaseUrl::parse(&app.db_url).unwrap();
    let scheduler = Scheduler::new(
        store::connect(&url, 2).await.unwrap(),
        Arc::new(SystemClock),
    );
    scheduler.once().await;
    assert!(scheduled_runs(&app).await.is_empty());

    // Back on: the next slot is in the future, no catch-up for the pause.
    let on = json!({ "environment": "dev", "enabled": true });
    let (status, lane) = app
        .api(
            reqwest::Method::PUT,
            "/workflows/nightly/schedule",
            Some(on),
        )
        .await;
    assert_eq!(status, 200, "{lane}");
    assert_eq!(lane["schedule_enabled"], true);
    let next: chrono::DateTime<chrono::Utc> =
        lane["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert!(next > chrono::Utc::now());
    scheduler.once().await;
    assert!(scheduled_runs(&app).await.is_empty());

    // Bad requests say what is wrong.
    let cases = [
        (
            "/workflows/nightly/schedule",
            json!({ "environment": "prod", "enabled": true }),
            409,
            "no active version in prod",
        ),
        (
            "/workflows/ghost/schedule",
            json!({ "environment": "dev", "enabled": true }),
            404,
            "not found",
        ),
        (
            "/workflows/nightly/schedule",
            json!({ "environment": "qa", "enabled": true }),
            400,
            "unknown environment",
        ),
        (
            "/workflows/nightly/schedule",
            json!({ "environment": "dev" }),
            422,
            "enabled",
        ),
    ];
    for (path, body, status, fragment) in cases {
        let (got, answer) = app
            .api(reqwest::Method::PUT, path, Some(body.clone()))
            .await;
        assert_eq!(got, status, "{path} {body} -> {answer}");
        assert!(
            answer.to_string().contains(fragment),
            "{path} {body} -> {answer}"
        );
    }
    app.apply("name: plain\nsteps:\n  - id: a\n    run: 'true'\n")
        .await;
    let (got, answer) = app
        .api(
            reqwest::Method::PUT,
            "/workflows/plain/schedule",
            Some(json!({ "environment": "dev", "enabled": true })),
        )
        .await;
    assert_eq!(got, 409, "{answer}");
    assert!(answer.to_string().contains("has no schedule"), "{answer}");
}
