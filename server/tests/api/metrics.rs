//! `GET /metrics` on `--metrics-bind`'s own listener: Prometheus's text
//! format, histograms with explicit buckets, routes as templates (never
//! ids), step outcomes counted as they happen; never on the main port.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(metrics_count_what_happened_on_their_own_listener);

/// The value of the sample `name{labels}` (labels as rendered, sorted as
/// the exporter writes them), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr.expect("started with --metrics-bind");
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    resp.text().await.unwrap()
}

async fn metrics_count_what_happened_on_their_own_listener(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--metrics-bind", "127.0.0.1:0"]).await;
    let id = app
        .apply_and_run(
            "name: counted\nsteps:\n  - id: ok\n    run: \"true\"\n  - id: bad\n    run: exit 3\n",
            json!({}),
        )
        .await;
    app.finished_run(&id).await;
    let (status, _) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(status, 200);
    let text = scrape(&app).await;
    let database = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(
        sample(
            &text,
            &format!(
                "gantry_build_info{{version=\"{}\",database=\"{database}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_steps_finished_total{kind=\"shell\",outcome=\"succeeded\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_steps_finished_total{kind=\"shell\",outcome=\"failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // A histogram with our buckets, not a summary.
    assert!(
        text.contains("# TYPE gantry_step_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains(
            "gantry_step_duration_seconds_bucket{kind=\"shell\",outcome=\"failed\",le=\"0.01\"}"
        ),
        "{text}"
    );
    // Requests by route template: the run's id is nowhere in a label.
    let run_route = "gantry_http_server_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"200\"}";
    assert!(sample(&text, run_route).is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains(&id), "no run id in any label");
    assert!(
        text.contains("route=\"/api/v1/runs/{id}\",status=\"200\",le=\"0.005\"}"),
        "HTTP buckets start at 5 ms: {text}"
    );
    // Never anonymous on the main port.
    let (status, _) = app.get_html("/metrics").await;
    assert_ne!(status, 200);
}
