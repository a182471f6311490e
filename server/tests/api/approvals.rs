//! Four eyes: where a workflow requires approval, asking for a run files a
//! request; only a different person holding approver (or admin) in that
//! environment can approve it, and the run then starts as the requester,
//! with both names on the record.

use crate::audit::all_records;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(a_run_needing_approval_waits_for_a_second_person);

const GUARDED: &str = "name: deploy\napproval:\n  required_in: [dev]\n\
    inputs:\n  version:\n    type: string\n    default: '1.0'\n\
    steps:\n  - id: ship\n    run: echo shipping\n";

/// A token made with the bootstrap token: it acts for the system.
async fn token(app: &TestApp, name: &str, role: &str) -> String {
    let (status, made) = app
        .api_post("/tokens", json!({"name": name, "roles": [role]}))
        .await;
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

/// A token the admin makes in their session: it acts for the admin, a
/// second person beside the system (four eyes compares people).
async fn admins_token(app: &TestApp, name: &str, role: &str) -> String {
    let admin = crate::helpers::new_client();
    let resp = admin
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let resp = admin
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": name, "roles": [role]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    made["secret"].as_str().unwrap().to_owned()
}

async fn call(app: &TestApp, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let req = match body {
        Some(b) => app.client.post(app.url(&format!("/api/v1{path}"))).json(&b),
        None => app.client.get(app.url(&format!("/api/v1{path}"))),
    };
    let resp = req.bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A POST without a body (decisions take an optional comment).
async fn post_bare(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn ask(app: &TestApp, requester: &str) -> Value {
    let (status, request) = call(
        app,
        "/runs",
        requester,
        Some(json!({"workflow": "deploy", "environment": "dev",
                    "inputs": {"version": "2.1"}, "reason": "hotfix for INC-42"})),
    )
    .await;
    assert_eq!(status, 202, "{request}");
    request
}

async fn a_run_needing_approval_waits_for_a_second_person(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.apply(GUARDED).await.0, 201);
    let requester = token(&app, "requester", "operator@dev").await;
    let dev_approver = admins_token(&app, "dev-approver", "approver@dev").await;
    let prod_approver = admins_token(&app, "prod-approver", "approver@prod").await;
    let operator = admins_token(&app, "other-operator", "operator@*").await;

    // Asking files a request; nothing runs yet.
    let request = ask(&app, &requester).await;
    assert_eq!(request["status"], "pending");
    assert_eq!(request["requested_by"]["name"], "token requester");
    assert_eq!(request["reason"], "hotfix for INC-42");
    assert_eq!(request["input_names"], json!(["version"]));
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);
    let id = request["id"].as_str().unwrap().to_owned();
    let (_, inbox) = call(&app, "/approvals?pending=true", &operator, None).await;
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );

    // Not the requester, not an approver elsewhere, not an operator.
    let approve = format!("/approvals/{id}/approve");
    let (status, own) = call(&app, &approve, &requester, Some(json!({}))).await;
    assert_eq!(status, 403, "{own}");
    assert!(
        own["error"]["message"]
            .as_str()
            .unwrap()
            .contains("four eyes")
    );
    assert_eq!(post_bare(&app, &approve, &prod_approver).await.0, 403);
    assert_eq!(post_bare(&app, &approve, &operator).await.0, 403);

    // The approver in dev approves: the run starts as the requester.
    let (status, decided) = call(
        &app,
        &approve,
        &dev_approver,
        Some(json!({"comment": "checked the diff"})),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["request"]["status"], "approved");
    assert_eq!(
        decided["request"]["decided_by"]["name"],
        "token dev-approver"
    );
    let run = &decided["run"];
    assert_eq!(run["triggered_by"], "token requester");
    assert_eq!(decided["request"]["run_id"], run["id"]);
    let run_id = run["id"].as_str().unwrap().to_owned();
    let (_, detail) = app.api_get(&format!("/runs/{run_id}")).await;
    assert_eq!(detail["inputs"]["version"], "2.1");
    // Once only.
    assert_eq!(post_bare(&app, &approve, &dev_approver).await.0, 409);
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 1);

    // A rejection runs nothing.
    let second = ask(&app, &requester).await;
    let reject = format!("/approvals/{}/reject", second["id"].as_str().unwrap());
    let (status, rejected) = call(
        &app,
        &reject,
        &dev_approver,
        Some(json!({"comment": "not now"})),
    )
    .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(rejected["request"]["status"], "rejected");
    assert_eq!(rejected["run"], Value::Null);
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 1);

    // An expired request can't be decided any more.
    let third = ask(&app, &requester).await;
    let third_id = third["id"].as_str().unwrap();
    app.exec_sql(&format!(
        "UPDATE approval_requests SET expires_at = created_at WHERE id = '{third_id}'"
    ))
    .await;
    let (status, late) = post_bare(
        &app,
        &format!("/approvals/{third_id}/approve"),
        &dev_approver,
    )
    .await;
    assert_eq!(status, 409, "{late}");
    assert!(
        late["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let (_, history) = call(&app, "/approvals?pending=false", &operator, None).await;
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 1);

    // Both names on the record.
    let records = all_records(&app).await;
    let approved: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "approval.approve" && r["outcome"] == "succeeded")
        .collect();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["actor"]["name"], "token dev-approver");
    assert_eq!(approved[0]["details"]["requested_by"], "token requester");
    assert_eq!(approved[0]["details"]["run_id"], run_id.as_str());
    assert_eq!(approved[0]["environment"], "dev");
    let asked = records
        .iter()
        .filter(|r| r["action"] == "approval.request")
        .count();
    assert_eq!(asked, 3);
    let own_try = records
        .iter()
        .find(|r| r["action"] == "approval.approve" && r["outcome"] == "denied")
        .unwrap();
    assert_eq!(own_try["actor"]["name"], "token requester");
}

/// Runs the `gantry` CLI against the app as the holder of `token`.
async fn gantry(app: &TestApp, token: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("GANTRY_URL", app.url(""))
        .env("GANTRY_TOKEN", token)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test]
async fn the_cli_asks_lists_and_approves() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.apply(GUARDED).await.0, 201);
    let requester = token(&app, "requester", "operator@dev").await;
    let approver = admins_token(&app, "approver", "approver@*").await;

    let (code, out) = gantry(
        &app,
        &requester,
        &[
            "run",
            "deploy",
            "--env",
            "dev",
            "--reason",
            "release 2.1",
            "--wait",
        ],
    )
    .await;
    assert_eq!(code, Some(3), "not started, so not a success: {out}");
    assert!(out.contains("requires approval"), "{out}");

    let (code, out) = gantry(&app, &approver, &["approvals", "--pending"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("deploy v1 in dev, asked by token requester") && out.contains("release 2.1"),
        "{out}"
    );
    let id = out.split_whitespace().next().unwrap().to_owned();

    let (code, out) = gantry(&app, &requester, &["approve", &id]).await;
    assert_eq!(code, Some(1), "four eyes: {out}");
    assert!(out.contains("four eyes"), "{out}");
    let (code, out) = gantry(&app, &approver, &["approve", &id, "--comment", "ok"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("approved") && out.contains("started as token requester"),
        "{out}"
    );
}
