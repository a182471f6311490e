//! Inbound webhooks on both databases: admins create hooks (the secret
//! shown once and sealed at rest, fields checked by path, operators
//! refused), signed deliveries start runs with inputs taken from the
//! payload (Gantry and GitHub modes), refused signatures (wrong, stale,
//! replayed, missing) get 401 and an audit record, bodies over 1 MiB 413,
//! event types a hook doesn't run for are accepted and ignored, and a
//! rotation accepts the previous secret until it is retired.

use crate::helpers::{Backend, Person, TestApp};
use crate::on_both_backends;
use gantry_core::webhook::signature::{gantry_header, github_header};
use serde_json::{Value, json};

on_both_backends!(
    admins_create_hooks_whose_secret_is_shown_once_with_fields_checked,
    signed_deliveries_start_runs_with_inputs_from_the_payload,
    refused_deliveries_get_401_or_413_and_an_audit_record,
    a_rotation_accepts_the_previous_secret_until_it_is_retired,
    a_workflow_needing_four_eyes_gets_an_approval_request_from_a_delivery,
);

pub(crate) const FLOW: &str = "name: deploy\ninputs:\n  git_ref: { type: string }\n  sha: { type: string, default: none }\nsteps:\n  - id: go\n    run: echo deploying\n";

fn hook(name: &str, mode: &str, events: Value) -> Value {
    json!({
        "name": name,
        "environment": "dev",
        "workflow": "deploy",
        "mode": mode,
        "inputs": { "git_ref": "/ref", "sha": "/head_commit/id" },
        "events": events,
    })
}

async fn setup(backend: Backend) -> (TestApp, Person) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = app.apply(FLOW).await;
    assert!(status == 200 || status == 201, "apply: {status} {body}");
    let admin = app.person("admin").await;
    (app, admin)
}

async fn create(admin: &Person, body: Value) -> String {
    let (status, created) = admin.post("/webhooks", body).await;
    assert_eq!(status, 201, "{created}");
    created["secret"].as_str().expect("secret").to_owned()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Posts `body` to the hook with these headers; the status and answer.
async fn deliver(
    app: &TestApp,
    hook: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/hooks/{hook}")))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req.send().await.expect("delivery");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn signed_gantry(
    secret: &str,
    t: i64,
    body: &[u8],
    id: &str,
    event: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "x-gantry-signature",
            gantry_header(secret.as_bytes(), t, body),
        ),
        ("x-gantry-delivery", id.to_owned()),
        ("x-gantry-event", event.to_owned()),
    ]
}

async fn denied_deliveries(app: &TestApp) -> i64 {
    app.count_sql(
        "SELECT count(*) FROM audit_log WHERE action = 'webhook.delivery' AND outcome = 'denied'",
    )
    .await
}

async fn admins_create_hooks_whose_secret_is_shown_once_with_fields_checked(backend: Backend) {
    let (app, admin) = setup(backend).await;
    let (status, created) = admin
        .post("/webhooks", hook("github-push", "github", json!(["push"])))
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gwhsec_") && secret.len() > 40);
    assert_eq!(created["hook"]["environment"], "dev");
    assert_eq!(created["hook"]["previous_active"], false);

    // Never again: not in the list, the detail, the database or the log.
    let (status, list) = admin.get("/webhooks").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, detail) = admin.get("/webhooks/github-push").await;
    assert_eq!(status, 200);
    assert_eq!(detail["deliveries"], json!([]));
    for shown in [list.to_string(), detail.to_string()] {
        assert!(!shown.contains(&secret[7..]), "secret shown again");
    }
    let sealed = app
        .scalar_text("SELECT sealed_secrets FROM webhooks WHERE name = 'github-push'")
        .await;
    assert!(!sealed.contains(&secret[7..]));
    let leaks = app
        .count_sql(&format!(
            "SELECT count(*) FROM audit_log WHERE details LIKE '%{}%'",
            &secret[7..]
        ))
        .await;
    assert_eq!(leaks, 0);
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log WHERE action = 'webhook.create' AND outcome = 'succeeded'")
            .await,
        1
    );

    // The name is the hook's address: taken is taken.
    let (status, _) = admin
        .post("/webhooks", hook("github-push", "github", json!([])))
        .await;
    assert_eq!(status, 409);

    // Operators run workflows but don't make hooks.
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/webhooks", hook("sneaky", "gantry", json!([])))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = operator.get("/webhooks/github-push").await;
    assert_eq!(status, 403);
    let (status, _) = operator
        .post("/webhooks/github-push/rotate", json!({}))
        .await;
    assert_eq!(status, 403);

    // Bad input: every field named.
    let (status, body) = admin
        .post(
            "/webhooks",
            json!({"name": "bad", "environment": "dev", "workflow": "deploy",
                   "inputs": {"git_ref": "ref", "nope": "/x"}, "events": ["ok", "not ok"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["error"]["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    for want in ["inputs.git_ref", "events[1]", "inputs.nope"] {
        assert!(paths.contains(&want), "{want} in {paths:?}");
    }
    let (status, body) = admin
        .post(
            "/webhooks",
            json!({"name": "bad", "environment": "dev", "workflow": "no-such"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["problems"][0]["path"], "workflow");
    let (status, body) = admin
        .post(
            "/webhooks",
            json!({"name": "bad", "environment": "moon", "workflow": "deploy"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["details"]["problems"][0]["path"],
        "environment"
    );

    let (status, _) = admin.get("/webhooks/no-such-hook").await;
    assert_eq!(status, 404);
    let (status, _) = admin.delete("/webhooks/github-push").await;
    assert_eq!(status, 204);
    let (status, _) = admin.get("/webhooks/github-push").await;
    assert_eq!(status, 404);
}

async fn signed_deliveries_start_runs_with_inputs_from_the_payload(backend: Backend) {
    let (app, admin) = setup(backend).await;
    let gantry_secret = create(&admin, hook("ci", "gantry", json!(["push"]))).await;
    let github_secret = create(&admin, hook("gh", "github", json!([]))).await;

    let body = br#"{"ref":"refs/heads/main","head_commit":{"id":"abc123"}}"#;
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&gantry_secret, now(), body, "d-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "started");
    let run_id = answer["run_id"].as_str().unwrap().to_owned();
    let (status, run) = admin.get(&format!("/runs/{run_id}")).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["inputs"]["git_ref"], "refs/heads/main");
    assert_eq!(run["inputs"]["sha"], "abc123");
    assert_eq!(run["environment"], "dev");
    assert_eq!(run["triggered_by"], "webhook ci");

    // GitHub mode: X-Hub-Signature-256 over the body, its delivery id.
    let gh_body = br#"{"ref":"refs/tags/v1"}"#;
    let (status, answer) = deliver(
        &app,
        "gh",
        &[
            (
                "x-hub-signature-256",
                github_header(github_secret.as_bytes(), gh_body),
            ),
            ("x-github-event", "release".to_owned()),
            ("x-github-delivery", "72d3162e-cc78".to_owned()),
        ],
        gh_body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "started");
    let gh_run = answer["run_id"].as_str().unwrap().to_owned();
    let (_, run) = admin.get(&format!("/runs/{gh_run}")).await;
    assert_eq!(run["inputs"]["git_ref"], "refs/tags/v1");
    assert_eq!(
        run["inputs"]["sha"], "none",
        "the default where the pointer finds nothing"
    );

    // An event type the hook doesn't run for: accepted (no retries), ignored.
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&gantry_secret, now(), body, "d-2", "issues"),
        body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "ignored");

    // Signed, but the payload lacks a required input: 422, on the page.
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&gantry_secret, now(), b"{}", "d-3", "push"),
        b"{}",
    )
    .await;
    assert_eq!(status, 422, "{answer}");

    let (_, detail) = admin.get("/webhooks/ci").await;
    let deliveries = detail["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{detail}");
    let by_id = |id: &str| {
        deliveries
            .iter()
            .find(|d| d["delivery_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {detail}"))
            .clone()
    };
    assert_eq!(by_id("d-1")["outcome"], "started");
    assert_eq!(by_id("d-1")["run_id"], run_id.as_str());
    assert_eq!(by_id("d-2")["outcome"], "ignored");
    assert_eq!(by_id("d-3")["outcome"], "failed");
    assert_eq!(by_id("d-3")["status"], 422);
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log WHERE action = 'run.trigger' AND actor_id = 'webhook:ci' AND outcome = 'succeeded'")
            .await,
        1
    );
}

async fn refused_deliveries_get_401_or_413_and_an_audit_record(backend: Backend) {
    let (app, admin) = setup(backend).await;
    let secret = create(&admin, hook("ci", "gantry", json!([]))).await;
    let body = br#"{"ref":"main"}"#;

    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry("gwhsec_wrong", now(), body, "w-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    assert_eq!(denied_deliveries(&app).await, 1);

    // Older than five minutes.
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&secret, now() - 301, body, "s-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timestamp")
    );

    // No signature at all.
    let (status, _) = deliver(&app, "ci", &[("x-gantry-delivery", "n-1".into())], body).await;
    assert_eq!(status, 401);

    // A replay: the same delivery id again, even signed afresh.
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&secret, now(), body, "r-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&secret, now(), body, "r-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("received before")
    );
    assert_eq!(denied_deliveries(&app).await, 4);

    // A refused delivery id doesn't burn it for the real sender.
    let (status, _) = deliver(
        &app,
        "ci",
        &signed_gantry("gwhsec_wrong", now(), body, "f-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 401);
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&secret, now(), body, "f-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");

    // Over 1 MiB: 413, unread.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&secret, now(), &big, "b-1", "push"),
        &big,
    )
    .await;
    assert_eq!(status, 413, "{answer}");

    // No such hook: 404, and nothing said about it.
    let (status, answer) = deliver(
        &app,
        "nope",
        &signed_gantry(&secret, now(), body, "x-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert!(!answer.to_string().contains("nope"));
}

async fn a_rotation_accepts_the_previous_secret_until_it_is_retired(backend: Backend) {
    let (app, admin) = setup(backend).await;
    let old = create(&admin, hook("ci", "gantry", json!([]))).await;
    let body = br#"{"ref":"main"}"#;

    let (status, rotated) = admin.post("/webhooks/ci/rotate", json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(rotated["hook"]["previous_active"], true);
    // One rotation at a time: retire the previous secret first.
    let (status, _) = admin.post("/webhooks/ci/rotate", json!({})).await;
    assert_eq!(status, 409);

    for (secret, id) in [(&old, "old-1"), (&new, "new-1")] {
        let (status, answer) = deliver(
            &app,
            "ci",
            &signed_gantry(secret, now(), body, id, "push"),
            body,
        )
        .await;
        assert_eq!(status, 202, "{id}: {answer}");
    }
    let previous_key = app
        .count_sql("SELECT count(*) FROM audit_log WHERE action = 'webhook.delivery' AND actor_id = 'webhook:ci' AND details LIKE '%\"previous\"%'")
        .await;
    assert_eq!(previous_key, 1, "the record says which key verified");

    let (status, retired) = admin.post("/webhooks/ci/retire-previous", json!({})).await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(retired["previous_active"], false);
    let (status, answer) = deliver(
        &app,
        "ci",
        &signed_gantry(&old, now(), body, "old-2", "push"),
        body,
    )
    .await;
    assert_eq!(status, 401, "the retired key: {answer}");
    let (status, _) = deliver(
        &app,
        "ci",
        &signed_gantry(&new, now(), body, "new-2", "push"),
        body,
    )
    .await;
    assert_eq!(status, 202);
    let (status, _) = admin.post("/webhooks/ci/retire-previous", json!({})).await;
    assert_eq!(status, 409);
    for action in ["webhook.rotate", "webhook.retire"] {
        assert_eq!(
            app.count_sql(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}' AND outcome = 'succeeded'"
            ))
            .await,
            1,
            "{action}"
        );
    }
}

async fn a_workflow_needing_four_eyes_gets_an_approval_request_from_a_delivery(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let gated =
        "name: gated\napproval: { required_in: [dev] }\nsteps:\n  - id: go\n    run: echo hi\n";
    let (status, body) = app.apply(gated).await;
    assert!(status == 200 || status == 201, "apply: {status} {body}");
    let admin = app.person("admin").await;
    let secret = create(
        &admin,
        json!({"name": "gated-hook", "environment": "dev", "workflow": "gated"}),
    )
    .await;
    let body = b"{}";
    let (status, answer) = deliver(
        &app,
        "gated-hook",
        &signed_gantry(&secret, now(), body, "g-1", "push"),
        body,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "awaiting_approval");
    let approval = answer["approval_id"].as_str().unwrap().to_owned();

    // Anyone else may approve it: the requester is Gantry, not a person.
    let approver = app.person("approver").await;
    let (status, decided) = approver
        .post(&format!("/approvals/{approval}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{decided}");
    let (_, detail) = admin.get("/webhooks/gated-hook").await;
    assert_eq!(detail["deliveries"][0]["outcome"], "awaiting_approval");
    assert_eq!(detail["deliveries"][0]["approval_id"], approval.as_str());
}
