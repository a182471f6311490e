//! Remote workers through the execution API (`/exec/v1`): a `gantry worker`
//! process holding only a worker token runs workflows end to end; a worker
//! token is good for nothing else, no other credential can lease steps, and
//! one worker can't touch another's attempts.

use crate::helpers::{Backend, TOKEN, TestApp, step_statuses};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_remote_worker_with_only_a_worker_token_runs_workflows_end_to_end,
    one_worker_cannot_heartbeat_log_or_report_another_workers_attempt,
);

const PIPELINE: &str = r#"
name: remote-pipeline
inputs:
  who: { type: string, default: world }
steps:
  - id: build
    run: |
      echo "building for $WHO"
      echo "artifact=build-42" >> "$GANTRY_OUTPUT"
    env: { WHO: "${{ inputs.who }}" }
    outputs: [artifact]
  - id: deploy
    needs: [build]
    run: echo "deploying ${{ steps.build.outputs.artifact }}"
  - id: environment
    needs: [build]
    run: env
  - id: steal
    needs: [build]
    run: cat TOKEN_FILE /proc/$PPID/environ; echo "after stealing"
"#;

async fn a_remote_worker_with_only_a_worker_token_runs_workflows_end_to_end(backend: Backend) {
    // No worker in the server: every step must go through the execution API.
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let token = app.worker_token("ci-runners").await;
    let _worker = app.spawn_worker_process(&token, "remote", &[]);

    let id = app
        .apply_and_run(PIPELINE, json!({ "who": "remote" }))
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let statuses = step_statuses(&run);
    assert!(statuses.values().all(|s| s == "succeeded"), "{statuses:?}");
    for step in run["steps"].as_array().unwrap() {
        let worker = step["attempts"][0]["worker"].as_str().unwrap();
        assert!(
            worker.starts_with("ci-runners/"),
            "leases are owned by token/instance: {worker}"
        );
    }

    let (status, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
    assert_eq!(status, 200, "{logs}");
    let text: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(text.contains(&"building for remote"), "{text:#?}");
    assert!(text.contains(&"after stealing"), "{text:#?}");
    assert!(
        text.contains(&"deploying build-42"),
        "outputs travel between steps: {text:#?}"
    );
    // The worker holds no database URL, and its token file and environment
    // are closed to its steps: nothing a step printed is a credential.
    let all = text.join("\n");
    for secret in ["sqlite://", "postgres://", "gantry_", TOKEN, token.as_str()] {
        assert!(!all.contains(secret), "a step saw {secret:?}:\n{all}");
    }
}

/// A raw execution API call.
pub async fn exec(app: &TestApp, token: &str, endpoint: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/exec/v1/{endpoint}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("exec call");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const SLOW: &str = r#"
name: slow-remote
steps:
  - id: work
    run: sleep 30
"#;

async fn one_worker_cannot_heartbeat_log_or_report_another_workers_attempt(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let mine = app.worker_token("mine").await;
    let theirs = app.worker_token("theirs").await;
    let id = app.apply_and_run(SLOW, json!({})).await;

    // Lease the step by hand as `mine/a`.
    let (status, leases) = exec(
        &app,
        &mine,
        "claim",
        json!({ "instance": "a", "limit": 1, "wait_ms": 10000, "lease_ms": 60000 }),
    )
    .await;
    assert_eq!(status, 200, "{leases}");
    let lease = &leases[0];
    assert_eq!(lease["run_id"], id.as_str());
    assert_eq!(lease["step"]["run"], "sleep 30");
    let attempt = |instance: &str| json!({ "instance": instance, "run_id": id, "step_id": "work", "attempt": lease["attempt"] });
    let with = |mut base: Value, extra: Value| {
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };

    // The holder's heartbeat carries on; another instance of the same
    // token, and another token with the same instance name, are told the
    // attempt is not theirs.
    let beat = |instance: &str| with(attempt(instance), json!({ "lease_ms": 60000 }));
    assert_eq!(
        exec(&app, &mine, "heartbeat", beat("a")).await,
        (200, json!({ "beat": "continue" }))
    );
    assert_eq!(
        exec(&app, &mine, "heartbeat", beat("b")).await,
        (200, json!({ "beat": "lost" }))
    );
    assert_eq!(
        exec(&app, &theirs, "heartbeat", beat("a")).await,
        (200, json!({ "beat": "lost" }))
    );

    // Log lines are taken from the holder only.
    let line = json!({ "lines": [{ "line": 1, "stream": "stdout", "at": "2026-12-05T12:00:00Z", "text": "forged" }] });
    let (status, body) = exec(&app, &theirs, "logs", with(attempt("a"), line.clone())).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = exec(&app, &mine, "logs", with(attempt("a"), line)).await;
    assert_eq!(status, 204);

    // Another worker's report is stale and changes nothing.
    let end = |instance: &str, end: &str| with(attempt(instance), json!({ "end": end }));
    assert_eq!(
        exec(&app, &theirs, "report", end("a", "succeeded")).await,
        (200, json!({ "accepted": false }))
    );
    let (_, run) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(run["status"], "running", "{run:#}");

    // A worker may not declare its own attempt lost: only the server's
    // lease reaper decides that.
    let (status, body) = exec(&app, &mine, "report", end("a", "lost")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "end");

    // The holder's report settles the run.
    assert_eq!(
        exec(&app, &mine, "report", end("a", "failed")).await,
        (200, json!({ "accepted": true }))
    );
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["steps"][0]["attempts"][0]["worker"], "mine/a");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
    let forged = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["text"] == "forged")
        .count();
    assert_eq!(forged, 1, "only the holder's line was kept: {logs:#}");
}

#[tokio::test]
async fn a_worker_token_is_good_for_nothing_but_the_execution_api() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let worker = app.worker_token("runner").await;

    // Nowhere else: not the REST API, not SCIM, not the pages.
    for path in ["/api/v1/runs", "/api/v1/me", "/api/v1/workflows"] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(&worker)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("worker token"),
            "{body}"
        );
    }
    let resp = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&worker)
        .json(&json!({ "name": "escalate", "roles": ["admin@*"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a worker token can't mint tokens");
    let resp = app
        .client
        .get(app.url("/scim/v2/Users"))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn only_worker_tokens_lease_steps_and_each_refusal_is_audited() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let id = app.apply_and_run(SLOW, json!({})).await;
    let claim = json!({ "instance": "x", "limit": 1, "wait_ms": 0, "lease_ms": 5000 });

    // The bootstrap token is admin everywhere, and still can't claim.
    let (status, body) = exec(&app, TOKEN, "claim", claim.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only a worker token"),
        "{body}"
    );
    // A session cookie is no credential here at all.
    app.sign_in_as("admin").await;
    let resp = app
        .client
        .post(app.url("/exec/v1/claim"))
        .json(&claim)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Neither is an unknown token.
    let (status, _) = exec(&app, "gantry_not-a-real-token", "claim", claim.clone()).await;
    assert_eq!(status, 401);

    let (_, run) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(run["steps"][0]["status"], "queued", "nothing was leased");
    let denied = app
        .count_sql(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'view.denied' AND resource = 'exec/claim'",
        )
        .await;
    assert_eq!(denied, 1);
}

#[tokio::test]
async fn bad_execution_requests_get_a_clear_400_naming_the_field() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let worker = app.worker_token("runner").await;
    let cases = [
        (
            "claim",
            json!({ "instance": "w", "limit": 0, "lease_ms": 5000 }),
            "limit",
        ),
        (
            "claim",
            json!({ "instance": "w", "limit": 1, "wait_ms": 600000, "lease_ms": 5000 }),
            "wait_ms",
        ),
        (
            "claim",
            json!({ "instance": "other/w", "limit": 1, "lease_ms": 5000 }),
            "instance",
        ),
        (
            "heartbeat",
            json!({ "instance": "w", "run_id": "r", "step_id": "s", "attempt": 1, "lease_ms": 1 }),
            "lease_ms",
        ),
    ];
    for (endpoint, body, field) in cases {
        let (status, answer) = exec(&app, &worker, endpoint, body).await;
        assert_eq!(status, 400, "{endpoint}: {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    // Malformed JSON is a 400 in the API's error shape, never a 500.
    let resp = app
        .client
        .post(app.url("/exec/v1/claim"))
        .bearer_auth(&worker)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
}
