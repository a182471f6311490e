//! The REST API's contract: authentication, the one error shape, bad input
//! answered with a 4xx that says what to fix, versions, pagination.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    apply_versions_specs_by_content,
    runs_list_filters_and_paginates,
    the_api_refuses_what_its_document_refuses_and_takes_what_it_allows,
);

const HELLO: &str = r#"
name: hello
inputs:
  who: { type: string, default: world }
  times: { type: integer, default: 1 }
steps:
  - id: greet
    run: echo "hello ${{ inputs.who }}"
"#;

async fn apply_versions_specs_by_content(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = app.apply(HELLO).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["created"], true);
    assert_eq!(body["activated_in"], "dev");
    assert_eq!(body["message"], "hello: created version 1 (active in dev)");

    // Same spec with a comment and reordered keys: a no-op that says so.
    let reordered = "# a comment\nsteps:\n  - run: echo \"hello ${{ inputs.who }}\"\n    id: greet\ninputs:\n  who: { default: world, type: string }\n  times: { type: integer, default: 1 }\nname: hello\n";
    let (status, body) = app.apply(reordered).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], false);
    assert_eq!(body["message"], "hello: unchanged (identical to version 1)");

    let (status, body) = app.apply(&HELLO.replace("hello ", "hi ")).await;
    assert_eq!(status, 201);
    assert_eq!(body["version"], 2);
    let (_, versions) = app.api_get("/workflows/hello/versions").await;
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let (_, wf) = app.api_get("/workflows/hello?version=1").await;
    assert_eq!(wf["shown"]["version"], 1);
    assert!(wf["source"].as_str().unwrap().contains("hello "));
    assert_eq!(
        wf["active"][0],
        json!({"environment": "dev", "version": 2, "schedule_enabled": true, "next_fire_at": null})
    );
    let (_, list) = app.api_get("/workflows").await;
    assert_eq!(list[0]["name"], "hello");
    assert_eq!(list[0]["latest_version"], 2);
}

async fn runs_list_filters_and_paginates(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    app.apply(HELLO).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.trigger("hello", json!({})).await);
    }
    for id in &ids {
        app.finished_run(id).await;
    }
    let (_, page) = app.api_get("/runs?workflow=hello&limit=2").await;
    let got: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()], "newest first");
    let before = page["next_before"].as_str().unwrap();
    let (_, page) = app
        .api_get(&format!("/runs?workflow=hello&limit=2&before={before}"))
        .await;
    let got: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[0].as_str()]);
    assert!(page["next_before"].is_null());
    let (_, page) = app.api_get("/runs?status=failed").await;
    assert!(page["runs"].as_array().unwrap().is_empty());
    let (_, page) = app.api_get("/runs?environment=prod").await;
    assert!(page["runs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_api_needs_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/api/v1/workflows"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    for bad in [
        "gantry_wrong-token-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "not-even-prefixed",
    ] {
        let resp = app
            .client
            .get(app.url("/api/v1/workflows"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{bad}");
    }
    let resp = app
        .client
        .get(app.url("/api/v1/workflows"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The token is stored only as a hash.
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE name = 'bootstrap'")
            .fetch_one(&app.db().await)
            .await
            .unwrap();
    assert_ne!(stored, TOKEN);
    assert_eq!(stored.len(), 64);
}

#[tokio::test]
async fn session_users_use_the_api_with_their_own_roles() {
    let app = TestApp::spawn().await;
    app.apply(HELLO).await;
    app.sign_in_as("viewer").await;
    let resp = app
        .client
        .get(app.url("/api/v1/workflows"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .post(app.url("/api/v1/workflows/hello/runs"))
        .json(&json!({"environment": "dev"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operator or admin")
    );
    let resp = app
        .client
        .post(app.url("/api/v1/workflows"))
        .body(HELLO)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_that_says_what_to_fix() {
    let app = TestApp::spawn().await;
    app.apply(HELLO).await;
    let finished = app.trigger("hello", json!({})).await;
    app.finished_run(&finished).await;

    // (what, status, code, message fragment)
    let specs: &[(&str, u16, &str, &str)] = &[
        ("name: [", 422, "unprocessable", "line 1"),
        ("name: x\nsteps: []\n", 422, "unprocessable", "steps"),
        (
            "name: x\nstepz: []\n",
            422,
            "unprocessable",
            "unknown field",
        ),
        (
            "name: x\nsteps:\n  - id: a\n    needs: [b]\n    run: 'true'\n  - id: b\n    needs: [a]\n    run: 'true'\n",
            422,
            "unprocessable",
            "→",
        ),
        (
            "name: x\nsteps:\n  - id: a\n    run: echo ${{ inputs.nope }}\n",
            422,
            "unprocessable",
            "nope",
        ),
        (
            "name: x\nschedule: 'every day'\nsteps:\n  - id: a\n    run: 'true'\n",
            422,
            "unprocessable",
            "schedule",
        ),
        (
            "name: x\nschedule: '0 3 * * *'\ninputs:\n  t: { type: string }\nsteps:\n  - id: a\n    run: 'true'\n",
            422,
            "unprocessable",
            "need a default",
        ),
    ];
    for (spec, status, code, fragment) in specs {
        let (got, body) = app.apply(spec).await;
        assert_eq!(got, *status, "{spec:?} -> {body}");
        assert_eq!(body["error"]["code"], *code, "{spec:?} -> {body}");
        let text = body.to_string();
        assert!(text.contains(fragment), "{spec:?} -> {body}");
    }
    let huge = format!(
        "name: big\ndescription: \"{}\"\nsteps:\n  - id: a\n    run: 'true'\n",
        "x".repeat(1024 * 1024)
    );
    let (status, body) = app.apply(&huge).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("1 MiB"));

    // (method, path, body, status, message fragment)
    let calls: Vec<(&str, String, Option<serde_json::Value>, u16, &str)> = vec![
        (
            "POST",
            "/workflows/hello/runs".into(),
            Some(json!({"environment": "dev", "inputs": {"times": "many"}})),
            422,
            "must be an integer",
        ),
        (
            "POST",
            "/workflows/hello/runs".into(),
            Some(json!({"environment": "dev", "inputs": {"whom": "x"}})),
            422,
            "unknown input",
        ),
        (
            "POST",
            "/workflows/hello/runs".into(),
            Some(json!({"environment": "qa"})),
            400,
            "unknown environment",
        ),
        (
            "POST",
            "/workflows/hello/runs".into(),
            Some(json!({"environment": "prod"})),
            409,
            "no active version in prod",
        ),
        (
            "POST",
            "/workflows/ghost/runs".into(),
            Some(json!({"environment": "dev"})),
            404,
            "workflow \"ghost\" not found",
        ),
        (
            "POST",
            "/workflows/hello/runs".into(),
            Some(json!({"env": "dev"})),
            422,
            "unknown field",
        ),
        (
            "POST",
            "/runs".into(),
            Some(json!({"environment": "dev"})),
            400,
            "name the workflow",
        ),
        ("GET", "/workflows/ghost".into(), None, 404, "not found"),
        (
            "GET",
            "/workflows/hello?version=9".into(),
            None,
            404,
            "version 9",
        ),
        ("GET", "/runs/not-a-run".into(), None, 404, "not found"),
        (
            "GET",
            "/runs/01a20644-0e0f-7173-b0f1-0405ea096c2b".into(),
            None,
            404,
            "not found",
        ),
        (
            "GET",
            "/runs?status=done".into(),
            None,
            400,
            "unknown status",
        ),
        ("GET", "/runs?before=xyz".into(), None, 400, "next_before"),
        (
            "POST",
            format!("/runs/{finished}/cancel"),
            Some(json!({})),
            409,
            "already finished (succeeded)",
        ),
        ("GET", "/nope".into(), None, 404, "no such API endpoint"),
    ];
    for (method, path, body, status, fragment) in calls {
        let (got, answer) = app.api(method.parse().unwrap(), &path, body.clone()).await;
        assert_eq!(got, status, "{method} {path} {body:?} -> {answer}");
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
            + &answer["error"]["details"].to_string();
        assert!(message.contains(fragment), "{method} {path} -> {answer}");
    }
    // Malformed JSON body.
    let resp = app
        .client
        .post(app.url("/api/v1/workflows/hello/runs"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    // Nothing half-written: only the valid spec exists, with one version.
    let (_, list) = app.api_get("/workflows").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn specs_referencing_a_secret_provider_are_refused_until_one_is_configured() {
    let app = TestApp::spawn().await;
    let spec = "name: needs-db\nsteps:\n  - id: migrate\n    run: ./migrate\n    \
                secrets:\n      DB_PASSWORD: \"vault:kv/data/{env}/db#password\"\n";
    let (status, body) = app.apply(spec).await;
    assert_eq!(status, 422, "{body}");
    let problems = body["error"]["details"]["problems"].to_string();
    assert!(problems.contains("steps[0].secrets.DB_PASSWORD"), "{body}");
    assert!(
        problems.contains("no secret provider \\\"vault\\\""),
        "{body}"
    );
    let (status, _) = app.api_get("/workflows/needs-db").await;
    assert_eq!(status, 404, "nothing was registered");
}

/// Every answer under /api is the API's JSON: an unknown path (in v1 or
/// outside it) is a 404 and a method a path doesn't take a 405 naming it,
/// with `Allow`.
#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_api_shape() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/nope", "/api/nope", "/api", "/api/v2/runs"] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    let resp = app
        .client
        .delete(app.url("/api/v1/runs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert!(resp.headers()["allow"].to_str().unwrap().contains("POST"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("DELETE is not a method of /api/v1/runs"),
        "{body}"
    );
}

/// What schemathesis found the document and the server disagreeing on,
/// now agreed: list limits out of their documented range are refused with
/// a 400 naming `limit` (they were clamped silently), a `null` body where
/// the document allows one reads as no body, a channel is replaced without repeating its name, and an override for a
/// token that isn't there is a 404.
async fn the_api_refuses_what_its_document_refuses_and_takes_what_it_allows(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    app.apply(HELLO).await;
    let run = app.trigger("hello", json!({})).await;

    for (path, max) in [
        ("/runs".to_owned(), 200),
        (format!("/runs/{run}/logs"), 5000),
        ("/alerts".to_owned(), 500),
        ("/alerts/history".to_owned(), 500),
        ("/alerts/notifications".to_owned(), 500),
    ] {
        for limit in [0, max + 1] {
            let (status, body) = app.api_get(&format!("{path}?limit={limit}")).await;
            assert_eq!(status, 400, "{path}?limit={limit}: {body}");
            assert_eq!(body["error"]["details"]["field"], "limit", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(&format!("between 1 and {max}")), "{body}");
        }
        let (status, body) = app.api_get(&format!("{path}?limit={max}")).await;
        assert_eq!(status, 200, "{path}?limit={max}: {body}");
    }
    // Audit sequence numbers are signed 64-bit.
    let (status, body) = app.api_get("/audit?before=9223372036854775808").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "before", "{body}");
    let (status, body) = app.api_get("/audit?before=9223372036854775807").await;
    assert_eq!(status, 200, "{body}");

    // `null` is no body: the id is what's wrong (no such request).
    let nobody = "00000000-0000-0000-0000-000000000000";
    for path in [
        format!("/approvals/{nobody}/approve"),
        format!("/promotions/{nobody}/reject"),
        format!("/canaries/{nobody}/pause"),
    ] {
        let (status, body) = app.api_post(&path, serde_json::Value::Null).await;
        assert_eq!(status, 404, "{path}: {body}");
    }

    // The path names the channel being replaced.
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:1/"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Without a name, or repeating the path's, it is replaced; another
    // name is refused.
    for (put, expected, says) in [
        (
            json!({"kind": "webhook", "url": "http://127.0.0.1:2/"}),
            200,
            "",
        ),
        (
            json!({"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:3/"}),
            200,
            "",
        ),
        (
            json!({"name": "dev-ops", "kind": "webhook", "url": "http://127.0.0.1:3/"}),
            400,
            "can't be renamed",
        ),
    ] {
        let (status, body) = app
            .api(
                reqwest::Method::PUT,
                "/alerts/channels/ops",
                Some(put.clone()),
            )
            .await;
        assert_eq!(status, expected, "{put}: {body}");
        assert!(body.to_string().contains(says), "{put}: {body}");
    }
}
