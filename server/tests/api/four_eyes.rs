//! Four eyes are people: the adversarial review's findings, reproduced as
//! they were found, now refused. An admin who asked for a run can't approve
//! it through a token they made for themself (or a token that token made);
//! the author of the version can't approve running it; tokens don't decide
//! where deciding needs a person with a recent sign-in; a token can't outlive
//! the token that made it, and only tokens granted `can_create_tokens` make
//! tokens at all.

use crate::audit::all_records;
use crate::helpers::{Backend, TOKEN, TestApp, new_client};
use crate::on_both_backends;
use reqwest::Client;
use serde_json::{Value, json};

on_both_backends!(
    an_admin_cannot_approve_their_own_request_through_a_token_they_made,
    the_author_of_a_version_cannot_approve_running_it,
    tokens_do_not_decide_in_the_last_environment_unless_configured,
    a_token_makes_tokens_only_when_granted_and_none_outliving_it,
    a_token_whose_maker_was_never_recorded_cannot_decide,
);

/// Runs wait for a second person in every environment.
const GUARDED: &str = "name: deploy\napproval:\n  required_in: [dev, stage, prod]\n\
    steps:\n  - id: ship\n    run: echo shipping\n";

/// A browser signed in as one of the demo users.
async fn person(app: &TestApp, username: &str) -> Client {
    let client = new_client();
    let resp = client
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", username)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sign in as {username}");
    client
}

/// A REST call as a signed-in person (`bearer: None`) or with a token.
async fn call(
    app: &TestApp,
    client: &Client,
    bearer: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = app.url(&format!("/api/v1{path}"));
    let mut req = match body {
        Some(b) => client.post(url).json(&b),
        None => client.get(url),
    };
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Makes the workflow active in stage and prod too (no route promotes yet).
async fn active_everywhere(app: &TestApp) {
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

/// Asks for a guarded run: 202 and the pending request's id.
async fn ask(app: &TestApp, client: &Client, bearer: Option<&str>, env: &str) -> String {
    let (status, request) = call(
        app,
        client,
        bearer,
        "/runs",
        Some(json!({"workflow": "deploy", "environment": env})),
    )
    .await;
    assert_eq!(status, 202, "{request}");
    request["id"].as_str().unwrap().to_owned()
}

/// Makes a token; its secret.
async fn make_token(app: &TestApp, client: &Client, bearer: Option<&str>, body: Value) -> String {
    let (status, made) = call(app, client, bearer, "/tokens", Some(body)).await;
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let (_, request) = app.api_get(&format!("/approvals/{id}")).await;
    request["status"].as_str().unwrap().to_owned()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn an_admin_cannot_approve_their_own_request_through_a_token_they_made(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.apply(GUARDED).await.0, 201);
    let admin = person(&app, "admin").await;

    // As found: the admin asks (202) and is refused approving (403)…
    let id = ask(&app, &admin, None, "dev").await;
    let approve = format!("/approvals/{id}/approve");
    let (status, own) = call(&app, &admin, None, &approve, Some(json!({}))).await;
    assert_eq!(status, 403, "{own}");

    // …makes a token with approver@dev for themself and approves with it:
    // refused now, with a message saying why.
    let mine = make_token(
        &app,
        &admin,
        None,
        json!({"name": "my-approver", "roles": ["approver@dev"]}),
    )
    .await;
    let (status, body) = call(&app, &admin, Some(&mine), &approve, Some(json!({}))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        message(&body).contains("acts for the person who made it")
            && message(&body).contains("four eyes"),
        "{body}"
    );
    // Rejecting is a decision too.
    let reject = format!("/approvals/{id}/reject");
    let (status, body) = call(&app, &admin, Some(&mine), &reject, Some(json!({}))).await;
    assert_eq!(status, 403, "{body}");

    // Nor through a token that a token of theirs made.
    let maker = make_token(
        &app,
        &admin,
        None,
        json!({"name": "my-maker", "roles": ["admin@dev"], "can_create_tokens": true,
               "expires_in": "30d"}),
    )
    .await;
    let grandchild = make_token(
        &app,
        &admin,
        Some(&maker),
        json!({"name": "my-grandchild", "roles": ["approver@dev"], "expires_in": "1d"}),
    )
    .await;
    let (status, body) = call(&app, &admin, Some(&grandchild), &approve, Some(json!({}))).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("four eyes"), "{body}");

    // Still pending, nothing ran, and every refusal is on the record.
    assert_eq!(status_of(&app, &id).await, "pending");
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);
    let records = all_records(&app).await;
    let denied: Vec<&Value> = records
        .iter()
        .filter(|r| r["resource"] == format!("approval/{id}").as_str() && r["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 4, "{denied:#?}");
    let by_token = denied
        .iter()
        .find(|r| r["actor"]["name"] == "token my-approver")
        .expect("the token's attempt is recorded");
    assert_eq!(by_token["action"], "approval.approve");
    assert!(
        by_token["details"]["error"]
            .as_str()
            .unwrap()
            .contains("four eyes"),
        "{by_token}"
    );
    // The record names the person behind both credentials: the same one.
    assert_eq!(
        by_token["details"]["decider_person"],
        by_token["details"]["requester_person"]
    );

    // A second person approves.
    let approver = person(&app, "approver").await;
    let (status, decided) = call(&app, &approver, None, &approve, Some(json!({}))).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["request"]["status"], "approved");
}

async fn the_author_of_a_version_cannot_approve_running_it(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    // The admin writes the workflow (as a person, in their session)…
    let admin = person(&app, "admin").await;
    let resp = admin
        .post(app.url("/api/v1/workflows"))
        .header("content-type", "application/yaml")
        .body(GUARDED)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    // …an operator asks to run it…
    let operator = person(&app, "operator").await;
    let id = ask(&app, &operator, None, "dev").await;
    let approve = format!("/approvals/{id}/approve");
    // …and the author may not approve, in person or through a token.
    let (status, body) = call(&app, &admin, None, &approve, Some(json!({}))).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains("wrote version 1 of deploy"),
        "{body}"
    );
    let token = make_token(
        &app,
        &admin,
        None,
        json!({"name": "author-approver", "roles": ["approver@dev"]}),
    )
    .await;
    let (status, body) = call(&app, &admin, Some(&token), &approve, Some(json!({}))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(status_of(&app, &id).await, "pending");

    // Someone who neither asked nor wrote it may.
    let approver = person(&app, "approver").await;
    let (status, decided) = call(&app, &approver, None, &approve, Some(json!({}))).await;
    assert_eq!(status, 200, "{decided}");
}

async fn tokens_do_not_decide_in_the_last_environment_unless_configured(backend: Backend) {
    for (flags, prod_by_token) in [
        (&["--dev", "--worker-slots", "0"][..], false),
        (
            &[
                "--dev",
                "--worker-slots",
                "0",
                "--token-approvals",
                "dev,stage,prod",
            ][..],
            true,
        ),
    ] {
        let app = TestApp::spawn_on(backend, flags).await;
        assert_eq!(app.apply(GUARDED).await.0, 201);
        active_everywhere(&app).await;
        let operator = person(&app, "operator").await;
        let admin = person(&app, "admin").await;
        let token = make_token(
            &app,
            &admin,
            None,
            json!({"name": "ci-approver", "roles": ["approver@*"]}),
        )
        .await;

        // In dev a token may decide (its maker, the admin, didn't ask).
        let dev = ask(&app, &operator, None, "dev").await;
        let (status, body) = call(
            &app,
            &admin,
            Some(&token),
            &format!("/approvals/{dev}/approve"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        // In prod, where a person must have signed in recently, not by
        // default: tokens have no sign-in to be recent.
        let prod = ask(&app, &operator, None, "prod").await;
        let (status, body) = call(
            &app,
            &admin,
            Some(&token),
            &format!("/approvals/{prod}/approve"),
            Some(json!({})),
        )
        .await;
        if prod_by_token {
            assert_eq!(status, 200, "{body}");
        } else {
            assert_eq!(status, 403, "{body}");
            assert!(
                message(&body).contains("tokens may not approve or reject in prod")
                    && message(&body).contains("--token-approvals"),
                "{body}"
            );
            assert_eq!(status_of(&app, &prod).await, "pending");
            // A person approves there.
            let approver = person(&app, "approver").await;
            let (status, body) = call(
                &app,
                &approver,
                None,
                &format!("/approvals/{prod}/approve"),
                Some(json!({})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
}

async fn a_token_makes_tokens_only_when_granted_and_none_outliving_it(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let client = new_client();

    // A token without the permission makes no token, whatever its roles.
    let plain = make_token(
        &app,
        &client,
        Some(TOKEN),
        json!({"name": "plain-admin", "roles": ["admin@*"], "expires_in": "90d"}),
    )
    .await;
    let (status, body) = call(
        &app,
        &client,
        Some(&plain),
        "/tokens",
        Some(json!({"name": "sneaky", "roles": ["viewer@dev"]})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("can_create_tokens"), "{body}");

    // As found: a 90-day token asks for a 365-day one. Refused, naming the
    // limit; within it, allowed.
    let maker = make_token(
        &app,
        &client,
        Some(TOKEN),
        json!({"name": "ci-maker", "roles": ["admin@*"], "expires_in": "90d",
               "can_create_tokens": true}),
    )
    .await;
    let (status, body) = call(
        &app,
        &client,
        Some(&maker),
        "/tokens",
        Some(json!({"name": "long-lived", "roles": ["viewer@dev"], "expires_in": "365d"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message(&body).contains("can't outlive") && message(&body).contains("at most 89d"),
        "{body}"
    );
    let (status, child) = call(
        &app,
        &client,
        Some(&maker),
        "/tokens",
        Some(json!({"name": "short-lived", "roles": ["viewer@dev"], "expires_in": "89d"})),
    )
    .await;
    assert_eq!(status, 201, "{child}");

    // Each lists its maker: the bootstrap token's are the system's, and a
    // token made by a person's token is that person's.
    let admin = person(&app, "admin").await;
    let admins = make_token(
        &app,
        &admin,
        None,
        json!({"name": "ada-maker", "roles": ["admin@dev"], "can_create_tokens": true}),
    )
    .await;
    make_token(
        &app,
        &admin,
        Some(&admins),
        json!({"name": "ada-child", "roles": ["operator@dev"], "expires_in": "1d"}),
    )
    .await;
    let (status, list) = app.api_get("/tokens").await;
    assert_eq!(status, 200, "{list}");
    let token = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed: {list}"))
            .clone()
    };
    assert_eq!(token("bootstrap")["maker"]["id"], "system");
    assert_eq!(token("bootstrap")["can_create_tokens"], true);
    assert_eq!(token("short-lived")["maker"]["id"], "system");
    assert_eq!(token("short-lived")["created_by"], "token ci-maker");
    assert_eq!(token("short-lived")["can_create_tokens"], false);
    assert_eq!(token("ada-maker")["maker"]["name"], "Ada Admin");
    assert_eq!(token("ada-child")["maker"]["name"], "Ada Admin");
    assert_eq!(token("ada-child")["created_by"], "token ada-maker");
    assert_eq!(token("ada-child")["maker"], token("ada-maker")["maker"]);
    assert_ne!(token("ada-child")["maker"]["id"], "system");

    // The permission passes only from those who hold it: the child of a
    // token that may make tokens can be granted it; its own children can't
    // outlive it either.
    let (status, body) = call(
        &app,
        &client,
        Some(&plain),
        "/tokens",
        Some(json!({"name": "grant-it", "roles": ["viewer@dev"], "can_create_tokens": true})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let audit = all_records(&app).await;
    let made = audit
        .iter()
        .find(|r| r["action"] == "token.create" && r["resource"] == "token/ada-child")
        .unwrap();
    assert_eq!(made["outcome"], "succeeded");
    assert_eq!(made["details"]["maker"], token("ada-maker")["maker"]["id"]);
}

async fn a_token_whose_maker_was_never_recorded_cannot_decide(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.apply(GUARDED).await.0, 201);
    let admin = person(&app, "admin").await;
    let old = make_token(
        &app,
        &admin,
        None,
        json!({"name": "from-before", "roles": ["approver@dev", "operator@dev"]}),
    )
    .await;
    // As migration 0009 leaves tokens made before it: no known maker.
    app.exec_sql(
        "UPDATE api_tokens SET made_by_person = NULL, made_by_person_name = NULL \
         WHERE name = 'from-before'",
    )
    .await;
    let operator = person(&app, "operator").await;
    let id = ask(&app, &operator, None, "dev").await;
    let (status, body) = call(
        &app,
        &admin,
        Some(&old),
        &format!("/approvals/{id}/approve"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("never recorded"), "{body}");
    assert_eq!(status_of(&app, &id).await, "pending");
    // It may still ask; a person then decides.
    let asked = ask(&app, &admin, Some(&old), "dev").await;
    let approver = person(&app, "approver").await;
    let (status, body) = call(
        &app,
        &approver,
        None,
        &format!("/approvals/{asked}/approve"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = app.api_get("/tokens").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "from-before")
        .unwrap();
    assert_eq!(listed["maker"], Value::Null, "{listed}");
}
