//! What people see of secrets: a run's fetches (REST and the run page),
//! which provider answers where (the workflow page), and the providers'
//! health (REST and Admin → Secret providers). Who may see each, and that
//! no value is ever in an answer.

use crate::helpers::{Backend, TestApp, new_client};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::path::Path;

on_both_backends!(
    a_runs_fetches_are_listed_per_attempt_to_those_who_may_see_the_run,
    providers_are_shown_to_the_admin_areas_readers_with_health_and_last_fetch,
    the_workflow_page_shows_each_reference_where_it_resolves_and_flags_gaps,
    dev_mode_demonstrates_a_secret_fetched_and_masked,
);

const DEV_TOKEN: &str = "s3cret-views-dev-token-0123456789";

/// A provider folder: `dev/api-token`.
fn secret_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dev")).unwrap();
    std::fs::write(dir.path().join("dev/api-token"), DEV_TOKEN).unwrap();
    dir
}

fn spec(root: &Path) -> String {
    let root = root.display();
    format!(
        "name: views\nsteps:\n  - id: use\n    secrets: {{ API_TOKEN: \"file:{root}/{{env}}/api-token\" }}\n    \
         run: echo \"token $API_TOKEN\"\n  - id: miss\n    needs: [use]\n    \
         retries: {{ max_attempts: 2, backoff: fixed, initial: 10ms }}\n    \
         secrets: {{ GONE: {{ ref: \"file:{root}/{{env}}/absent\", as: file }} }}\n    run: echo never\n"
    )
}

async fn as_token(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn token_with(app: &TestApp, name: &str, role: &str) -> String {
    let (status, made) = app
        .api_post("/tokens", json!({"name": name, "roles": [role]}))
        .await;
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

/// The status of a page for a fresh browser signed in as `user`.
async fn page_status_as(app: &TestApp, user: &str, path: &str) -> u16 {
    let client = new_client();
    let resp = client
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", user)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sign in as {user}");
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `view.denied` records about `resource`.
async fn denials(app: &TestApp, resource: &str) -> Vec<Value> {
    let (status, page) = app
        .api_get(&format!("/audit?action=view.denied&resource={resource}"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["records"].as_array().unwrap().clone()
}

async fn a_runs_fetches_are_listed_per_attempt_to_those_who_may_see_the_run(backend: Backend) {
    let files = secret_files();
    let root = files.path().display().to_string();
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--secrets-file-root",
            files.path().to_str().unwrap(),
        ],
    )
    .await;
    let id = app.apply_and_run(&spec(files.path()), json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed", "{run:#}");

    let (status, list) = app.api_get(&format!("/runs/{id}/secret-accesses")).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap();
    let shape: Vec<(&str, u64, &str, &str)> = list
        .iter()
        .map(|a| {
            (
                a["step"].as_str().unwrap(),
                a["attempt"].as_u64().unwrap(),
                a["access"]["name"].as_str().unwrap(),
                a["access"]["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("use", 1, "API_TOKEN", "ok"),
            ("miss", 1, "GONE", "not_found"),
            ("miss", 2, "GONE", "not_found"),
        ],
        "oldest first: {list:#?}"
    );
    let ok = &list[0];
    assert_eq!(
        ok["access"]["reference"],
        format!("file:{root}/dev/api-token")
    );
    assert_eq!(ok["access"]["provider"], "file");
    assert!(ok["access"]["millis"].is_u64(), "{ok}");
    assert!(ok["access"].get("error").is_none(), "{ok}");
    assert!(
        ok["access"].get("version").is_none(),
        "no versions in files"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(ok["at"].as_str().unwrap()).is_ok(),
        "{ok}"
    );
    assert_eq!(
        list[1]["access"]["error"],
        format!("not found: file:{root}/dev/absent")
    );
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(DEV_TOKEN), "no value: {text}");

    // Like the run itself: a role in its environment, or 403 (recorded).
    let prod_viewer = token_with(&app, "prod-eyes", "viewer@prod").await;
    let (status, body) = as_token(&app, &prod_viewer, &format!("/runs/{id}/secret-accesses")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(denials(&app, &format!("run/{id}")).await.len(), 1);
    let dev_viewer = token_with(&app, "dev-eyes", "viewer@dev").await;
    let (status, body) = as_token(&app, &dev_viewer, &format!("/runs/{id}/secret-accesses")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 3);
    for missing in [uuid::Uuid::new_v4().to_string(), "not-a-run".to_owned()] {
        let (status, body) = app
            .api_get(&format!("/runs/{missing}/secret-accesses"))
            .await;
        assert_eq!(status, 404, "{body}");
    }
    let plain = app
        .apply_and_run(
            "name: plain\nsteps:\n  - id: a\n    run: \"true\"\n",
            json!({}),
        )
        .await;
    app.finished_run(&plain).await;
    let (status, body) = app.api_get(&format!("/runs/{plain}/secret-accesses")).await;
    assert_eq!((status, body), (200, json!([])));

    // The run page: a Secrets section with each fetch and its outcome.
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html(&format!("/runs/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<h2 id="secrets-heading">Secrets</h2>"#),
        "{html}"
    );
    assert!(html.contains(r#"data-secret="API_TOKEN""#), "{html}");
    assert!(html.contains(&format!("<code>file:{root}/dev/api-token</code>")));
    assert!(html.contains(r#"data-fetch="ok""#), "{html}");
    assert_eq!(html.matches(r#"data-fetch="not_found""#).count(), 2);
    assert!(html.contains(&format!(
        r#"<p class="error-text">not found: file:{root}/dev/absent</p>"#
    )));
    assert!(!html.contains(DEV_TOKEN));
    let (_, html) = app.get_html(&format!("/runs/{plain}")).await;
    assert!(html.contains("No step of this run has fetched a secret."));
}

async fn providers_are_shown_to_the_admin_areas_readers_with_health_and_last_fetch(
    backend: Backend,
) {
    let files = secret_files();
    let root = files.path().display().to_string();
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--secrets-file-root",
            files.path().to_str().unwrap(),
            "--secrets-env-prefix",
            "SVTEST_",
        ],
    )
    .await;
    let id = app.apply_and_run(&spec(files.path()), json!({})).await;
    app.finished_run(&id).await;

    let (status, list) = app.api_get("/secret-providers").await;
    assert_eq!(status, 200, "{list}");
    let by_name = |list: &Value, name: &str| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["provider"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}"))
            .clone()
    };
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let env = by_name(&list, "env");
    assert_eq!(
        (&env["reachable"], &env["authenticated"]),
        (&json!(true), &json!(true))
    );
    assert!(env.get("environment").is_none(), "shared: {env}");
    assert!(env.get("last_fetch").is_none(), "never used: {env}");
    let file = by_name(&list, "file");
    assert_eq!(file["reachable"], true, "{file}");
    assert!(file.get("error").is_none(), "{file}");
    assert!(file["checked_at"].is_string(), "{file}");
    // The newest fetch: the second attempt of `miss`.
    let last = &file["last_fetch"];
    assert_eq!(last["outcome"], "not_found", "{file}");
    assert_eq!(last["reference"], format!("file:{root}/dev/absent"));
    assert_eq!(last["run_id"], id.as_str());
    assert!(!list.to_string().contains(DEV_TOKEN));

    // The Admin area's readers: admins and auditors; others are refused
    // and the refusal is recorded.
    let (status, _) = app.person("auditor").await.get("/secret-providers").await;
    assert_eq!(status, 200);
    for who in ["viewer", "operator"] {
        let (status, body) = app.person(who).await.get("/secret-providers").await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let refused = denials(&app, "secret-providers/").await;
    assert_eq!(refused.len(), 2, "{refused:#?}");

    // The page: linked from Admin, a row per provider with its health.
    app.sign_in_as("admin").await;
    let (_, admin) = app.get_html("/admin").await;
    assert!(
        admin.contains(r#"<a href="/admin/secret-providers">Secret providers</a>"#),
        "{admin}"
    );
    let (status, html) = app.get_html("/admin/secret-providers").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<tr data-provider="file">"#), "{html}");
    assert!(html.contains(r#"<tr data-provider="env">"#), "{html}");
    assert_eq!(html.matches(r#"data-health="healthy""#).count(), 2);
    assert!(html.contains("every environment without its own"));
    assert!(html.contains(&format!("<code>file:{root}/dev/absent</code>")));
    assert_eq!(
        page_status_as(&app, "viewer", "/admin/secret-providers").await,
        403
    );

    // A folder gone: the file provider is unreachable, and says why.
    let gone = files.path().to_path_buf();
    drop(files);
    assert!(!gone.exists());
    let (status, list) = app.api_get("/secret-providers").await;
    assert_eq!(status, 200, "{list}");
    let file = by_name(&list, "file");
    assert_eq!(file["reachable"], false, "{file}");
    assert!(
        file["error"]
            .as_str()
            .unwrap()
            .contains("is not a readable directory"),
        "{file}"
    );
    let (_, html) = app.get_html("/admin/secret-providers").await;
    assert!(html.contains(r#"data-health="unreachable""#), "{html}");
}

async fn the_workflow_page_shows_each_reference_where_it_resolves_and_flags_gaps(backend: Backend) {
    let files = secret_files();
    let root = files.path().display().to_string();
    let with_env = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--secrets-file-root",
            files.path().to_str().unwrap(),
            "--secrets-env-prefix",
            "SVTEST_",
        ],
    )
    .await;
    let spec = format!(
        "name: refs\nsteps:\n  - id: call\n    secrets:\n      API_TOKEN: \"file:{root}/{{env}}/{{workflow}}\"\n      \
         PAGER: \"env:PAGER_KEY\"\n    run: \"true\"\n"
    );
    let (status, body) = with_env.apply(&spec).await;
    assert_eq!(status, 201, "{body}");

    with_env.sign_in_as("viewer").await;
    let (status, html) = with_env.get_html("/workflows/refs").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<h2 id="secrets-heading">Secrets of version "#),
        "{html}"
    );
    assert!(html.contains(r#"<tr data-secret="API_TOKEN">"#), "{html}");
    assert!(html.contains(&format!("<code>file:{root}/{{env}}/{{workflow}}</code>")));
    for env in ["dev", "stage", "prod"] {
        assert!(
            html.contains(&format!("<code>file:{root}/{env}/refs</code>")),
            "{env}: {html}"
        );
        assert!(html.contains(&format!(
            r#"<td data-environment="{env}" data-provider="shared">"#
        )));
    }
    assert!(!html.contains("no provider configured here"), "{html}");

    // The same database, served without the env provider: PAGER resolves
    // nowhere, and the page says so.
    let without = with_env
        .spawn_beside(&[
            "--dev",
            "--worker-slots",
            "0",
            "--secrets-file-root",
            files.path().to_str().unwrap(),
        ])
        .await;
    without.sign_in_as("viewer").await;
    let (status, html) = without.get_html("/workflows/refs").await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches(r#"data-provider="unconfigured""#).count(),
        3,
        "{html}"
    );
    assert!(html.contains("no provider configured here"));
    assert!(html.contains("Runs fail at these steps until a provider is configured there:"));
    assert!(
        html.contains(
            "<li><code>PAGER</code> (step <!>call<!>): no provider in <!>dev, stage, prod</li>"
        ),
        "{html}"
    );
    // A workflow without secrets has no such section.
    let (status, _) = without
        .apply("name: plain\nsteps:\n  - id: a\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201);
    let (_, html) = without.get_html("/workflows/plain").await;
    assert!(!html.contains("secrets-heading"), "{html}");
}

async fn dev_mode_demonstrates_a_secret_fetched_and_masked(backend: Backend) {
    let app = TestApp::spawn_with_demo(backend).await;
    // Beside the database, or beside the work folder on PostgreSQL: the
    // test's folder either way.
    let file = app.dir.path().join("demo-secrets/dev/api-token");
    let token = std::fs::read_to_string(&file).unwrap();
    assert!(token.starts_with("demo-dev-"), "{token}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let id = app.trigger("secret-demo", json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let (status, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
    assert_eq!(status, 200, "{logs}");
    let text = logs.to_string();
    assert!(text.contains("token is ***"), "{text}");
    assert!(
        text.contains(&format!("token length: {}", token.len())),
        "{text}"
    );
    assert!(!text.contains(&token), "{text}");
    let (_, list) = app.api_get(&format!("/runs/{id}/secret-accesses")).await;
    assert_eq!(list[0]["access"]["name"], "API_TOKEN", "{list}");
    assert_eq!(list[0]["access"]["outcome"], "ok", "{list}");
    let (_, providers) = app.api_get("/secret-providers").await;
    assert_eq!(providers[0]["provider"], "file", "{providers}");
    assert_eq!(providers[0]["reachable"], true, "{providers}");
}
