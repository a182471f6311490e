//! A person's data on request (docs/privacy.md): the export holds what
//! Gantry keeps about them; erasing a departed person leaves a pseudonym
//! everywhere outside the audit log and erased fields inside it, while the
//! chain still verifies and still catches tampering; audit records written
//! before erasure existed are converted once at start-up, and a chain that
//! does not verify is left alone.

use crate::audit::{all_records, text as verify_text, verify_db};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use gantry_core::audit::{AuditRecord, canonical_json};
use serde_json::{Value, json};

on_both_backends!(
    an_erased_person_reads_as_a_pseudonym_and_the_chain_still_verifies,
    records_written_before_erasure_existed_are_converted_once,
    a_chain_that_does_not_verify_is_not_converted_and_erasure_says_why,
);

const REPORT: &str = "name: nightly-report\nsteps:\n  - id: a\n    run: echo hi\n";

async fn user_id(app: &TestApp, username: &str) -> String {
    let (status, user) = app.api_get(&format!("/users/{username}")).await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

/// Oscar signs in and triggers a run; Vera signs in. Oscar's id and run.
async fn some_history(app: &TestApp) -> (String, String) {
    assert_eq!(app.apply(REPORT).await.0, 201);
    let oscar = app.person("operator").await;
    let (status, run) = oscar
        .post(
            "/workflows/nightly-report/runs",
            json!({"environment": "dev"}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    app.person("viewer").await;
    (
        user_id(app, "operator").await,
        run["id"].as_str().unwrap().to_owned(),
    )
}

fn assert_verifies(out: &std::process::Output) {
    assert!(out.status.success(), "{}", verify_text(out));
}

fn assert_broken(out: &std::process::Output, seq: i64, kind: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", verify_text(out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("record {seq} {kind}")),
        "{}",
        verify_text(out)
    );
}

async fn an_erased_person_reads_as_a_pseudonym_and_the_chain_still_verifies(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let (oscar, run_id) = some_history(&app).await;

    // The export: the account, their rows, their audit records.
    let (status, export) = app.api_get("/users/operator/export").await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["format"], "gantry-person-export/v1");
    assert_eq!(export["account"]["username"], "operator");
    assert_eq!(export["account"]["roles"][0]["role"], "operator");
    let runs = export["records"]["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{export}");
    assert_eq!(runs[0]["triggered_by"], "Oscar Operator");
    assert_eq!(runs[0]["id"], run_id.as_str());
    assert!(!export["records"]["sessions"].as_array().unwrap().is_empty());
    let theirs = export["audit_records"].as_array().unwrap();
    assert!(
        theirs
            .iter()
            .any(|r| r["action"] == "run.trigger" && r["actor"]["name"] == "Oscar Operator"),
        "{export}"
    );
    assert!(theirs.iter().all(|r| r["actor"]["id"] == oscar.as_str()));
    assert!(
        !export.to_string().contains("Vera Viewer"),
        "another person's data is not in the export"
    );
    let (status, _) = app.api_get("/users/nobody/export").await;
    assert_eq!(status, 404);
    let viewer = app.person("viewer").await;
    let (status, _) = viewer.get("/users/operator/export").await;
    assert_eq!(status, 403, "only admins export");
    let (status, _) = viewer.get("/users/operator").await;
    assert_eq!(status, 403, "viewers don't review access");

    // An enabled account is refused: the identity provider deprovisions first.
    let (status, refused) = app.api_post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("still active"), "{refused}");
    assert_eq!(
        app.api_post("/users/operator/disable", json!({})).await.0,
        200
    );
    let (status, _) = viewer.post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 403, "only admins erase");

    let (status, report) = app.api_post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 200, "{report}");
    let pseudonym = report["pseudonym"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("erased-"), "{report}");
    assert_eq!(report["rows"]["runs"], 1, "{report}");
    assert!(
        report["rows"]["sessions"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert!(
        report["audit_fields_erased"].as_u64().unwrap() >= 4,
        "{report}"
    );

    // Erasing again finds nothing more of theirs, and says so.
    let (status, again) = app
        .api_post(&format!("/users/{oscar}/erase"), json!({}))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["audit_fields_erased"], 0, "{again}");
    assert_eq!(again["rows"].get("runs"), None, "{again}");

    // Outside the audit log: the pseudonym.
    let (_, user) = app.api_get(&format!("/users/{oscar}")).await;
    assert_eq!(user["username"], pseudonym.as_str());
    assert_eq!(user["display_name"], pseudonym.as_str());
    assert_eq!(user["email"], Value::Null);
    let (_, run) = app.api_get(&format!("/runs/{run_id}")).await;
    assert_eq!(run["triggered_by"], pseudonym.as_str(), "{run}");

    // Inside it: their fields erased, everyone else's intact.
    let records = all_records(&app).await;
    let mine: Vec<&Value> = records
        .iter()
        .filter(|r| r["actor"]["id"] == oscar.as_str())
        .collect();
    assert!(mine.len() >= 2, "a sign-in and a trigger");
    for r in &mine {
        assert_eq!(r["actor"]["name"], "[erased]", "{r}");
        assert_eq!(r["source_ip"], Value::Null, "{r}");
    }
    let disabled = records
        .iter()
        .find(|r| r["action"] == "user.disable")
        .unwrap();
    assert_eq!(disabled["details"]["username"], "[erased]");
    assert_eq!(disabled["actor"]["name"], "token bootstrap");
    let vera = records
        .iter()
        .find(|r| r["action"] == "session.sign_in" && r["actor"]["name"] == "Vera Viewer");
    assert!(vera.is_some(), "another person's records are untouched");
    let erasure = records
        .iter()
        .find(|r| r["action"] == "user.erase" && r["outcome"] == "succeeded")
        .unwrap();
    assert_eq!(erasure["resource"], format!("user/{oscar}"));
    assert!(!erasure.to_string().contains("Oscar"), "{erasure}");
    for sql in [
        format!("SELECT COUNT(*) FROM audit_personal WHERE subject = '{oscar}'"),
        // Refusals about the account (a viewer's export above) name it by id.
        "SELECT COUNT(*) FROM audit_log WHERE actor_name LIKE '%Oscar%' OR details LIKE '%Oscar%' OR details LIKE '%operator%' OR resource LIKE '%operator%'".into(),
        "SELECT COUNT(*) FROM runs WHERE triggered_by LIKE '%Oscar%'".into(),
        "SELECT COUNT(*) FROM users WHERE username = 'operator' OR display_name LIKE '%Oscar%'".into(),
    ] {
        assert_eq!(app.count_sql(&sql).await, 0, "{sql}");
    }
    let (status, again) = app.api_get(&format!("/users/{oscar}/export")).await;
    assert_eq!(status, 200);
    assert!(!again.to_string().contains("Oscar Operator"), "{again}");

    // The chain verifies, from the command line and the API.
    assert_verifies(&verify_db(&app).await);
    let (_, status) = app.api_get("/audit/verify").await;
    assert_eq!(status["problem"], Value::Null, "{status}");

    // And still catches tampering with what is left.
    let vera_id = user_id(&app, "viewer").await;
    let seq = app
        .count_sql(&format!(
            "SELECT MIN(seq) FROM audit_personal WHERE subject = '{vera_id}'"
        ))
        .await;
    app.exec_sql(&format!(
        "UPDATE audit_personal SET value = '\"Mallory\"' WHERE seq = {seq} AND field = 'actor.name'"
    ))
    .await;
    assert_broken(&verify_db(&app).await, seq, "edited");
    app.exec_sql(&format!(
        "UPDATE audit_personal SET value = '\"Vera Viewer\"' WHERE seq = {seq} AND field = 'actor.name'"
    ))
    .await;
    assert_verifies(&verify_db(&app).await);
    // Removed without an erasure on record: deleted, named by the record.
    app.exec_sql("CREATE TABLE kept_personal AS SELECT * FROM audit_personal")
        .await;
    app.exec_sql(&format!(
        "DELETE FROM audit_personal WHERE subject = '{vera_id}'"
    ))
    .await;
    assert_broken(&verify_db(&app).await, seq, "deleted");
    app.exec_sql("INSERT INTO audit_personal SELECT * FROM kept_personal WHERE seq NOT IN (SELECT seq FROM audit_personal)")
        .await;
    assert_verifies(&verify_db(&app).await);
    // The erasure's own record rewritten to name someone else.
    let erased_at = erasure["seq"].as_i64().unwrap();
    app.exec_sql(&format!(
        "UPDATE audit_log SET resource = 'user/{vera_id}' WHERE seq = {erased_at}"
    ))
    .await;
    assert_broken(&verify_db(&app).await, erased_at, "edited");
}

/// SQL text literal.
fn lit(v: Option<&str>) -> String {
    v.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

/// Rewrites the app's whole audit log as a version before erasure wrote
/// it: format 1, every field hashed as written, nothing kept apart.
async fn rewrite_as_format_1(app: &TestApp) -> Vec<AuditRecord> {
    let mut prev = "0".repeat(64);
    let mut old = Vec::new();
    for value in all_records(app).await {
        let mut r: AuditRecord = serde_json::from_value(value).unwrap();
        r.format = 1;
        r.personal.clear();
        r.legacy_hash = None;
        r.prev_hash = prev.clone();
        r.hash = r.computed_hash();
        prev = r.hash.clone();
        app.exec_sql(&format!(
            "UPDATE audit_log SET format = 1, personal = NULL, legacy_hash = NULL,
                 actor_name = {}, source_ip = {}, user_agent = {}, details = {},
                 prev_hash = '{}', hash = '{}' WHERE seq = {}",
            lit(Some(&r.actor.name)),
            lit(r.source_ip.as_deref()),
            lit(r.user_agent.as_deref()),
            lit(Some(&canonical_json(&r.details))),
            r.prev_hash,
            r.hash,
            r.seq
        ))
        .await;
        old.push(r);
    }
    app.exec_sql("DELETE FROM audit_personal").await;
    app.exec_sql(&format!("UPDATE audit_chain SET head_hash = '{prev}'"))
        .await;
    old
}

async fn records_written_before_erasure_existed_are_converted_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let (oscar, _) = some_history(&app).await;
    let old = rewrite_as_format_1(&app).await;
    assert_verifies(&verify_db(&app).await);
    // A checkpoint signed over the old chain (its hash is what counts here).
    let last = old.last().unwrap();
    app.exec_sql(&format!(
        "INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
         VALUES ({}, '{}', '2026-12-07 00:00:00+00:00', 'k', 's')",
        last.seq, last.hash
    ))
    .await;

    // The next start converts them, notes it, and the chain verifies.
    let after = app.spawn_beside(&["--dev", "--worker-slots", "0"]).await;
    assert_eq!(
        after
            .count_sql("SELECT COUNT(*) FROM audit_log WHERE format = 1")
            .await,
        0
    );
    let records = all_records(&after).await;
    let note = records
        .iter()
        .find(|r| r["action"] == "audit.format_upgrade")
        .expect("noted");
    assert_eq!(note["details"]["records_converted"], old.len(), "{note}");
    assert_eq!(note["details"]["legacy_head_hash"], last.hash.as_str());
    let converted = &records[last.seq as usize - 1];
    assert_eq!(converted["legacy_hash"], last.hash.as_str(), "{converted}");
    assert_eq!(converted["format"], 2);
    let trigger = records
        .iter()
        .find(|r| r["action"] == "run.trigger" && r["actor"]["id"] == oscar.as_str())
        .unwrap();
    assert_eq!(
        trigger["actor"]["name"], "Oscar Operator",
        "values kept apart read back"
    );
    assert!(
        trigger["personal"]["actor.name"]["salt"].is_string(),
        "{trigger}"
    );
    assert_verifies(&verify_db(&after).await);

    // A second start finds nothing to convert.
    let third = after.spawn_beside(&["--dev", "--worker-slots", "0"]).await;
    let notes = all_records(&third)
        .await
        .iter()
        .filter(|r| r["action"] == "audit.format_upgrade")
        .count();
    assert_eq!(notes, 1);

    // Converted records erase like new ones.
    assert_eq!(
        third.api_post("/users/operator/disable", json!({})).await.0,
        200
    );
    let (status, report) = third.api_post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report["audit_fields_erased"].as_u64().unwrap() >= 4,
        "{report}"
    );
    assert_verifies(&verify_db(&third).await);
}

async fn a_chain_that_does_not_verify_is_not_converted_and_erasure_says_why(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    some_history(&app).await;
    let old = rewrite_as_format_1(&app).await;
    // Someone edited an old record: converting would hide it.
    let edited = old[2].seq;
    app.exec_sql(&format!(
        "UPDATE audit_log SET resource = 'run/forged' WHERE seq = {edited}"
    ))
    .await;
    let after = app.spawn_beside(&["--dev", "--worker-slots", "0"]).await;
    assert_eq!(
        after
            .count_sql("SELECT COUNT(*) FROM audit_log WHERE format = 1")
            .await,
        old.len() as i64,
        "nothing converted"
    );
    assert_broken(&verify_db(&after).await, edited as i64, "edited");
    assert_eq!(
        after.api_post("/users/operator/disable", json!({})).await.0,
        200
    );
    let (status, refused) = after.api_post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains("were not converted"),
        "{refused}"
    );
    assert_eq!(
        after
            .count_sql("SELECT COUNT(*) FROM users WHERE username = 'operator'")
            .await,
        1,
        "nothing erased"
    );
}

#[tokio::test]
async fn the_users_page_exports_and_erases_without_javascript() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    let oscar = user_id(&app, "operator").await;
    let (status, html) = app.get_html("/admin/users").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(r#"href="/api/v1/users/{oscar}/export""#)),
        "{html}"
    );
    // Erase is offered for disabled accounts only.
    assert!(!html.contains(r#"aria-label="Erase operator""#));
    let export = app
        .client
        .get(app.url(&format!("/api/v1/users/{oscar}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200, "a signed-in admin downloads it");
    assert_eq!(
        app.api_post("/users/operator/disable", json!({})).await.0,
        200
    );
    let (_, html) = app.get_html("/admin/users").await;
    assert!(html.contains(r#"aria-label="Erase operator""#), "{html}");

    // The username typed again, or nothing happens.
    let resp = app
        .server_fn("erase_user", &[("id", &oscar), ("confirm", "operater")])
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("type the account's username")
    );
    assert_eq!(
        app.count_sql("SELECT COUNT(*) FROM users WHERE username = 'operator'")
            .await,
        1
    );
    let resp = app
        .plain_form_post(
            "erase_user",
            "/admin/users",
            &[("id", &oscar), ("confirm", "operator")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let (_, user) = app.api_get(&format!("/users/{oscar}")).await;
    assert!(
        user["username"].as_str().unwrap().starts_with("erased-"),
        "{user}"
    );
    let (_, html) = app.get_html("/admin/users").await;
    assert!(!html.contains("Oscar Operator"), "{html}");
    assert!(!html.contains(r#"aria-label="Erase erased-"#));
}

#[tokio::test]
async fn erasing_needs_a_recent_sign_in() {
    let clock = std::sync::Arc::new(gantry_server::runtime::clock::ShiftedClock::default());
    let app = TestApp::spawn_with_clock(
        Backend::Sqlite,
        &["--dev", "--step-up-max-age", "5m"],
        clock.clone(),
    )
    .await;
    assert_eq!(
        app.api_post("/users/operator/disable", json!({})).await.0,
        200
    );
    let admin = app.person("admin").await;
    clock.advance(chrono::Duration::minutes(10));
    let (status, refused) = admin.post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 401, "{refused}");
    assert!(
        refused.to_string().contains("step_up_required"),
        "{refused}"
    );
    assert_eq!(
        app.count_sql("SELECT COUNT(*) FROM users WHERE username = 'operator'")
            .await,
        1,
        "nothing erased"
    );
    let fresh = app.person("admin").await;
    let (status, report) = fresh.post("/users/operator/erase", json!({})).await;
    assert_eq!(status, 200, "{report}");
}
