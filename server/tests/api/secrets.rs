//! Secrets at run time through the `file:` provider (the Vault provider has
//! its own tests in `vault_secrets.rs`): references resolved per attempt and
//! per environment, handed to shell steps as variables and files and to
//! HTTP steps through templates, masked in every stored text, refused in
//! outputs, and each fetch audited.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;
use std::path::Path;

on_both_backends!(
    shell_steps_get_secrets_as_variables_and_files_and_logs_show_none,
    references_resolve_per_environment,
    a_missing_secret_fails_the_attempt_clearly_and_retries_apply,
    outputs_holding_a_secret_are_refused,
    http_steps_send_secrets_in_headers_and_responses_are_masked,
    a_remote_worker_resolves_with_its_own_provider_and_the_server_audits_it,
    the_server_hands_values_only_where_configured_and_only_to_the_leaseholder,
);

const DB_PASSWORD: &str = "correct-horse-battery-staple-dev";
const STAGE_PASSWORD: &str = "correct-horse-battery-staple-stage";
const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Fu\nYW5hcnktY2VydA==\n-----END CERTIFICATE-----\n";

/// A directory of secret files: `{env}/db` per environment and `cert.pem`.
fn secret_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (env, value) in [("dev", DB_PASSWORD), ("stage", STAGE_PASSWORD)] {
        std::fs::create_dir_all(dir.path().join(env)).unwrap();
        // With the newline `echo` leaves: the provider drops it.
        std::fs::write(dir.path().join(env).join("db"), format!("{value}\n")).unwrap();
    }
    std::fs::write(dir.path().join("cert.pem"), CERT).unwrap();
    dir
}

async fn app_with_files(backend: Backend, root: &Path, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--dev", "--secrets-file-root", root.to_str().unwrap()];
    flags.extend_from_slice(extra);
    TestApp::spawn_on(backend, &flags).await
}

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Every log line of a run, as one text.
async fn log_text(app: &TestApp, run: &str) -> String {
    let (status, logs) = app.api_get(&format!("/runs/{run}/logs?limit=1000")).await;
    assert_eq!(status, 200, "{logs}");
    logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `secret.fetch` records about a run, oldest first.
async fn fetch_records(app: &TestApp, run: &str) -> Vec<Value> {
    let (status, page) = app
        .api_get(&format!(
            "/audit?action=secret.fetch&resource=run/{run}&limit=100"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let mut records = page["records"].as_array().unwrap().clone();
    records.reverse();
    records
}

async fn shell_steps_get_secrets_as_variables_and_files_and_logs_show_none(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    let app = app_with_files(backend, files.path(), &[]).await;
    let spec = format!(
        r#"
name: uses-secrets
steps:
  - id: use
    secrets:
      DB_PASSWORD: "file:{root}/{{env}}/db"
      TLS_CERT: {{ ref: "file:{root}/cert.pem", as: file }}
    outputs: [digest, cert_mode, cert_digest]
    run: |
      echo "password is $DB_PASSWORD"
      printf '%s' "$DB_PASSWORD" | base64
      printf 'split: '; printf '%s' "$DB_PASSWORD" | head -c 10; printf '%s\n' "$DB_PASSWORD" | tail -c +11
      echo "to stderr: $DB_PASSWORD" >&2
      cat "$TLS_CERT"
      echo "digest=$(printf '%s' "$DB_PASSWORD" | sha256sum | cut -c1-64)" >> "$GANTRY_OUTPUT"
      echo "cert_mode=$(stat -c %a "$TLS_CERT")" >> "$GANTRY_OUTPUT"
      echo "cert_digest=$(sha256sum < "$TLS_CERT" | cut -c1-64)" >> "$GANTRY_OUTPUT"
"#
    );
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let outputs = &run["steps"][0]["outputs"];
    // The step got the exact values: the variable without the file's
    // newline, the file byte for byte, readable by the step's user only.
    assert_eq!(outputs["digest"], sha256_hex(DB_PASSWORD), "{run:#}");
    // One trailing newline is dropped from a file's value (`echo v > f`).
    assert_eq!(
        outputs["cert_digest"],
        sha256_hex(CERT.strip_suffix('\n').unwrap()),
        "{run:#}"
    );
    assert_eq!(outputs["cert_mode"], "600", "{run:#}");
    let logs = log_text(&app, &id).await;
    assert!(logs.contains("password is ***"), "{logs}");
    assert!(logs.contains("split: ***"), "{logs}");
    assert!(logs.contains("to stderr: ***"), "{logs}");
    assert!(
        logs.contains(&format!(
            "secret DB_PASSWORD: fetched file:{root}/dev/db in"
        )),
        "{logs}"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(DB_PASSWORD);
    for leaked in [DB_PASSWORD, b64.as_str(), "MIIBszCCAVmgAwIBAgIUQ2Fu"] {
        assert!(!logs.contains(leaked), "{leaked} in {logs}");
    }
    // One record per fetch, naming the reference and never the value.
    let records = fetch_records(&app, &id).await;
    assert_eq!(records.len(), 2, "{records:#?}");
    let details: Vec<&Value> = records.iter().map(|r| &r["details"]).collect();
    assert!(
        details.iter().any(|d| d["name"] == "DB_PASSWORD"
            && d["reference"] == format!("file:{root}/dev/db")
            && d["result"] == "ok"
            && d["step"] == "use"
            && d["attempt"] == 1),
        "{details:#?}"
    );
    assert!(records.iter().all(|r| r["outcome"] == "succeeded"
        && r["environment"] == "dev"
        && r["actor"]["kind"] == "worker"));
    assert!(
        !serde_json::to_string(&records)
            .unwrap()
            .contains(DB_PASSWORD)
    );
    // The attempt's directory, secret files included, is gone.
    let work = app.dir.path().join("work").join(&id);
    assert!(!work.join("use-1").exists(), "attempt directory removed");
}

async fn references_resolve_per_environment(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    let app = app_with_files(backend, files.path(), &[]).await;
    let spec = format!(
        "name: per-env\nsteps:\n  - id: show\n    secrets: {{ DB_PASSWORD: \"file:{root}/{{env}}/db\" }}\n    \
         outputs: [digest]\n    run: echo \"digest=$(printf '%s' \"$DB_PASSWORD\" | sha256sum | cut -c1-64)\" >> \"$GANTRY_OUTPUT\"\n"
    );
    let dev = app.apply_and_run(&spec, json!({})).await;
    // Active in stage too (promotion is not what this test is about).
    app.activate_dev_versions_in_stage().await;
    let (status, stage) = app
        .api_post("/workflows/per-env/runs", json!({"environment": "stage"}))
        .await;
    assert_eq!(status, 201, "{stage}");
    let stage = stage["id"].as_str().unwrap();
    let dev = app.finished_run(&dev).await;
    let stage_run = app.finished_run(stage).await;
    assert_eq!(
        dev["steps"][0]["outputs"]["digest"],
        sha256_hex(DB_PASSWORD)
    );
    assert_eq!(
        stage_run["steps"][0]["outputs"]["digest"],
        sha256_hex(STAGE_PASSWORD)
    );
    let records = fetch_records(&app, stage).await;
    assert_eq!(records[0]["environment"], "stage");
    assert_eq!(
        records[0]["details"]["reference"],
        format!("file:{root}/stage/db")
    );
}

async fn a_missing_secret_fails_the_attempt_clearly_and_retries_apply(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    let app = app_with_files(backend, files.path(), &[]).await;
    // A provider that isn't configured is refused at apply, naming what is.
    let (status, body) = app
        .apply("name: nope\nsteps:\n  - id: a\n    secrets: { T: \"vault:kv/data/x#y\" }\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("configured: file"),
        "names what is configured: {body}"
    );
    // A configured provider without the value fails each attempt, clearly,
    // and the step's retries apply.
    let spec = format!(
        "name: missing\nsteps:\n  - id: use\n    retries: {{ max_attempts: 2, backoff: fixed, initial: 10ms }}\n    \
         secrets: {{ TOKEN: \"file:{root}/absent\" }}\n    run: echo never\n"
    );
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(step_statuses(&run)["use"], "failed", "{run:#}");
    let attempts = run["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "retried: {run:#}");
    for attempt in attempts {
        assert_eq!(
            attempt["error"],
            format!("secret TOKEN (file:{root}/absent): not found: file:{root}/absent")
        );
    }
    let logs = log_text(&app, &id).await;
    assert!(!logs.contains("never"), "the script never ran: {logs}");
    let records = fetch_records(&app, &id).await;
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r["outcome"] == "failed" && r["details"]["result"] == "not_found")
    );
    // A path outside the root is refused, not read.
    let spec = "name: escape\nsteps:\n  - id: use\n    secrets: { T: \"file:/etc/hostname\" }\n    run: echo never\n";
    let id = app.apply_and_run(spec, json!({})).await;
    let run = app.finished_run(&id).await;
    let error = run["steps"][0]["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("permission denied"), "{error}");
    assert!(error.contains("outside the readable directory"), "{error}");
}

async fn outputs_holding_a_secret_are_refused(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    let app = app_with_files(backend, files.path(), &[]).await;
    let spec = format!(
        "name: leaky\nsteps:\n  - id: leak\n    secrets: {{ DB_PASSWORD: \"file:{root}/dev/db\" }}\n    \
         outputs: [copy, fine]\n    run: |\n      echo \"fine=ok\" >> \"$GANTRY_OUTPUT\"\n      \
         echo \"copy=$(printf '%s' \"$DB_PASSWORD\" | base64)\" >> \"$GANTRY_OUTPUT\"\n"
    );
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    let step = &run["steps"][0];
    assert_eq!(step["outputs"], json!({}), "nothing stored: {run:#}");
    let error = step["attempts"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("output copy holds a secret's value"),
        "{error}"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(DB_PASSWORD);
    assert!(!run.to_string().contains(&b64));
}

async fn http_steps_send_secrets_in_headers_and_responses_are_masked(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    let echo = echo_server().await;
    let app = app_with_files(
        backend,
        files.path(),
        &["--http-step-allow", "127.0.0.1@dev"],
    )
    .await;
    let spec = format!(
        r#"
name: call
steps:
  - id: call
    secrets: {{ API_TOKEN: "file:{root}/dev/db" }}
    http:
      method: POST
      url: "http://{echo}/echo"
      headers: {{ Authorization: "Bearer ${{{{ secrets.API_TOKEN }}}}" }}
      body: '{{"token": "${{{{ secrets.API_TOKEN }}}}"}}'
"#
    );
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let logs = log_text(&app, &id).await;
    // The server saw the value (its answer says so), the log shows masks.
    assert!(logs.contains("authorization: Bearer ***"), "{logs}");
    assert!(logs.contains("body: {\"token\": \"***\"}"), "{logs}");
    assert!(logs.contains("hex: ***"), "{logs}");
    assert!(!logs.contains(DB_PASSWORD), "{logs}");
    assert!(!logs.contains(&hex::encode(DB_PASSWORD)), "{logs}");
}

/// Answers `POST /echo` with the request's Authorization header, its body,
/// and the header's token in hex: what a careless API might echo back.
async fn echo_server() -> std::net::SocketAddr {
    use axum::http::HeaderMap;
    async fn echo(headers: HeaderMap, body: String) -> String {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let token = auth.trim_start_matches("Bearer ");
        format!(
            "authorization: {auth}\nbody: {body}\nhex: {}\n",
            hex::encode(token)
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route("/echo", axum::routing::post(echo));
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn a_remote_worker_resolves_with_its_own_provider_and_the_server_audits_it(backend: Backend) {
    let files = secret_files();
    let root = files.path().display();
    // The server's own worker is off and it has no file provider of its
    // own... but apply needs one configured: give the server an empty one.
    let empty = tempfile::tempdir().unwrap();
    let app = app_with_files(backend, empty.path(), &["--worker-slots", "0"]).await;
    let token = app.worker_token("remote-1").await;
    let _worker = app.spawn_worker_process(
        &token,
        "remote-1",
        &["--secrets-file-root", files.path().to_str().unwrap()],
    );
    let spec = format!(
        "name: remote\nsteps:\n  - id: use\n    secrets: {{ DB_PASSWORD: \"file:{root}/{{env}}/db\" }}\n    \
         outputs: [digest]\n    run: |\n      echo \"pw $DB_PASSWORD\"\n      \
         echo \"digest=$(printf '%s' \"$DB_PASSWORD\" | sha256sum | cut -c1-64)\" >> \"$GANTRY_OUTPUT\"\n"
    );
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(
        run["steps"][0]["outputs"]["digest"],
        sha256_hex(DB_PASSWORD)
    );
    let logs = log_text(&app, &id).await;
    assert!(logs.contains("pw ***"), "{logs}");
    let records = fetch_records(&app, &id).await;
    assert_eq!(records.len(), 1, "{records:#?}");
    // The worker token is the actor; the environment is the run's.
    assert_eq!(
        records[0]["actor"]["name"], "worker remote-1",
        "{records:#?}"
    );
    assert_eq!(records[0]["actor"]["kind"], "worker");
    assert_eq!(records[0]["environment"], "dev");
    assert_eq!(records[0]["details"]["result"], "ok");
}

async fn the_server_hands_values_only_where_configured_and_only_to_the_leaseholder(
    backend: Backend,
) {
    use crate::remote_workers::exec;
    let files = secret_files();
    let root = files.path().display();
    let app = app_with_files(
        backend,
        files.path(),
        &[
            "--worker-slots",
            "0",
            "--remote-worker-secrets",
            "server@stage",
        ],
    )
    .await;
    let holder = app.worker_token("holder").await;
    let other = app.worker_token("other").await;
    let spec = format!(
        "name: handed\nsteps:\n  - id: use\n    secrets: {{ DB_PASSWORD: \"file:{root}/{{env}}/db\" }}\n    run: \"true\"\n"
    );
    let dev = app.apply_and_run(&spec, json!({})).await;
    let claim = json!({ "instance": "w1", "limit": 1, "wait_ms": 5000, "lease_ms": 30000 });
    let (status, leases) = exec(&app, &holder, "claim", claim.clone()).await;
    assert_eq!(status, 200, "{leases}");
    assert_eq!(leases[0]["run_id"], dev.as_str());
    assert_eq!(
        leases[0]["secrets_from_server"], false,
        "dev is the worker's"
    );
    let attempt = json!({ "instance": "w1", "run_id": dev, "step_id": "use", "attempt": 1 });
    // Deny by default: dev's values never leave the server.
    let (status, body) = exec(&app, &holder, "secrets", attempt.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.to_string().contains("--remote-worker-secrets"),
        "{body}"
    );
    // Stage is set to `server`: the leaseholder gets the value, audited.
    app.activate_dev_versions_in_stage().await;
    let (status, stage) = app
        .api_post("/workflows/handed/runs", json!({"environment": "stage"}))
        .await;
    assert_eq!(status, 201, "{stage}");
    let stage = stage["id"].as_str().unwrap().to_owned();
    let (status, leases) = exec(&app, &holder, "claim", claim).await;
    assert_eq!(status, 200, "{leases}");
    assert_eq!(leases[0]["run_id"], stage.as_str());
    assert_eq!(leases[0]["secrets_from_server"], true);
    let attempt = json!({ "instance": "w1", "run_id": stage, "step_id": "use", "attempt": 1 });
    // Another worker can't have them, even naming the same instance.
    let (status, body) = exec(&app, &other, "secrets", attempt.clone()).await;
    assert_eq!(status, 409, "{body}");
    let (status, delivery) = exec(&app, &holder, "secrets", attempt).await;
    assert_eq!(status, 200, "{delivery}");
    assert_eq!(delivery["secrets"][0]["name"], "DB_PASSWORD");
    assert_eq!(delivery["secrets"][0]["value"], STAGE_PASSWORD);
    assert_eq!(delivery["accesses"][0]["outcome"], "ok");
    let records = fetch_records(&app, &stage).await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["actor"]["name"], "worker holder");
    assert_eq!(records[0]["environment"], "stage");
}
