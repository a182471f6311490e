//! The Overview, server-rendered: per environment the active workflows,
//! the last day's runs and their success ratio, what is failing and the
//! run approvals waiting; promotions and deployments in sections of their
//! own that may fail without taking the page down.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;

const HEALTHY: &str = "name: healthy\nsteps:\n  - id: ok\n    run: echo fine\n";
const BROKEN: &str = "name: broken\nsteps:\n  - id: boom\n    run: exit 3\n";
/// Runs in stage wait for a second person.
const GATED: &str =
    "name: gated\napproval: { required_in: [stage] }\nsteps:\n  - id: ok\n    run: echo hi\n";

on_both_backends!(overview_tells_on_call_what_runs_and_what_fails_in_each_environment);

async fn overview_tells_on_call_what_runs_and_what_fails_in_each_environment(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let healthy = app.apply_and_run(HEALTHY, json!({})).await;
    let broken = app.apply_and_run(BROKEN, json!({})).await;
    for id in [&healthy, &broken] {
        app.finished_run(id).await;
    }
    let second = app.trigger("healthy", json!({})).await;
    app.finished_run(&second).await;
    let (status, body) = app.apply(GATED).await;
    assert_eq!(status, 201, "{body}");
    // Active in stage too (arranged directly: promotion is another page).
    app.exec_sql(
        "INSERT INTO workflow_environments
             (workflow_id, environment, version, schedule_enabled, next_fire_at, activated_at, activated_by)
         SELECT workflow_id, 'stage', version, schedule_enabled, next_fire_at, activated_at, activated_by
         FROM workflow_environments WHERE environment = 'dev'",
    )
    .await;
    let (status, body) = app
        .api_post("/workflows/gated/runs", json!({"environment": "stage"}))
        .await;
    assert_eq!(status, 202, "an approval request: {body}");

    app.sign_in_as("operator").await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200, "{html}");
    let section = |env: &str| {
        let start = html
            .find(&format!(r#"data-environment="{env}""#))
            .unwrap_or_else(|| panic!("a section for {env}: {html}"));
        let end = html[start..].find("</section>").unwrap() + start;
        html[start..end].to_owned()
    };

    let dev = section("dev");
    for link in [
        r#"<a href="/workflows/broken?version=1">broken<!> v<!>1</a>"#,
        r#"<a href="/workflows/healthy?version=1">healthy<!> v<!>1</a>"#,
    ] {
        assert!(dev.contains(link), "{link} in {dev}");
    }
    assert!(dev.contains("3 runs, 67% of 3 finished succeeded"), "{dev}");
    assert!(dev.contains(r#"href="/runs?environment=dev""#), "{dev}");
    assert!(
        dev.contains(&format!(r#"<a href="/runs/{broken}""#)),
        "the failing run is linked: {dev}"
    );
    assert!(dev.contains(r#"data-status="failed""#), "{dev}");
    assert!(
        !dev.contains(r#"href="/workflows/healthy">healthy"#),
        "{dev}"
    );

    let stage = section("stage");
    assert!(stage.contains("gated<!> v<!>1"), "{stage}");
    assert!(stage.contains("No runs"), "{stage}");
    assert!(stage.contains("1<!> waiting for a decision"), "{stage}");

    let prod = section("prod");
    assert!(prod.contains("None"), "{prod}");

    // The pipeline sums each environment up.
    assert!(
        html.contains("3 active · 3 runs, 67% of 3 finished succeeded · 1 failing"),
        "{html}"
    );
    // The promotion sections are there whatever their data says, and the
    // page still answers 200 when they can't be read.
    assert!(html.contains(r#"<h2 id="pending-promotions-heading">Pending promotions</h2>"#));
    assert!(html.contains(r#"<h2 id="deployments-heading">Recent deployments</h2>"#));
    assert!(html.contains(r#"href="/promotions/ledger""#));
    assert!(!html.contains("Getting started"), "workflows are active");
}

#[tokio::test]
async fn a_fresh_server_still_shows_how_to_get_started() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Getting started"));
    assert!(html.contains("0 active · no runs"), "{html}");
}
