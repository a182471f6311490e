//! The `workflow` label stays in bounds: at most `--metrics-workflow-cap`
//! names plus `_other`, and a workflow's series leave the output once idle
//! for `--metrics-series-idle`, giving its place back; series without a
//! workflow label stay.

use crate::helpers::{Backend, TestApp};
use crate::metrics::{sample, scrape};
use crate::on_both_backends;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

on_both_backends!(
    workflows_past_the_cap_are_counted_as_other,
    series_of_an_idle_workflow_expire_and_free_its_place,
);

/// `gantry_runs_started_total` by workflow label.
fn started_by_workflow(text: &str) -> BTreeMap<String, f64> {
    let mut by = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("gantry_runs_started_total{workflow=\"") else {
            continue;
        };
        let (workflow, rest) = rest.split_once('"').unwrap();
        let value: f64 = rest.rsplit(' ').next().unwrap().parse().unwrap();
        *by.entry(workflow.to_owned()).or_default() += value;
    }
    by
}

async fn workflows_past_the_cap_are_counted_as_other(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
            "--metrics-workflow-cap",
            "5",
        ],
    )
    .await;
    for i in 0..20 {
        app.apply_and_run(
            &format!("name: wf-{i:02}\nsteps:\n  - id: s\n    run: \"true\"\n"),
            json!({}),
        )
        .await;
    }
    let text = scrape(&app).await;
    let by = started_by_workflow(&text);
    assert_eq!(by.len(), 5 + 1, "five names and _other: {by:?}");
    // The first five workflows seen keep their names.
    for i in 0..5 {
        assert_eq!(by.get(&format!("wf-{i:02}")), Some(&1.0), "{by:?}");
    }
    assert_eq!(by.get("_other"), Some(&15.0), "{by:?}");
    assert_eq!(by.values().sum::<f64>(), 20.0);
}

async fn series_of_an_idle_workflow_expire_and_free_its_place(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
            "--metrics-workflow-cap",
            "1",
            "--metrics-series-idle",
            "2s",
        ],
    )
    .await;
    let spec = |name: &str| format!("name: {name}\nsteps:\n  - id: s\n    run: \"true\"\n");
    app.apply_and_run(&spec("retired"), json!({})).await;
    // The only place is taken: the next workflow is folded.
    app.apply_and_run(&spec("fresh"), json!({})).await;
    let text = scrape(&app).await;
    let by = started_by_workflow(&text);
    assert_eq!(by.get("retired"), Some(&1.0), "{by:?}");
    assert_eq!(by.get("_other"), Some(&1.0), "{by:?}");
    assert!(!by.contains_key("fresh"), "{by:?}");
    let applies = "gantry_http_server_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/workflows\",status=\"201\"}";
    assert_eq!(sample(&text, applies), Some(2.0), "{text}");

    // Unused for the idle time, its series leave the output.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(&app).await;
        if !text.contains("workflow=\"retired\"") {
            break text;
        }
        assert!(Instant::now() < deadline, "never expired: {text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Series without a workflow label stay.
    assert_eq!(sample(&text, applies), Some(2.0), "{text}");
    assert!(text.contains("gantry_build_info{"), "{text}");

    // Its place is free again: the next workflow keeps its own name.
    let id = app.trigger("fresh", json!({})).await;
    assert!(!id.is_empty());
    let by = started_by_workflow(&scrape(&app).await);
    assert_eq!(by.get("fresh"), Some(&1.0), "{by:?}");
    assert!(!by.contains_key("retired"), "{by:?}");
}
