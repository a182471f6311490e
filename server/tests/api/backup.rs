//! `gantry backup` (docs/ops/backup.md): a copy of the embedded database
//! taken while runs are being triggered restores into a fresh server whose
//! audit chain verifies and which runs workflows; PostgreSQL is pointed at
//! its own tools.

use crate::audit::{text, verify_db};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;
use std::process::Output;

on_both_backends!(a_backup_taken_under_load_restores_into_a_working_server);

const HELLO: &str = "name: hello\nsteps:\n  - id: a\n    run: echo hello\n";

async fn gantry_backup(db_url: &str, out: &std::path::Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["backup", "--database-url", db_url, "--out"])
        .arg(out)
        .env_remove("GANTRY_DATABASE_URL")
        .output()
        .await
        .expect("run gantry backup")
}

async fn a_backup_taken_under_load_restores_into_a_working_server(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    assert_eq!(app.apply(HELLO).await.0, 201);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gantry-backup.db");
    if backend == Backend::Postgres {
        let refused = gantry_backup(&app.db_url, &out).await;
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("pg_dump"),
            "{}",
            text(&refused)
        );
        assert!(!out.exists());
        return;
    }

    // Triggers keep coming while the copy is taken.
    let load = {
        let url = app.url("/api/v1/workflows/hello/runs");
        let client = app.client.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..40 {
                let resp = client
                    .post(&url)
                    .bearer_auth(crate::helpers::TOKEN)
                    .json(&json!({"environment": "dev"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                let run: serde_json::Value = resp.json().await.unwrap();
                ids.push(run["id"].as_str().unwrap().to_owned());
            }
            ids
        })
    };
    let backup = gantry_backup(&app.db_url, &out).await;
    let triggered = load.await.unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(
        String::from_utf8_lossy(&backup.stdout).contains("its audit chain verifies"),
        "{}",
        text(&backup)
    );
    // A backup never overwrites a file.
    let again = gantry_backup(&app.db_url, &out).await;
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // Restored into a fresh server: the chain verifies, the runs it holds
    // are runs the original answered, and it runs new ones.
    let restored = TestApp::spawn_on_sqlite_file(&out, &["--dev"]).await;
    let verified = verify_db(&restored).await;
    assert!(verified.status.success(), "{}", text(&verified));
    let (status, runs) = restored.api_get("/runs?limit=100").await;
    assert_eq!(status, 200, "{runs}");
    for run in runs["runs"].as_array().unwrap() {
        assert!(
            triggered.contains(&run["id"].as_str().unwrap().to_owned()),
            "{run} was never answered"
        );
    }
    let id = restored.trigger("hello", json!({})).await;
    let run = restored.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
}
