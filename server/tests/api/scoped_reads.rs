//! Reads are environment-scoped: someone with a role in dev only sees dev's
//! runs, logs and approval requests; prod's are left out of lists and
//! refused when asked for by id.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::collections::BTreeMap;

on_both_backends!(workflow_summaries_show_runs_only_from_visible_environments);

const SPEC: &str = "name: deploy\nsteps:\n  - id: go\n    run: echo hi\n";
const GATED: &str =
    "name: gated\napproval: { required_in: [dev, prod] }\nsteps:\n  - id: go\n    run: echo hi\n";

/// Both workflows active in every environment (no route promotes yet).
async fn everywhere(app: &TestApp) {
    for spec in [SPEC, GATED] {
        assert_eq!(app.apply(spec).await.0, 201);
    }
    for env in ["stage", "prod"] {
        app.exec_sql(&format!(
            "INSERT INTO workflow_environments
                 (workflow_id, environment, version, schedule_enabled, next_fire_at, activated_at, activated_by)
             SELECT workflow_id, '{env}', version, schedule_enabled, next_fire_at, activated_at, activated_by
             FROM workflow_environments WHERE environment = 'dev'"
        ))
        .await;
    }
}

async fn as_token(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn environments(list: &Value) -> Vec<String> {
    let mut envs: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["environment"].as_str().unwrap().to_owned())
        .collect();
    envs.sort();
    envs.dedup();
    envs
}

#[tokio::test]
async fn a_dev_viewer_sees_dev_only() {
    let app = TestApp::spawn_with(&["--worker-slots", "0"]).await;
    everywhere(&app).await;
    let mut runs = Vec::new();
    for env in ["dev", "prod"] {
        let (status, run) = app
            .api_post("/workflows/deploy/runs", json!({"environment": env}))
            .await;
        assert_eq!(status, 201, "{run}");
        runs.push(run["id"].as_str().unwrap().to_owned());
        let (status, asked) = app
            .api_post("/workflows/gated/runs", json!({"environment": env}))
            .await;
        assert_eq!(status, 202, "{asked}");
    }
    let (_, made) = app
        .api_post(
            "/tokens",
            json!({"name": "dev-eyes", "roles": ["viewer@dev"]}),
        )
        .await;
    let token = made["secret"].as_str().unwrap().to_owned();

    let (status, page) = as_token(&app, &token, "/runs").await;
    assert_eq!(status, 200);
    assert_eq!(environments(&page["runs"]), ["dev"]);
    let (status, _) = as_token(&app, &token, "/runs?environment=prod").await;
    assert_eq!(status, 403);
    let (status, approvals) = as_token(&app, &token, "/approvals").await;
    assert_eq!(status, 200);
    assert_eq!(environments(&approvals), ["dev"]);
    let (_, workflow) = as_token(&app, &token, "/workflows/deploy").await;
    assert_eq!(environments(&workflow["recent_runs"]), ["dev"]);

    let (dev_run, prod_run) = (&runs[0], &runs[1]);
    assert_eq!(
        as_token(&app, &token, &format!("/runs/{dev_run}")).await.0,
        200
    );
    let (status, body) = as_token(&app, &token, &format!("/runs/{prod_run}")).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("prod"),
        "{body}"
    );
    assert_eq!(
        as_token(&app, &token, &format!("/runs/{prod_run}/logs"))
            .await
            .0,
        403
    );
    // Someone with a role everywhere still sees everything.
    let (_, all) = app.api_get("/runs").await;
    assert_eq!(environments(&all["runs"]), ["dev", "prod"]);
}

#[tokio::test]
async fn the_runs_page_offers_only_the_environments_one_may_see() {
    let app = TestApp::spawn().await;
    app.exec_sql(
        "UPDATE role_grants SET environment = 'dev'
         WHERE user_id = (SELECT id FROM users WHERE username = 'viewer')",
    )
    .await;
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/runs").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<option value="dev""#), "{html}");
    assert!(!html.contains(r#"<option value="prod""#), "{html}");
    let (status, html) = app.get_html("/runs?environment=prod").await;
    assert_eq!(status, 403);
    assert!(html.contains("needs a role there"), "{html}");
}

/// `last_run` and `recent_runs` ride along with workflows, so they must be
/// scoped like the runs list: a dev-only reader never learns a prod run's
/// id, environment or who started it, through the API or the pages.
async fn workflow_summaries_show_runs_only_from_visible_environments(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    everywhere(&app).await;
    let mut runs = BTreeMap::new();
    // prod's run is the newest, so it would be everyone's `last_run`.
    for env in ["dev", "prod"] {
        let (status, run) = app
            .api_post("/workflows/deploy/runs", json!({"environment": env}))
            .await;
        assert_eq!(status, 201, "{run}");
        runs.insert(env, run["id"].as_str().unwrap().to_owned());
    }
    let (dev_run, prod_run) = (&runs["dev"], &runs["prod"]);
    let (_, made) = app
        .api_post(
            "/tokens",
            json!({"name": "dev-eyes", "roles": ["viewer@dev"]}),
        )
        .await;
    let token = made["secret"].as_str().unwrap().to_owned();

    let (status, list) = as_token(&app, &token, "/workflows").await;
    assert_eq!(status, 200, "{list}");
    let deploy = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "deploy")
        .unwrap();
    assert_eq!(deploy["last_run"]["id"], dev_run.as_str(), "{deploy}");
    assert!(!list.to_string().contains(prod_run.as_str()), "{list}");
    let (status, detail) = as_token(&app, &token, "/workflows/deploy").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["last_run"]["id"], dev_run.as_str(), "{detail}");
    assert_eq!(environments(&detail["recent_runs"]), ["dev"]);
    assert!(!detail.to_string().contains(prod_run.as_str()), "{detail}");
    let (_, gated) = as_token(&app, &token, "/workflows/gated").await;
    assert!(gated["last_run"].is_null(), "never run in dev: {gated}");

    // Someone with a role everywhere sees prod's run as the last one.
    let (_, all) = app.api_get("/workflows/deploy").await;
    assert_eq!(all["last_run"]["id"], prod_run.as_str(), "{all}");

    // The pages read through the same port: a person with a role in dev only.
    app.exec_sql(
        "UPDATE role_grants SET environment = 'dev'
         WHERE user_id = (SELECT id FROM users WHERE username = 'viewer')",
    )
    .await;
    app.sign_in_as("viewer").await;
    for page in ["/workflows", "/workflows/deploy", "/"] {
        let (status, html) = app.get_html(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(!html.contains(prod_run.as_str()), "{page} shows prod's run");
    }
    let (_, html) = app.get_html("/workflows").await;
    assert!(html.contains(dev_run.as_str()), "{html}");
}
