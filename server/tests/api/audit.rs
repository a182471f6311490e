//! The audit log end to end, on both databases: every action leaves exactly
//! one record; `gantry audit verify` names the exact record an edit, a
//! deletion or an insertion broke; a failing audit write stops the change it
//! records; export and archive produce files that verify on their own.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use serde_json::{Value, json};
use std::process::Output;

on_both_backends!(
    every_action_leaves_one_record,
    verify_names_the_record_that_was_edited_deleted_or_inserted,
    a_failing_audit_write_stops_the_change,
    export_and_archive_verify_on_their_own,
);

const HELLO: &str = "name: hello\nsteps:\n  - id: greet\n    run: echo hi\n";
const SLOW: &str = "name: slow\nsteps:\n  - id: wait\n    run: sleep 30\n";
const NIGHTLY: &str =
    "name: nightly\nschedule: \"0 3 * * *\"\nsteps:\n  - id: work\n    run: echo night\n";

/// Every record, oldest first (the API pages newest first).
pub async fn all_records(app: &TestApp) -> Vec<Value> {
    let mut records = Vec::new();
    let mut path = "/audit?limit=500".to_owned();
    loop {
        let (status, page) = app.api_get(&path).await;
        assert_eq!(status, 200, "{page}");
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_u64() {
            Some(b) => path = format!("/audit?limit=500&before={b}"),
            None => break,
        }
    }
    records.reverse();
    records
}

fn find<'a>(records: &'a [Value], action: &str, outcome: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["action"] == action && r["outcome"] == outcome)
        .collect()
}

/// Runs `gantry audit ARGS…`.
pub async fn gantry_audit(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .arg("audit")
        .args(args)
        .env_remove("GANTRY_DATABASE_URL")
        .output()
        .await
        .expect("run gantry audit")
}

pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub async fn verify_db(app: &TestApp) -> Output {
    gantry_audit(&["verify", "--database-url", &app.db_url]).await
}

async fn every_action_leaves_one_record(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    // A person: sign in, try something not allowed, save preferences, sign out.
    assert_eq!(app.sign_in_as("viewer").await.status(), 303);
    let resp = app
        .client
        .post(app.url("/api/v1/runs"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("user-agent", "audit-test/1.0")
        .json(&json!({"workflow": "hello", "environment": "dev"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (status, _) = app.get_html("/workflows").await;
    assert_eq!(status, 200);
    let resp = app
        .server_fn(
            "save_preferences",
            &[("theme", "dark"), ("time_display", "utc")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.sign_out().await.status(), 303);
    assert_eq!(
        app.sign_in_as("nobody").await.status(),
        303,
        "an unknown demo user goes back to the form"
    );

    // A service token: apply (new, identical, invalid), trigger, cancel,
    // schedule off.
    assert_eq!(app.apply(HELLO).await.0, 201);
    assert_eq!(app.apply(HELLO).await.0, 200);
    assert_eq!(app.apply("name: broken\nsteps: []\n").await.0, 422);
    assert_eq!(app.apply(SLOW).await.0, 201);
    assert_eq!(app.apply(NIGHTLY).await.0, 201);
    let run = app.trigger("slow", json!({})).await;
    let (status, _) = app
        .api_post(&format!("/runs/{run}/cancel"), json!({}))
        .await;
    assert!(status == 200 || status == 202, "cancel: {status}");
    let (status, _) = app
        .api_post(&format!("/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 409, "cancelling twice");
    let (status, _) = app
        .api(
            reqwest::Method::PUT,
            "/workflows/nightly/schedule",
            Some(json!({"environment": "dev", "enabled": false})),
        )
        .await;
    assert_eq!(status, 200);
    // A rejected token.
    let resp = app
        .client
        .get(app.url("/api/v1/runs"))
        .bearer_auth("gantry_not-a-real-token-000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let records = all_records(&app).await;
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );

    let one = |action: &str, outcome: &str| -> Value {
        let found = find(&records, action, outcome);
        assert_eq!(found.len(), 1, "{action} {outcome}: {records:#?}");
        found[0].clone()
    };
    let boot = one("token.create", "succeeded");
    assert_eq!(boot["actor"]["kind"], "system");
    assert!(!boot.to_string().contains(TOKEN), "never the token itself");

    let sign_in = one("session.sign_in", "succeeded");
    assert_eq!(sign_in["actor"]["name"], "Vera Viewer");
    assert_eq!(sign_in["actor"]["kind"], "user");
    assert_eq!(sign_in["source_ip"], "127.0.0.1");
    let failed_sign_in = one("session.sign_in", "failed");
    assert_eq!(failed_sign_in["actor"]["kind"], "anonymous");
    assert_eq!(failed_sign_in["resource"], "user/nobody");
    one("session.sign_out", "succeeded");
    let prefs = one("preferences.update", "succeeded");
    assert_eq!(prefs["details"]["preferences"]["theme"], "dark");
    assert_eq!(prefs["resource"], sign_in["resource"]);

    let denied = one("run.trigger", "denied");
    assert_eq!(denied["actor"]["name"], "Vera Viewer");
    assert_eq!(denied["environment"], "dev");
    assert_eq!(denied["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(denied["user_agent"], "audit-test/1.0");
    assert!(denied["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(
        denied["details"]["error"]
            .as_str()
            .unwrap()
            .contains("not allowed")
    );

    let applies = find(&records, "workflow.apply", "succeeded");
    assert_eq!(applies.len(), 4, "hello twice, slow, nightly");
    assert_eq!(applies[0]["resource"], "workflow/hello");
    assert_eq!(applies[0]["details"]["created"], true);
    assert_eq!(applies[0]["details"]["version"], 1);
    assert_eq!(applies[1]["details"]["created"], false);
    assert_eq!(applies[0]["actor"]["kind"], "service_token");
    let invalid = one("workflow.apply", "failed");
    assert_eq!(invalid["resource"], "workflow/broken");

    let trigger = one("run.trigger", "succeeded");
    assert_eq!(trigger["resource"], "workflow/slow");
    assert_eq!(trigger["details"]["run_id"], run.as_str());
    let cancel = one("run.cancel", "succeeded");
    assert_eq!(cancel["resource"], format!("run/{run}"));
    let twice = one("run.cancel", "failed");
    assert!(
        twice["details"]["error"]
            .as_str()
            .unwrap()
            .contains("already finished")
    );
    let schedule = one("schedule.set", "succeeded");
    assert_eq!(schedule["details"]["enabled"], false);
    let rejected = one("token.rejected", "denied");
    assert!(!rejected.to_string().contains("not-a-real-token"));

    // Nothing else was recorded: reads leave no trace unless refused.
    let expected = 1 + 4 + 1 + 5 + 1 + 2 + 1 + 1;
    assert_eq!(records.len(), expected, "{records:#?}");

    // And the chain they form verifies.
    let out = verify_db(&app).await;
    assert!(out.status.success(), "{}", text(&out));
    let (status, verified) = app.api_get("/audit/verify").await;
    assert_eq!(status, 200);
    assert_eq!(verified["problem"], Value::Null, "{verified}");
    assert_eq!(verified["records"], expected);
}

async fn verify_names_the_record_that_was_edited_deleted_or_inserted(backend: Backend) {
    let app = TestApp::spawn_on(backend, &[]).await;
    for i in 0..5 {
        let (status, _) = app
            .apply(&format!(
                "name: wf-{i}\nsteps:\n  - id: a\n    run: echo {i}\n"
            ))
            .await;
        assert_eq!(status, 201);
    }
    // Records: 1 bootstrap token + 5 applies.
    let out = verify_db(&app).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("6 record(s)"),
        "{}",
        text(&out)
    );

    let broken_at = |out: &Output, seq: u64, kind: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", text(out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("record {seq} {kind}")),
            "{}",
            text(out)
        );
    };

    // Edited: someone changes who did it.
    let original: String = app
        .scalar_text("SELECT actor_name FROM audit_log WHERE seq = 3")
        .await;
    app.exec_sql("UPDATE audit_log SET actor_name = 'somebody else' WHERE seq = 3")
        .await;
    broken_at(&verify_db(&app).await, 3, "edited");
    let (_, status) = app.api_get("/audit/verify").await;
    assert_eq!(status["problem"]["seq"], 3, "{status}");
    assert_eq!(status["problem"]["kind"], "edited");
    app.exec_sql(&format!(
        "UPDATE audit_log SET actor_name = '{original}' WHERE seq = 3"
    ))
    .await;
    assert!(verify_db(&app).await.status.success());

    // Edited to a value Gantry never writes: still named, not read as a
    // look-alike.
    app.exec_sql("UPDATE audit_log SET outcome = 'approved' WHERE seq = 5")
        .await;
    broken_at(&verify_db(&app).await, 5, "edited");
    app.exec_sql("UPDATE audit_log SET outcome = 'succeeded' WHERE seq = 5")
        .await;
    assert!(verify_db(&app).await.status.success());

    // Deleted: record 4 disappears (kept aside to put back).
    app.exec_sql("CREATE TABLE kept AS SELECT * FROM audit_log WHERE seq = 4")
        .await;
    app.exec_sql("DELETE FROM audit_log WHERE seq = 4").await;
    broken_at(&verify_db(&app).await, 4, "deleted");
    app.exec_sql("INSERT INTO audit_log SELECT * FROM kept")
        .await;
    assert!(verify_db(&app).await.status.success());

    // Deleted at the very end: the chain head still remembers it.
    app.exec_sql("DELETE FROM kept").await;
    app.exec_sql("INSERT INTO kept SELECT * FROM audit_log WHERE seq = 6")
        .await;
    app.exec_sql("DELETE FROM audit_log WHERE seq = 6").await;
    broken_at(&verify_db(&app).await, 6, "deleted");
    app.exec_sql("INSERT INTO audit_log SELECT * FROM kept")
        .await;

    // Inserted behind the log's back, after the head.
    app.exec_sql(&forged_row_sql(7, &"f".repeat(64))).await;
    broken_at(&verify_db(&app).await, 7, "inserted");
    app.exec_sql("DELETE FROM audit_log WHERE seq = 7").await;
    assert!(verify_db(&app).await.status.success());

    // Deleted from the start, with the anchor moved by hand as if archived.
    let hash2 = app
        .scalar_text("SELECT hash FROM audit_log WHERE seq = 2")
        .await;
    app.exec_sql("DELETE FROM kept").await;
    app.exec_sql("INSERT INTO kept SELECT * FROM audit_log WHERE seq <= 2")
        .await;
    app.exec_sql("DELETE FROM audit_log WHERE seq <= 2").await;
    app.exec_sql(&format!(
        "UPDATE audit_chain SET anchor_seq = 2, anchor_hash = '{hash2}'"
    ))
    .await;
    broken_at(&verify_db(&app).await, 2, "deleted");
    app.exec_sql("INSERT INTO audit_log SELECT * FROM kept")
        .await;
    app.exec_sql(&format!(
        "UPDATE audit_chain SET anchor_seq = 0, anchor_hash = '{}'",
        "0".repeat(64)
    ))
    .await;
    assert!(verify_db(&app).await.status.success());

    // Inserted mid-chain by a forger who renumbers the rest and links a
    // well-formed record to record 2.
    app.exec_sql("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3")
        .await;
    app.exec_sql("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
        .await;
    app.exec_sql(&forged_row_sql(3, &hash2)).await;
    broken_at(&verify_db(&app).await, 3, "inserted");
}

/// An INSERT of a well-formed record at `seq` linked to `prev_hash`.
fn forged_row_sql(seq: u64, prev_hash: &str) -> String {
    let r = AuditEvent::new(
        chrono::Utc::now(),
        Actor::system("forger"),
        AuditAction::RunCancel,
        "run/forged",
    )
    .sequence(seq, prev_hash, &mut || [7; 16]);
    format!(
        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, resource, outcome, details, prev_hash, hash, format, personal)
         VALUES ({seq}, '{}', 'system', '{}', '{}', '{}', '{}', 'succeeded', '{{}}', '{}', '{}', 2, '{{}}')",
        r.at.format("%Y-%m-%d %H:%M:%S%.6f+00:00"),
        r.actor.id,
        r.actor.name,
        r.action,
        r.resource,
        r.prev_hash,
        r.hash
    )
}

async fn a_failing_audit_write_stops_the_change(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.apply(HELLO).await.0, 201);
    let before_records = app.count_sql("SELECT count(*) FROM audit_log").await;
    let state =
        "SELECT (SELECT count(*) FROM workflow_versions) * 1000 + (SELECT count(*) FROM runs)";
    let before = app.count_sql(state).await;
    match backend {
        Backend::Sqlite => {
            app.exec_sql(
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
                 BEGIN SELECT RAISE(ABORT, 'audit storage is failing'); END",
            )
            .await;
        }
        Backend::Postgres => {
            app.exec_sql(
                "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'audit storage is failing'; END $$",
            )
            .await;
            app.exec_sql(
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
                 FOR EACH ROW EXECUTE FUNCTION audit_broken()",
            )
            .await;
        }
    }
    // Apply, trigger and schedule changes are all refused...
    let (status, body) = app
        .apply("name: other\nsteps:\n  - id: a\n    run: echo\n")
        .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        !body.to_string().contains("audit storage"),
        "the cause stays in the server log: {body}"
    );
    let (status, _) = app
        .api_post("/workflows/hello/runs", json!({"environment": "dev"}))
        .await;
    assert_eq!(status, 500);
    // ...a person can't sign in (no session without its record)...
    let resp = app.sign_in_as("admin").await;
    assert!(
        crate::helpers::location(&resp).starts_with("/sign-in?"),
        "sent back to the sign-in form"
    );
    let (status, _) = app.get_html("/workflows").await;
    assert_eq!(status, 303, "still signed out");
    // ...and nothing changed.
    assert_eq!(app.count_sql(state).await, before);
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log").await,
        before_records
    );

    // Once the audit log works again, so does everything else.
    match backend {
        Backend::Sqlite => app.exec_sql("DROP TRIGGER audit_broken").await,
        Backend::Postgres => {
            app.exec_sql("DROP TRIGGER audit_broken ON audit_log").await;
            app.exec_sql("DROP FUNCTION audit_broken()").await;
        }
    }
    let (status, _) = app
        .apply("name: other\nsteps:\n  - id: a\n    run: echo\n")
        .await;
    assert_eq!(status, 201);
    assert!(verify_db(&app).await.status.success());
}

async fn export_and_archive_verify_on_their_own(backend: Backend) {
    let app = TestApp::spawn_on(backend, &[]).await;
    for i in 0..4 {
        assert_eq!(
            app.apply(&format!(
                "name: wf-{i}\nsteps:\n  - id: a\n    run: echo {i}\n"
            ))
            .await
            .0,
            201
        );
    }
    let dir = app.dir.path();
    let export = dir.join("export.jsonl");
    let export_s = export.to_str().unwrap();
    let out = gantry_audit(&[
        "export",
        "--database-url",
        &app.db_url,
        "--since",
        "2",
        "--out",
        export_s,
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let out = gantry_audit(&["verify", "--file", export_s]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("records 2..5"),
        "{}",
        text(&out)
    );
    // The export itself is on the record.
    let records = all_records(&app).await;
    assert_eq!(records.last().unwrap()["action"], "audit.export");

    // A tampered export names its record.
    let tampered = std::fs::read_to_string(&export)
        .unwrap()
        .replace("workflow/wf-2", "workflow/wf-X");
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, tampered).unwrap();
    let out = gantry_audit(&["verify", "--file", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("record 4 edited"),
        "{}",
        text(&out)
    );

    // Archive everything so far; the rest of the chain still verifies from
    // the anchor, the archive on its own.
    let archive = dir.join("archive.jsonl");
    let archive_s = archive.to_str().unwrap();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let out = gantry_audit(&[
        "archive",
        "--database-url",
        &app.db_url,
        "--before",
        &tomorrow,
        "--out",
        archive_s,
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("archived records 1..6"),
        "{}",
        text(&out)
    );
    let out = gantry_audit(&["verify", "--file", archive_s]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log").await,
        1,
        "only the archive note"
    );
    assert_eq!(
        app.apply("name: after\nsteps:\n  - id: a\n    run: echo\n")
            .await
            .0,
        201
    );
    let out = verify_db(&app).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 record(s) from 7"),
        "{}",
        text(&out)
    );
    // Refuses to overwrite, and exporting archived records points at the archive.
    let out = gantry_audit(&[
        "archive",
        "--database-url",
        &app.db_url,
        "--before",
        &tomorrow,
        "--out",
        archive_s,
    ])
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = gantry_audit(&["export", "--database-url", &app.db_url, "--since", "1"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("archived"),
        "{}",
        text(&out)
    );
}
