//! Step-up: sensitive actions (running in the last environment, deciding
//! approvals, creating tokens) need a recent sign-in. A stale session is
//! made by rewriting the signed-in time stored in its session row (the
//! server has no test hook and the tests don't wait); everything else goes
//! through the API as a browser session or a token would.

use crate::helpers::TestApp;
use serde_json::{Value, json};

const SPEC: &str = "name: deploy\nsteps:\n  - id: go\n    run: echo hi\n";

/// The workflow, active in every environment (no route promotes yet).
async fn deploy_everywhere(app: &TestApp) {
    let (status, body) = app.apply(SPEC).await;
    assert_eq!(status, 201, "{body}");
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

/// A call as the signed-in browser session (no bearer token).
async fn as_session(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/v1{path}")));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn run_in(app: &TestApp, env: &str) -> (u16, Value) {
    as_session(
        app,
        reqwest::Method::POST,
        "/workflows/deploy/runs",
        Some(json!({"environment": env, "inputs": {}})),
    )
    .await
}

async fn create_token(app: &TestApp, name: &str) -> (u16, Value) {
    as_session(
        app,
        reqwest::Method::POST,
        "/tokens",
        Some(json!({"name": name, "roles": ["viewer@dev"]})),
    )
    .await
}

/// Moves every stored session's sign-in an hour into the past.
pub async fn age_sessions(app: &TestApp) {
    let pool = app.db().await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id_hash, data FROM sessions")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!rows.is_empty(), "a session is stored");
    for (id_hash, data) in rows {
        let mut data: Value = serde_json::from_str(&data).unwrap();
        if let Some(auth) = data.get_mut("auth") {
            auth["signed_in_at"] = json!(chrono::Utc::now().timestamp() - 3600);
        }
        sqlx::query("UPDATE sessions SET data = ? WHERE id_hash = ?")
            .bind(data.to_string())
            .bind(id_hash)
            .execute(&pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_stale_session_must_sign_in_again_for_sensitive_actions() {
    let app = TestApp::spawn().await;
    deploy_everywhere(&app).await;
    app.sign_in_as("admin").await;

    // A fresh sign-in does everything.
    assert_eq!(run_in(&app, "prod").await.0, 201);
    let (status, body) = create_token(&app, "fresh").await;
    assert_eq!(status, 201, "{body}");

    // An hour later (past the 15-minute default), only what isn't sensitive.
    age_sessions(&app).await;
    let (status, body) = run_in(&app, "prod").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "step_up_required", "{body}");
    assert_eq!(
        body["error"]["message"],
        "this needs a recent sign-in (within 15 min); sign in again to continue"
    );
    assert_eq!(run_in(&app, "dev").await.0, 201);
    assert_eq!(run_in(&app, "stage").await.0, 201);
    let (status, body) = create_token(&app, "stale").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "step_up_required");
    assert_eq!(
        as_session(&app, reqwest::Method::GET, "/tokens", None)
            .await
            .0,
        200
    );

    // The refusals are on the record as denied.
    let (status, page) = app.api_get("/audit?limit=500").await;
    assert_eq!(status, 200, "{page}");
    let denied: Vec<&Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 2, "{denied:#?}");

    // Signing in again is the step-up; then the action goes through.
    app.sign_in_as("admin").await;
    assert_eq!(run_in(&app, "prod").await.0, 201);
    assert_eq!(create_token(&app, "again").await.0, 201);
}

#[tokio::test]
async fn deciding_an_approval_needs_a_recent_sign_in_and_leaves_the_request_pending() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let gated =
        "name: gated\napproval: { required_in: [dev] }\nsteps:\n  - id: go\n    run: echo hi\n";
    assert_eq!(app.apply(gated).await.0, 201);
    // The bootstrap token asks; a person approves.
    let (status, request) = app
        .api_post("/runs", json!({"workflow": "gated", "environment": "dev"}))
        .await;
    assert_eq!(status, 202, "{request}");
    let approve = format!("/approvals/{}/approve", request["id"].as_str().unwrap());
    app.sign_in_as("approver").await;
    age_sessions(&app).await;

    let (status, body) = as_session(&app, reqwest::Method::POST, &approve, Some(json!({}))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "step_up_required", "{body}");
    let (_, still) = app
        .api_get(&format!("/approvals/{}", request["id"].as_str().unwrap()))
        .await;
    assert_eq!(still["status"], "pending", "{still}");
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);

    app.sign_in_as("approver").await;
    let (status, decided) =
        as_session(&app, reqwest::Method::POST, &approve, Some(json!({}))).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["request"]["status"], "approved");
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 1);
}

#[tokio::test]
async fn service_tokens_are_not_subject_to_step_up() {
    let app = TestApp::spawn_with(&["--dev", "--step-up-max-age", "1s"]).await;
    deploy_everywhere(&app).await;
    let (status, run) = app
        .api_post(
            "/workflows/deploy/runs",
            json!({"environment": "prod", "inputs": {}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let (status, body) = app
        .api_post(
            "/tokens",
            json!({"name": "by-token", "roles": ["viewer@dev"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn without_single_sign_on_step_up_is_the_sign_in_page() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/auth/login?step_up=1&next=/runs%3Fenv%3Dprod"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "{resp:?}");
    assert_eq!(
        crate::helpers::location(&resp),
        "/sign-in?next=%2Fruns%3Fenv%3Dprod"
    );
}

#[tokio::test]
async fn a_zero_step_up_window_is_refused_at_start_up() {
    use clap::Parser;
    let args =
        gantry_server::cli::Cli::try_parse_from(["gantry", "serve", "--step-up-max-age", "0s"])
            .unwrap();
    let gantry_server::cli::Command::Serve(args) = args.command else {
        unreachable!()
    };
    let Err(err) = args.into_config() else {
        panic!("a zero --step-up-max-age is accepted")
    };
    assert!(err.to_string().contains("--step-up-max-age"), "{err}");
}
