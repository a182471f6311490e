//! Dead letters (docs/runs.md, "Needs attention"): failed runs wait on the
//! list until re-run (same version, active version, or from the failed
//! step keeping earlier steps' outputs) or dismissed with a note; every
//! re-run links to its original; all of it audited, once under races.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;

/// A workflow whose second step fails until `flag` exists, after its
/// first step made a random token.
fn flaky(flag: &std::path::Path) -> String {
    format!(
        r#"
name: flaky
steps:
  - id: make
    run: echo "token=$(cat /proc/sys/kernel/random/uuid)" >> "$GANTRY_OUTPUT"
    outputs: [token]
  - id: use
    needs: [make]
    run: |
      echo "using ${{{{ steps.make.outputs.token }}}}"
      test -e {}
"#,
        flag.display()
    )
}

/// A server whose steps may write `dir` (where the flag goes).
async fn spawn(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let app = TestApp::spawn_on(
        backend,
        &["--step-allow-write", dir.path().to_str().unwrap()],
    )
    .await;
    (app, dir)
}

async fn failed_run(app: &TestApp) -> String {
    let id = app.trigger("flaky", json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    id
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    app.api_post(path, body).await
}

fn token_of(run: &Value) -> String {
    run["steps"][0]["outputs"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn attention(app: &TestApp) -> Value {
    let (status, page) = app.api_get("/runs?attention=true").await;
    assert_eq!(status, 200, "{page}");
    page
}

async fn failed_runs_wait_until_rerun_or_dismissed(backend: Backend) {
    let (app, dir) = spawn(backend).await;
    let flag = dir.path().join("ok");
    let (status, body) = app.apply(&flaky(&flag)).await;
    assert_eq!(status, 201, "{body}");
    let (r1, r2, r3) = (
        failed_run(&app).await,
        failed_run(&app).await,
        failed_run(&app).await,
    );
    let page = attention(&app).await;
    let listed: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [r3.as_str(), r2.as_str(), r1.as_str()]);
    assert_eq!(page["failures"][&r1]["step"], "use", "{page:#}");
    assert!(
        page["failures"][&r1]["error"].as_str().is_some(),
        "{page:#}"
    );

    std::fs::write(&flag, "").unwrap();
    // From the failed step: `make` keeps its result and its token.
    let (status, done) = post(
        &app,
        "/runs/rerun",
        json!({"runs": [r1], "mode": "from_failed_step"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done[0]["ok"], true, "{done}");
    let n1 = done[0]["rerun"].as_str().unwrap().to_owned();
    let rerun = app.finished_run(&n1).await;
    assert_eq!(rerun["status"], "succeeded", "{rerun:#}");
    assert_eq!(rerun["rerun_of"], r1.as_str());
    assert_eq!(rerun["rerun_mode"], "from_failed_step");
    assert_eq!(rerun["steps"][0]["reused_from"], r1.as_str());
    assert_eq!(rerun["steps"][0]["attempts"], json!([]));
    let original = app.finished_run(&r1).await;
    assert_eq!(token_of(&rerun), token_of(&original));
    assert_eq!(rerun["steps"][1]["attempts"].as_array().unwrap().len(), 1);
    let (_, logs) = app.api_get(&format!("/runs/{n1}/logs?step=use")).await;
    let using = format!("using {}", token_of(&original));
    assert!(
        logs["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["text"] == using.as_str()),
        "{logs:#}"
    );
    assert_eq!(original["attention"]["open"], false);
    assert_eq!(original["attention"]["rerun"], n1.as_str());

    // The same version: every step again.
    let (_, done) = post(
        &app,
        "/runs/rerun",
        json!({"runs": [r2], "mode": "same_version"}),
    )
    .await;
    let n2 = done[0]["rerun"].as_str().unwrap().to_owned();
    let rerun = app.finished_run(&n2).await;
    assert_eq!(rerun["status"], "succeeded", "{rerun:#}");
    assert_eq!(rerun["steps"][0]["reused_from"], Value::Null);
    assert_ne!(token_of(&rerun), token_of(&app.finished_run(&r2).await));

    // Dismissed with a note.
    let (status, err) = post(&app, "/runs/dismiss", json!({"runs": [r3], "note": "  "})).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "note");
    let (status, done) = post(
        &app,
        "/runs/dismiss",
        json!({"runs": [r3], "note": "the network blipped"}),
    )
    .await;
    assert_eq!(
        (status, done[0]["ok"].clone()),
        (200, json!(true)),
        "{done}"
    );
    let dismissed = app.finished_run(&r3).await;
    assert_eq!(dismissed["attention"]["open"], false);
    assert_eq!(dismissed["attention"]["note"], "the network blipped");
    assert_eq!(attention(&app).await["runs"], json!([]));

    // Each run succeeds or fails alone, with a reason.
    let (status, done) = post(
        &app,
        "/runs/rerun",
        json!({"runs": [r1, n1, r3], "mode": "same_version"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let errors: Vec<&str> = done
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["ok"], false);
            r["error"].as_str().unwrap()
        })
        .collect();
    assert!(errors[0].contains("re-run already"), "{errors:?}");
    assert!(errors[1].contains("only failed"), "{errors:?}");
    assert!(errors[2].contains("dismissed already"), "{errors:?}");
    let (status, err) = post(
        &app,
        "/runs/rerun",
        json!({"runs": [], "mode": "same_version"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["details"]["field"].clone()),
        (400, json!("runs"))
    );

    let count = |action: &str, outcome: &str| {
        format!(
            "SELECT count(*) FROM audit_log WHERE action = '{action}' AND outcome = '{outcome}'"
        )
    };
    assert_eq!(app.count_sql(&count("run.rerun", "succeeded")).await, 2);
    assert_eq!(app.count_sql(&count("run.rerun", "failed")).await, 3);
    assert_eq!(app.count_sql(&count("run.dismiss", "succeeded")).await, 1);
}

async fn an_active_version_rerun_runs_what_is_active_now(backend: Backend) {
    let (app, _dir) = spawn(backend).await;
    let v1 = "name: fixable\nsteps:\n  - id: work\n    run: exit 3\n";
    let v2 = "name: fixable\nsteps:\n  - id: work\n    run: \"true\"\n";
    assert_eq!(app.apply(v1).await.0, 201);
    let a = app.trigger("fixable", json!({})).await;
    let b = app.trigger("fixable", json!({})).await;
    for id in [&a, &b] {
        assert_eq!(app.finished_run(id).await["status"], "failed");
    }
    assert_eq!(app.apply(v2).await.0, 201);
    let (_, done) = post(
        &app,
        "/runs/rerun",
        json!({"runs": [a, b], "mode": "active_version"}),
    )
    .await;
    assert_eq!(done.as_array().unwrap().len(), 2, "{done}");
    for result in done.as_array().unwrap() {
        let rerun = app.finished_run(result["rerun"].as_str().unwrap()).await;
        assert_eq!(rerun["version"], 2);
        assert_eq!(rerun["status"], "succeeded", "{rerun:#}");
        assert_eq!(rerun["rerun_mode"], "active_version");
    }
}

async fn two_reruns_of_one_run_at_once_make_one(backend: Backend) {
    let (app, dir) = spawn(backend).await;
    assert_eq!(app.apply(&flaky(&dir.path().join("never"))).await.0, 201);
    let id = failed_run(&app).await;
    let sent: Vec<_> = (0..4)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/api/v1/runs/rerun"))
                .bearer_auth(TOKEN)
                .json(&json!({"runs": [id], "mode": "same_version"}));
            tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() })
        })
        .collect();
    let mut made = 0;
    for s in sent {
        let done = s.await.unwrap();
        if done[0]["ok"] == true {
            made += 1;
        }
    }
    assert_eq!(made, 1);
    let reruns = app
        .count_sql(&format!(
            "SELECT count(*) FROM runs WHERE rerun_of = '{id}'"
        ))
        .await;
    assert_eq!(reruns, 1);
}

async fn a_viewer_is_refused_the_whole_request_before_anything_changes(backend: Backend) {
    let (app, dir) = spawn(backend).await;
    assert_eq!(app.apply(&flaky(&dir.path().join("never"))).await.0, 201);
    let id = failed_run(&app).await;
    let (status, made) = app
        .api_post(
            "/tokens",
            json!({"name": "watcher", "roles": ["viewer@dev"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let viewer = made["secret"].as_str().unwrap();
    for (path, body) in [
        (
            "/api/v1/runs/rerun",
            json!({"runs": [id], "mode": "same_version"}),
        ),
        ("/api/v1/runs/dismiss", json!({"runs": [id], "note": "no"})),
    ] {
        let resp = app
            .client
            .post(app.url(path))
            .bearer_auth(viewer)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }
    assert_eq!(attention(&app).await["runs"].as_array().unwrap().len(), 1);
    let denied = app
        .count_sql("SELECT count(*) FROM audit_log WHERE action IN ('run.rerun', 'run.dismiss') AND outcome = 'denied'")
        .await;
    assert_eq!(denied, 2);
}

on_both_backends!(
    failed_runs_wait_until_rerun_or_dismissed,
    an_active_version_rerun_runs_what_is_active_now,
    two_reruns_of_one_run_at_once_make_one,
    a_viewer_is_refused_the_whole_request_before_anything_changes,
    the_overview_counts_runs_needing_attention_no_further_than_it_shows,
);

#[tokio::test]
async fn the_needs_attention_page_reruns_and_dismisses_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let app =
        TestApp::spawn_with(&["--dev", "--step-allow-write", dir.path().to_str().unwrap()]).await;
    let flag = dir.path().join("ok");
    assert_eq!(app.apply(&flaky(&flag)).await.0, 201);
    let (r1, r2) = (failed_run(&app).await, failed_run(&app).await);
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    let (status, html) = app.get_html("/runs?attention=1").await;
    assert_eq!(status, 200);
    for run in [&r1, &r2] {
        assert!(
            html.contains(&format!("name=\"selected[run-{run}]\"")),
            "{html}"
        );
    }
    assert!(
        html.contains("<code>use</code>"),
        "the failed step is named"
    );

    std::fs::write(&flag, "").unwrap();
    let field = format!("selected[run-{r1}]");
    let resp = app
        .plain_form_post(
            "act_on_failed_runs",
            "/runs?attention=1",
            &[(field.as_str(), "on"), ("act", "from_failed_step")],
        )
        .await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(
        crate::helpers::location(&resp),
        "/runs?attention=1&done=1&refused=0"
    );
    let rerun = app
        .scalar_text(&format!("SELECT id FROM runs WHERE rerun_of = '{r1}'"))
        .await;
    assert_eq!(app.finished_run(&rerun).await["status"], "succeeded");
    // Each links to the other; the kept step says where it came from.
    let (_, html) = app.get_html(&format!("/runs/{r1}")).await;
    assert!(
        html.contains("Re-run as") && html.contains(&format!("/runs/{rerun}")),
        "{html}"
    );
    let (_, html) = app.get_html(&format!("/runs/{rerun}")).await;
    assert!(
        html.contains("Re-run of") && html.contains(&format!("/runs/{r1}")),
        "{html}"
    );
    assert!(html.contains("none: kept from run"), "{html}");

    let field = format!("selected[run-{r2}]");
    let resp = app
        .plain_form_post(
            "act_on_failed_runs",
            "/runs?attention=1",
            &[
                (field.as_str(), "on"),
                ("act", "dismiss"),
                ("note", "known outage"),
            ],
        )
        .await;
    assert_eq!(
        crate::helpers::location(&resp),
        "/runs?attention=1&done=1&refused=0"
    );
    let (_, html) = app.get_html("/runs?attention=1&done=1&refused=0").await;
    assert!(html.contains("Nothing needs attention"), "{html}");
    assert!(html.contains("1 run done"), "{html}");
}

/// `n` copies of failed run `id`, each needing attention, in one statement.
async fn copies_of(app: &TestApp, id: &str, n: u32, tag: &str) {
    app.exec_sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO runs (id, workflow_id, workflow_name, version, environment, status,
                           trigger_kind, triggered_by, triggered_by_id, inputs, created_at,
                           started_at, finished_at)
         SELECT '{tag}-' || i, workflow_id, workflow_name, version, environment, status,
                trigger_kind, triggered_by, triggered_by_id, inputs, created_at, started_at,
                finished_at
         FROM n, runs WHERE runs.id = '{id}'"
    ))
    .await;
}

/// Failures nobody dismisses pile up; the Overview counts them as far as
/// it shows a number, and says "more than" beyond.
async fn the_overview_counts_runs_needing_attention_no_further_than_it_shows(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = app
        .apply("name: broken\nsteps:\n  - id: fail\n    run: \"false\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    let id = app.trigger("broken", json!({})).await;
    assert_eq!(app.finished_run(&id).await["status"], "failed");
    let cap = gantry_core::overview::ATTENTION_COUNTED;
    copies_of(&app, &id, cap - 1, "copy").await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    // Without the hydration markers between the sentence's parts.
    let overview = || async { app.get_html("/").await.1.replace("<!>", "") };
    let html = overview().await;
    assert!(
        html.contains(&format!("{cap} failed runs to re-run or dismiss")),
        "{html}"
    );
    assert!(!html.contains("More than"), "{html}");

    copies_of(&app, &id, 1, "one-more").await;
    let html = overview().await;
    assert!(
        html.contains(&format!("More than {cap} failed runs to re-run or dismiss")),
        "{html}"
    );
}
