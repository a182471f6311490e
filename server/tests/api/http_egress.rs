//! HTTP steps reach only what the egress policy allows, judged on the
//! addresses they actually connect to: loopback, link-local and the cloud
//! metadata service are refused by default whichever way the URL spells
//! them (an IP, a mapped IPv6 form, a name resolving there, a redirect), and
//! `--http-step-allow CIDR@ENV` re-allows a range for one environment only.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    reserved_destinations_are_refused_by_default,
    redirects_to_reserved_destinations_are_refused,
    an_allowance_for_one_environment_leaves_the_others_refused,
);

/// The first attempt's error of each step.
fn errors(run: &Value) -> std::collections::BTreeMap<String, String> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let error = s["attempts"][0]["error"].as_str().unwrap_or_default();
            (s["id"].as_str().unwrap().to_owned(), error.to_owned())
        })
        .collect()
}

fn http_steps(name: &str, steps: &[(&str, String)]) -> String {
    let mut yaml = format!("name: {name}\nsteps:\n");
    for (id, url) in steps {
        // A bounded wait: a step that were let through to an unroutable
        // address would fail on time instead of hanging the test.
        yaml.push_str(&format!(
            "  - id: {id}\n    timeout: 10s\n    http: {{ method: GET, url: \"{url}\" }}\n"
        ));
    }
    yaml
}

async fn reserved_destinations_are_refused_by_default(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let port = app.addr.port();
    let yaml = http_steps(
        "probe",
        &[
            ("loopback", format!("http://127.0.0.1:{port}/healthz")),
            (
                "metadata",
                "http://169.254.169.254/latest/meta-data/".into(),
            ),
            (
                "mapped",
                format!("http://[::ffff:127.0.0.1]:{port}/healthz"),
            ),
            ("named", format!("http://localhost:{port}/healthz")),
        ],
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    let statuses = step_statuses(&run);
    let errors = errors(&run);
    for step in ["loopback", "metadata", "mapped", "named"] {
        assert_eq!(statuses[step], "failed", "{run:#}");
        let error = &errors[step];
        assert!(
            error.contains("is not allowed for HTTP steps in dev")
                && error.contains("--http-step-allow"),
            "{step}: {error}"
        );
    }
    assert_eq!(
        errors["loopback"],
        "destination 127.0.0.1 (loopback) is not allowed for HTTP steps in dev; \
         an operator can allow it with --http-step-allow 127.0.0.1@dev"
    );
    assert!(
        errors["metadata"].starts_with("destination 169.254.169.254 (a cloud metadata service)"),
        "{}",
        errors["metadata"]
    );
    assert!(
        errors["named"].contains("(loopback)"),
        "{}",
        errors["named"]
    );
    // The step's log says it too, for whoever reads the run.
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs?step=metadata")).await;
    assert!(
        logs.to_string()
            .contains("169.254.169.254 (a cloud metadata service) is not allowed"),
        "{logs}"
    );
}

/// A server on 127.0.0.2 (allowed in dev by the test) that redirects.
async fn redirector(app_port: u16) -> std::net::SocketAddr {
    use axum::response::Redirect;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let to_literal = format!("http://127.0.0.1:{app_port}/healthz");
    let to_name = format!("http://localhost:{app_port}/healthz");
    let router = axum::Router::new()
        .route(
            "/to-literal",
            get(move || async move { Redirect::to(&to_literal) }),
        )
        .route(
            "/to-name",
            get(move || async move { Redirect::to(&to_name) }),
        )
        .route("/to-allowed", get(|| async { Redirect::to("/ok") }))
        .route("/ok", get(|| async { "fine" }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn redirects_to_reserved_destinations_are_refused(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--http-step-allow", "127.0.0.2@dev"]).await;
    let hop = redirector(app.addr.port()).await;
    let yaml = http_steps(
        "hops",
        &[
            ("literal", format!("http://{hop}/to-literal")),
            ("named", format!("http://{hop}/to-name")),
            ("allowed", format!("http://{hop}/to-allowed")),
        ],
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    let statuses = step_statuses(&run);
    let errors = errors(&run);
    assert_eq!(
        statuses["allowed"], "succeeded",
        "redirects are followed: {run:#}"
    );
    for step in ["literal", "named"] {
        assert_eq!(statuses[step], "failed", "{run:#}");
        assert!(
            errors[step].contains("(loopback) is not allowed for HTTP steps in dev"),
            "{step}: {}",
            errors[step]
        );
    }
    assert!(
        errors["literal"].starts_with("destination 127.0.0.1 "),
        "{}",
        errors["literal"]
    );
}

async fn an_allowance_for_one_environment_leaves_the_others_refused(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--http-step-allow", "127.0.0.0/8@dev"]).await;
    let port = app.addr.port();
    let yaml = http_steps(
        "health",
        &[("own", format!("http://127.0.0.1:{port}/healthz"))],
    );
    let dev_run = app.apply_and_run(&yaml, json!({})).await;
    // Active in stage too (promotion is not what this test is about).
    app.activate_dev_versions_in_stage().await;
    let (status, stage_run) = app
        .api_post("/workflows/health/runs", json!({"environment": "stage"}))
        .await;
    assert_eq!(status, 201, "{stage_run}");
    let dev = app.finished_run(&dev_run).await;
    assert_eq!(dev["status"], "succeeded", "{dev:#}");
    let stage = app.finished_run(stage_run["id"].as_str().unwrap()).await;
    assert_eq!(stage["status"], "failed", "{stage:#}");
    assert_eq!(
        errors(&stage)["own"],
        "destination 127.0.0.1 (loopback) is not allowed for HTTP steps in stage; \
         an operator can allow it with --http-step-allow 127.0.0.1@stage"
    );
}
