//! Steps reading secrets from a real OpenBao through Gantry's flags:
//! per-environment paths and mounts, a rotation picked up by the next
//! attempt, and a provider that is slow or down failing the attempt clearly
//! (no hang) while the step's retries get through once it answers.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::openbao::{OpenBao, secret_file};
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

on_both_backends!(
    approle_kv_reads_follow_environments_and_rotations,
    a_slow_provider_fails_the_attempt_on_time_and_the_retry_reads_it,
    a_provider_that_is_down_says_so,
    a_cached_value_serves_until_invalidated,
);

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

const DIGEST_STEP: &str = r#"
    outputs: [digest]
    run: |
      echo "using $DB_PASSWORD"
      echo "digest=$(printf '%s' "$DB_PASSWORD" | sha256sum | cut -c1-64)" >> "$GANTRY_OUTPUT"
"#;

async fn run_in(app: &TestApp, workflow: &str, environment: &str) -> Value {
    let (status, run) = app
        .api_post(
            &format!("/workflows/{workflow}/runs"),
            json!({ "environment": environment }),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    app.finished_run(run["id"].as_str().unwrap()).await
}

async fn fetch_details(app: &TestApp, run: &Value) -> Vec<Value> {
    let id = run["id"].as_str().unwrap();
    let (_, page) = app
        .api_get(&format!("/audit?action=secret.fetch&resource=run/{id}"))
        .await;
    let mut records: Vec<Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["details"].clone())
        .collect();
    records.reverse();
    records
}

async fn approle_kv_reads_follow_environments_and_rotations(backend: Backend) {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    // Stage's entries live in a mount of their own, named by its override.
    let stage_mount = bao.kv_mount().await;
    bao.put(&mount, "dev/db", json!({"password": "dev-password-v1"}))
        .await;
    bao.put(
        &stage_mount,
        "stage/db",
        json!({"password": "stage-password"}),
    )
    .await;
    let dev_policy = bao.read_policy(&mount, "dev/*").await;
    let stage_policy = bao.read_policy(&stage_mount, "stage/*").await;
    let role = bao.approle(&[&dev_policy, &stage_policy]).await;
    let creds = tempfile::tempdir().unwrap();
    let secret_id = secret_file(creds.path(), "secret-id", &role.secret_id);
    let stage_override = format!("stage:mount={stage_mount}");
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--vault-addr",
            &bao.addr,
            "--vault-role-id",
            &role.role_id,
            "--vault-secret-id-file",
            secret_id.to_str().unwrap(),
            "--vault-approle-mount",
            &role.mount,
            "--vault-env-override",
            &stage_override,
        ],
    )
    .await;
    let spec = format!(
        "name: kv\nsteps:\n  - id: use\n    secrets: {{ DB_PASSWORD: \"vault:{mount}/data/{{env}}/db#password\" }}{DIGEST_STEP}"
    );
    let (status, body) = app.apply(&spec).await;
    assert_eq!(status, 201, "{body}");
    app.activate_dev_versions_in_stage().await;
    let dev = run_in(&app, "kv", "dev").await;
    assert_eq!(dev["status"], "succeeded", "{dev:#}");
    assert_eq!(
        dev["steps"][0]["outputs"]["digest"],
        sha256_hex("dev-password-v1")
    );
    let stage = run_in(&app, "kv", "stage").await;
    assert_eq!(stage["status"], "succeeded", "{stage:#}");
    assert_eq!(
        stage["steps"][0]["outputs"]["digest"],
        sha256_hex("stage-password")
    );
    // Rotated in Vault: the next attempt reads the new version, no restart.
    let version = bao
        .put(&mount, "dev/db", json!({"password": "dev-password-v2"}))
        .await;
    assert_eq!(version, 2);
    let after = run_in(&app, "kv", "dev").await;
    assert_eq!(
        after["steps"][0]["outputs"]["digest"],
        sha256_hex("dev-password-v2")
    );
    let (d1, d2) = (
        fetch_details(&app, &dev).await,
        fetch_details(&app, &after).await,
    );
    assert_eq!(d1[0]["version"], 1, "{d1:#?}");
    assert_eq!(d2[0]["version"], 2, "{d2:#?}");
    assert_eq!(
        d2[0]["reference"],
        format!("vault:{mount}/data/dev/db#password")
    );
    assert_eq!(d2[0]["provider"], "vault");
    let s = fetch_details(&app, &stage).await;
    assert_eq!(
        s[0]["reference"],
        format!("vault:{mount}/data/stage/db#password")
    );
    let (_, logs) = app
        .api_get(&format!("/runs/{}/logs", after["id"].as_str().unwrap()))
        .await;
    let logs = logs.to_string();
    assert!(logs.contains("using ***"), "{logs}");
    assert!(logs.contains("version 2 in"), "{logs}");
    assert!(!logs.contains("dev-password"), "{logs}");
}

/// A TCP forwarder to OpenBao whose first connection is accepted and then
/// ignored (a provider that hangs); later ones are forwarded.
async fn hanging_once_proxy(target: &str) -> (String, Arc<AtomicUsize>) {
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                held.push(inbound);
                continue;
            }
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

async fn a_slow_provider_fails_the_attempt_on_time_and_the_retry_reads_it(backend: Backend) {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "dev/db", json!({"password": "through-the-proxy"}))
        .await;
    let token = bao.token(&[&bao.read_policy(&mount, "dev/*").await]).await;
    let creds = tempfile::tempdir().unwrap();
    let token_file = secret_file(creds.path(), "token", &token);
    let (proxy, connections) = hanging_once_proxy(&bao.addr).await;
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--vault-addr",
            &proxy,
            "--vault-token-file",
            token_file.to_str().unwrap(),
            "--secrets-fetch-timeout",
            "1s",
        ],
    )
    .await;
    let spec = format!(
        "name: slow\nsteps:\n  - id: use\n    retries: {{ max_attempts: 2, backoff: fixed, initial: 10ms }}\n    \
         secrets: {{ DB_PASSWORD: \"vault:{mount}/data/dev/db#password\" }}{DIGEST_STEP}"
    );
    let started = std::time::Instant::now();
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "no hang: {:?}",
        started.elapsed()
    );
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let attempts = run["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{run:#}");
    assert_eq!(
        attempts[0]["error"],
        format!(
            "secret DB_PASSWORD (vault:{mount}/data/dev/db#password): provider unreachable: no answer after 1 s"
        )
    );
    assert_eq!(
        run["steps"][0]["outputs"]["digest"],
        sha256_hex("through-the-proxy")
    );
    assert!(connections.load(Ordering::SeqCst) >= 2);
    let details = fetch_details(&app, &run).await;
    let results: Vec<&str> = details
        .iter()
        .map(|d| d["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["timeout", "ok"]);
}

async fn a_provider_that_is_down_says_so(backend: Backend) {
    // Port 1 on loopback: privileged and never bound here, so refused at
    // once (a port freed by this test could be taken by another's server).
    let addr = "http://127.0.0.1:1".to_owned();
    let creds = tempfile::tempdir().unwrap();
    let token_file = secret_file(creds.path(), "token", "s.not-a-real-token");
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--vault-addr",
            &addr,
            "--vault-token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    let spec = "name: down\nsteps:\n  - id: use\n    secrets: { T: \"vault:kv/data/x#y\" }\n    run: echo never\n";
    let started = std::time::Instant::now();
    let id = app.apply_and_run(spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(run["status"], "failed", "{run:#}");
    let error = run["steps"][0]["attempts"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("secret T (vault:kv/data/x#y): provider unreachable:"),
        "{error}"
    );
    assert!(!error.contains("s.not-a-real-token"), "{error}");
}

async fn a_cached_value_serves_until_invalidated(backend: Backend) {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "dev/db", json!({"password": "cached-v1"}))
        .await;
    let token = bao.token(&[&bao.read_policy(&mount, "dev/*").await]).await;
    let creds = tempfile::tempdir().unwrap();
    let token_file = secret_file(creds.path(), "token", &token);
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--vault-addr",
            &bao.addr,
            "--vault-token-file",
            token_file.to_str().unwrap(),
            "--secrets-cache-ttl",
            "vault=1h",
        ],
    )
    .await;
    let spec = format!(
        "name: cached\nsteps:\n  - id: use\n    secrets: {{ DB_PASSWORD: \"vault:{mount}/data/{{env}}/db#password\" }}{DIGEST_STEP}"
    );
    let (status, body) = app.apply(&spec).await;
    assert_eq!(status, 201, "{body}");
    let digest = |run: &Value| run["steps"][0]["outputs"]["digest"].clone();
    assert_eq!(
        digest(&run_in(&app, "cached", "dev").await),
        sha256_hex("cached-v1")
    );
    bao.put(&mount, "dev/db", json!({"password": "cached-v2"}))
        .await;
    // Within the TTL the cached value still serves…
    assert_eq!(
        digest(&run_in(&app, "cached", "dev").await),
        sha256_hex("cached-v1")
    );
    // …until someone drops it, through the CLI as an operator would.
    let reference = format!("vault:{mount}/data/dev/db#password");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["secrets", "invalidate", &reference])
        .env("GANTRY_URL", app.url(""))
        .env("GANTRY_TOKEN", crate::helpers::TOKEN)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "dropped 1 cached value(s)"
    );
    assert_eq!(
        digest(&run_in(&app, "cached", "dev").await),
        sha256_hex("cached-v2")
    );
    // Recorded, by whom and what.
    let (_, page) = app.api_get("/audit?action=secret.invalidate").await;
    let record = &page["records"][0];
    assert_eq!(record["details"]["reference"], reference.as_str());
    assert_eq!(record["details"]["removed"], 1);
    // Bad requests say what to fix; a provider without a cache says so.
    let (status, body) = app
        .api_post(
            "/secrets/invalidate",
            json!({"reference": "vault:kv/data/{env}/db#p"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("filled in"), "{body}");
    let (status, body) = app.api_post("/secrets/invalidate", json!({})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .api_post("/secrets/invalidate", json!({"provider": "vault-db"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"removed": 0, "cached": false}));
}
