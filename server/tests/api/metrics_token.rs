//! `GET /metrics` on the main port: a metrics token reads it, and nothing
//! else does (no token, a session, another kind of token, a revoked one);
//! a metrics token does nothing else anywhere. The `--metrics-bind`
//! listener keeps answering beside it.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::metrics::{sample, scrape};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    the_main_port_serves_metrics_to_metrics_tokens_only,
    a_metrics_token_does_nothing_else,
);

/// `GET /metrics` on the main port with `token` (none: no header).
async fn main_port_metrics(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(app.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn message(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    json["error"]["message"]
        .as_str()
        .map_or_else(|| body.to_owned(), str::to_owned)
}

async fn the_main_port_serves_metrics_to_metrics_tokens_only(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--metrics-bind", "127.0.0.1:0"]).await;
    let token = app.metrics_token("prometheus").await;
    app.apply_and_run(
        "name: scraped\nsteps:\n  - id: s\n    run: \"true\"\n",
        json!({}),
    )
    .await;

    let resp = reqwest::Client::new()
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = resp.text().await.unwrap();
    assert_eq!(
        sample(
            &text,
            "gantry_runs_started_total{workflow=\"scraped\",environment=\"dev\",trigger=\"api\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // The database gauges are read for this scrape too.
    assert!(
        text.contains("gantry_queue_depth{state=\"ready\"}"),
        "{text}"
    );
    // The separate listener still answers, with the same registry.
    let listener = scrape(&app).await;
    assert!(
        listener.contains("gantry_runs_started_total{workflow=\"scraped\""),
        "{listener}"
    );

    // No token: 401, saying what to send.
    let (status, body) = main_port_metrics(&app, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        message(&body).contains("metrics token (gantry token create --metrics)"),
        "{body}"
    );
    // A signed-in session is no credential here.
    let signed_in = app.sign_in_as("admin").await;
    assert_eq!(signed_in.status(), 303);
    let (status, _) = app.get_html("/metrics").await;
    assert_eq!(status, 401);
    // An admin's token and a worker token are tokens of another kind: 403.
    let (status, body) = main_port_metrics(&app, Some(TOKEN)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains("only a metrics token may read /metrics"),
        "{body}"
    );
    let worker = app.worker_token("runners").await;
    let (status, _) = main_port_metrics(&app, Some(&worker)).await;
    assert_eq!(status, 403);
    // Both refusals are on record, as the principals that asked.
    let denied = app
        .count_sql(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'view.denied' AND resource = 'metrics'",
        )
        .await;
    assert_eq!(denied, 2);

    // A token made on the command line works the same.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "token",
            "create",
            "--database-url",
            &app.db_url,
            "--name",
            "cli-prometheus",
            "--metrics",
        ])
        .env_remove("GANTRY_DATABASE_URL")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("(metrics: GET /metrics)"));
    let cli_token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (status, _) = main_port_metrics(&app, Some(&cli_token)).await;
    assert_eq!(status, 200);

    // Revoked: 401 like any dead token.
    let (status, body) = app
        .api(reqwest::Method::DELETE, "/tokens/prometheus", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = main_port_metrics(&app, Some(&token)).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        message(&body).contains("unknown, revoked or expired"),
        "{body}"
    );
}

async fn a_metrics_token_does_nothing_else(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let token = app.metrics_token("prometheus").await;
    let client = reqwest::Client::new();
    // It can't list runs (or call the REST API at all).
    let resp = client
        .get(app.url("/api/v1/runs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body = resp.text().await.unwrap();
    assert!(
        message(&body).contains("metrics token: it is accepted on GET /metrics only"),
        "{body}"
    );
    // Nor open pages, provision over SCIM, or lease steps.
    for path in ["/", "/runs", "/scim/v2/Users"] {
        let resp = client
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
    }
    let resp = client
        .post(app.url("/exec/v1/claim"))
        .bearer_auth(&token)
        .json(&json!({"instance": "h:1", "limit": 1, "wait_ms": 0, "lease_ms": 15000}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("only a worker token"), "{body}");

    // It holds no roles, can't make tokens, and is one kind only.
    let (status, body) = app
        .api_post(
            "/tokens",
            json!({"name": "p2", "metrics": true, "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "roles", "{body}");
    let (status, body) = app
        .api_post(
            "/tokens",
            json!({"name": "p3", "metrics": true, "worker": true}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "kind", "{body}");
    // Only an admin of every environment makes one: metrics name the
    // workflows of every environment.
    let (status, body) = app
        .api_post(
            "/tokens",
            json!({"name": "dev-admin", "roles": ["admin@dev"], "can_create_tokens": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let dev_admin = body["secret"].as_str().unwrap().to_owned();
    let resp = client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&dev_admin)
        .json(&json!({"name": "p4", "metrics": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.text().await.unwrap();
    assert!(message(&body).contains("admin@*"), "{body}");
    // Listed with its kind and no roles.
    let (_, listed) = app.api_get("/tokens").await;
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "prometheus")
        .cloned()
        .unwrap();
    assert_eq!(listed["kind"], "metrics", "{listed}");
    assert_eq!(listed["roles"], json!([]), "{listed}");
}
