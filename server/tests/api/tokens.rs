//! Service tokens: admins make them (API or `gantry token create` against
//! the database), each shown once, stored only as a hash, scoped by
//! `role@environment`, refused once revoked or expired; `GET /api/v1/me`
//! says what a caller holds and why.

use crate::audit::all_records;
use crate::audit_processes::serve;
use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(service_tokens_drive_the_api_until_revoked);

const HELLO: &str = "name: hello\nsteps:\n  - id: greet\n    run: echo hi\n";

/// A request with another bearer token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    app.api_post("/tokens", body).await
}

async fn service_tokens_drive_the_api_until_revoked(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--worker-slots", "0"]).await;
    assert_eq!(app.apply(HELLO).await.0, 201);
    let (status, created) = create(
        &app,
        json!({"name": "ci-deploy", "roles": ["operator@dev", "viewer"], "expires_in": "30d"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gantry_") && secret.len() > 40);
    let token = &created["token"];
    assert_eq!(token["roles"], json!(["operator@dev", "viewer@*"]));
    let hint = token["hint"].as_str().unwrap();
    assert!(secret.starts_with(hint.trim_end_matches('…')), "{hint}");
    assert_eq!(token["created_by"], "token bootstrap");

    // Listed without its secret; stored only as a hash.
    let (_, list) = app.api_get("/tokens").await;
    assert!(!list.to_string().contains(&secret));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "ci-deploy")
    );
    let stored = app
        .count_sql(&format!(
            "SELECT count(*) FROM api_tokens WHERE token_hash = '{secret}' OR hint = '{secret}'"
        ))
        .await;
    assert_eq!(stored, 0);

    // It is who it says, with exactly its roles.
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let (status, me) = call(&app, get.clone(), "/me", &secret, None).await;
    assert_eq!(status, 200);
    assert_eq!(me["kind"], "service_token");
    assert_eq!(me["username"], "ci-deploy");
    assert_eq!(
        me["roles"],
        json!([
            {"role": "viewer", "environment": "*", "source": "token ci-deploy"},
            {"role": "operator", "environment": "dev", "source": "token ci-deploy"},
        ])
    );
    let run = json!({"workflow": "hello", "environment": "dev"});
    assert_eq!(
        call(&app, post.clone(), "/runs", &secret, Some(run))
            .await
            .0,
        201
    );
    let run = json!({"workflow": "hello", "environment": "prod"});
    assert_eq!(
        call(&app, post.clone(), "/runs", &secret, Some(run))
            .await
            .0,
        403
    );
    let other = json!({"name": "sneaky", "roles": ["viewer"]});
    assert_eq!(
        call(&app, post.clone(), "/tokens", &secret, Some(other))
            .await
            .0,
        403
    );
    let (_, list) = app.api_get("/tokens").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci-deploy")
        .unwrap()
        .clone();
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Revoked: refused on its very next request.
    let (status, revoked) = app
        .api(reqwest::Method::DELETE, "/tokens/ci-deploy", None)
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(call(&app, get.clone(), "/me", &secret, None).await.0, 401);
    assert_eq!(
        app.api(reqwest::Method::DELETE, "/tokens/nope", None)
            .await
            .0,
        404
    );

    // Expired tokens are refused too.
    let (_, second) = create(&app, json!({"name": "short", "roles": ["viewer"]})).await;
    let short = second["secret"].as_str().unwrap().to_owned();
    assert_eq!(call(&app, get.clone(), "/me", &short, None).await.0, 200);
    app.exec_sql("UPDATE api_tokens SET expires_at = created_at WHERE name = 'short'")
        .await;
    assert_eq!(call(&app, get, "/me", &short, None).await.0, 401);

    // On the record, without a secret.
    let records = all_records(&app).await;
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains(&secret) && !text.contains(&short));
    let made: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "token.create" && r["resource"] == "token/ci-deploy")
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(
        made[0]["details"]["grants"],
        json!(["operator@dev", "viewer@*"])
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "token.revoke" && r["outcome"] == "succeeded")
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "token.create" && r["outcome"] == "denied")
    );
}

#[tokio::test]
async fn token_requests_are_checked_and_scoped_admins_grant_only_their_reach() {
    let app = TestApp::spawn().await;
    let field = |body: &Value| body["error"]["details"]["field"].clone();
    for (body, bad) in [
        (json!({"name": "Bad Name", "roles": ["viewer"]}), "name"),
        (json!({"name": "x", "roles": []}), "roles"),
        (json!({"name": "x", "roles": ["root@dev"]}), "roles"),
        (json!({"name": "x", "roles": ["viewer@qa"]}), "roles"),
        (
            json!({"name": "x", "roles": ["viewer"], "expires_in": "400d"}),
            "expires_in",
        ),
    ] {
        let (status, answer) = create(&app, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(field(&answer), bad, "{answer}");
    }
    let (status, _) = create(&app, json!({"name": "x", "roles": ["viewer"], "extra": 1})).await;
    assert_eq!(status, 422, "unknown fields are refused");

    // A token that may make tokens (none outliving it), within its reach.
    let (_, dev_admin) = create(
        &app,
        json!({"name": "dev-admin", "roles": ["admin@dev"], "can_create_tokens": true}),
    )
    .await;
    let dev_admin = dev_admin["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        create(&app, json!({"name": "dev-admin", "roles": ["viewer"]}))
            .await
            .0,
        409
    );
    let post = reqwest::Method::POST;
    let make = |name: &str, role: &str| json!({"name": name, "roles": [role], "expires_in": "30d"});
    let (status, answer) = call(
        &app,
        post.clone(),
        "/tokens",
        &dev_admin,
        Some(make("a", "operator@prod")),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin role in prod")
    );
    assert_eq!(
        call(
            &app,
            post.clone(),
            "/tokens",
            &dev_admin,
            Some(make("b", "viewer@*"))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            post,
            "/tokens",
            &dev_admin,
            Some(make("c", "operator@dev"))
        )
        .await
        .0,
        201
    );

    // People see their own roles and where they came from.
    app.sign_in_as("operator").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "user");
    assert_eq!(me["display_name"], "Oscar Operator");
    assert_eq!(
        me["roles"],
        json!([{"role": "operator", "environment": "*", "source": "dev seed"}])
    );
}

/// Runs `gantry token ARGS…`.
async fn gantry_token(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .arg("token")
        .args(args)
        .env_remove("GANTRY_DATABASE_URL")
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_makes_the_first_token_before_any_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("gantry.db").display());
    let out = gantry_token(&[
        "create",
        "--database-url",
        &db,
        "--name",
        "first-admin",
        "--role",
        "admin@*",
        "--expires",
        "7d",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        secret.starts_with("gantry_"),
        "only the secret on stdout: {secret}"
    );
    let bad = gantry_token(&[
        "create",
        "--database-url",
        &db,
        "--name",
        "x",
        "--role",
        "boss@dev",
    ])
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("roles"));

    // A server started later on that database accepts it.
    let (_server, addr) = serve(&db, &dir.path().join("srv"), &[]).await;
    let client = reqwest::Client::new();
    let me: Value = client
        .get(format!("http://{addr}/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "first-admin");
    // Made on the command line: it acts for the system, and may not make
    // tokens unless made with --can-create-tokens.
    let listed: Value = client
        .get(format!("http://{addr}/api/v1/tokens"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "first-admin")
        .unwrap();
    assert_eq!(first["maker"]["id"], "system", "{first}");
    assert_eq!(first["can_create_tokens"], false, "{first}");

    // A SCIM token for the identity provider, no roles: it provisions.
    let scim = gantry_token(&["create", "--database-url", &db, "--name", "okta", "--scim"]).await;
    assert!(
        scim.status.success(),
        "{}",
        String::from_utf8_lossy(&scim.stderr)
    );
    let scim_secret = String::from_utf8_lossy(&scim.stdout).trim().to_owned();
    let config = client
        .get(format!("http://{addr}/scim/v2/ServiceProviderConfig"))
        .bearer_auth(&scim_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
    let mixed = gantry_token(&[
        "create",
        "--database-url",
        &db,
        "--name",
        "y",
        "--scim",
        "--role",
        "viewer",
    ])
    .await;
    assert_eq!(mixed.status.code(), Some(2), "--scim takes no --role");

    let list = gantry_token(&["list", "--database-url", &db]).await;
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("first-admin") && listed.contains("active"),
        "{listed}"
    );
    assert!(listed.contains("(SCIM provisioning)"), "{listed}");
    assert!(
        listed.contains("for system"),
        "CLI-made tokens act for the system: {listed}"
    );
    assert!(!listed.contains(&secret));
    let out = gantry_token(&["revoke", "--database-url", &db, "first-admin"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = client
        .get(format!("http://{addr}/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "revocation holds from the next request");
}

#[tokio::test]
async fn a_revoked_bootstrap_token_stays_revoked_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("gantry.db").display());
    let (mut first, addr) = serve(&db, &dir.path().join("a"), &[]).await;
    let client = reqwest::Client::new();
    let me = |addr: std::net::SocketAddr| {
        let client = client.clone();
        async move {
            client
                .get(format!("http://{addr}/api/v1/me"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(addr).await, 200);
    let status = client
        .delete(format!("http://{addr}/api/v1/tokens/bootstrap"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    // Started again with the same GANTRY_BOOTSTRAP_TOKEN: still revoked.
    let (_second, addr) = serve(&db, &dir.path().join("b"), &[]).await;
    assert_eq!(me(addr).await, 401);
}

#[tokio::test]
async fn a_scim_token_holds_no_roles_and_is_refused_outside_scim() {
    let app = TestApp::spawn_with(&[]).await;
    let (status, created) = create(&app, json!({"name": "okta", "scim": true})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["token"]["kind"], "scim");
    assert_eq!(created["token"]["roles"], json!([]));
    let secret = created["secret"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, reqwest::Method::GET, "/me", &secret, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/scim/v2 only"),
        "{body}"
    );

    // Roles and SCIM don't mix; only admins of every environment make one.
    let (status, body) = create(
        &app,
        json!({"name": "okta-2", "scim": true, "roles": ["viewer"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, narrow) = create(
        &app,
        json!({"name": "dev-admin", "roles": ["admin@dev", "admin@stage", "admin@prod"]}),
    )
    .await;
    let narrow = narrow["secret"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/tokens",
        &narrow,
        Some(json!({"name": "okta-3", "scim": true})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (_, list) = app.api_get("/tokens").await;
    let kinds: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("okta", "scim")), "{kinds:?}");
    assert!(!kinds.iter().any(|(n, _)| *n == "okta-3"), "{kinds:?}");
}
