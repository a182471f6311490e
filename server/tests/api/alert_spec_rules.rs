//! A workflow's own rules (`alerts:` in its spec) on both databases: they
//! appear per environment where the version carrying them is active,
//! fire like any rule, change with the version active in each environment
//! and only there, can't be edited through the API, and name channels and
//! environments that exist.

use crate::alert_receiver::Receiver;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(a_specs_rules_follow_the_active_version_in_each_environment);

fn orders(threshold: Option<u32>) -> String {
    let alerts = threshold
        .map(|t| {
            format!(
                "alerts:\n  - name: failing\n    kind: consecutive_failures\n    threshold: {t}\n    channels: [ops]\n"
            )
        })
        .unwrap_or_default();
    format!(
        "name: orders\ninputs:\n  fail: {{ type: boolean, default: true }}\n{alerts}steps:\n  - id: go\n    run: test \"${{{{ inputs.fail }}}}\" != \"true\"\n"
    )
}

/// The spec rules now, by name, once `want` holds (bounded wait: the
/// evaluation pass brings them up to date).
async fn spec_rules(
    app: &TestApp,
    want: impl Fn(&Vec<(String, Value)>) -> bool,
) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, list) = app.api_get("/alerts/rules").await;
        assert_eq!(status, 200, "{list}");
        let rules: Vec<(String, Value)> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["origin"] == "workflow:orders")
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r.clone()))
            .collect();
        if want(&rules) {
            return rules;
        }
        assert!(
            Instant::now() < deadline,
            "spec rules never became right: {rules:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(rules: &[(String, Value)]) -> Vec<&str> {
    rules.iter().map(|(n, _)| n.as_str()).collect()
}

async fn a_specs_rules_follow_the_active_version_in_each_environment(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--alert-evaluation-interval", "100ms"]).await;
    // The channel must exist before a spec may name it.
    let (status, body) = app.apply(&orders(Some(1))).await;
    assert_eq!(status, 422, "{body}");
    let problem = body.to_string();
    assert!(problem.contains("alerts[0].channels"), "{problem}");
    assert!(
        problem.contains("no alert channel \\\"ops\\\""),
        "{problem}"
    );

    let (receiver, url) = Receiver::start().await;
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "ops", "kind": "webhook", "url": url}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(app.apply(&orders(Some(1))).await.0, 201);
    let rules = spec_rules(&app, |r| r.len() == 1).await;
    assert_eq!(names(&rules), ["orders:failing@dev"]);
    let dev = &rules[0].1;
    assert_eq!(dev["workflow"], "orders");
    assert_eq!(dev["environment"], "dev");
    assert_eq!(dev["threshold"], 1);
    assert_eq!(dev["created_by"], "orders v1");

    // It fires like any rule.
    let run = app.trigger("orders", json!({})).await;
    app.finished_run(&run).await;
    let firing = receiver.wait_for(1).await;
    assert_eq!(firing[0]["rule"], "orders:failing@dev", "{firing:#?}");
    assert_eq!(firing[0]["status"], "firing");

    // The API can't change it: the spec does.
    let path = "/alerts/rules/orders:failing@dev";
    let (status, body) = app.api(reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("change it there"), "{body}");

    // Version 1 becomes active in stage: its rule comes along there.
    app.activate_dev_versions_in_stage().await;
    let rules = spec_rules(&app, |r| r.len() == 2).await;
    assert_eq!(
        names(&rules),
        ["orders:failing@dev", "orders:failing@stage"]
    );

    // Version 2 in dev changes dev's rule only.
    assert_eq!(app.apply(&orders(Some(3))).await.0, 201);
    let rules = spec_rules(&app, |r| r.iter().any(|(_, v)| v["threshold"] == 3)).await;
    let threshold = |env: &str| {
        rules
            .iter()
            .find(|(n, _)| n.ends_with(&format!("@{env}")))
            .map(|(_, v)| v["threshold"].clone())
    };
    assert_eq!(threshold("dev"), Some(json!(3)));
    assert_eq!(threshold("stage"), Some(json!(1)));
    // A new threshold is a new condition: dev's instance, which was
    // firing, starts over, and the receiver is told it resolved.
    let both = receiver.wait_for(2).await;
    assert_eq!(both[1]["status"], "resolved", "{both:#?}");
    assert_eq!(both[1]["fingerprint"], both[0]["fingerprint"]);
    assert_eq!(
        both[1]["summary"],
        "resolved: the rule changed what it watches"
    );

    // Version 3 drops the rule: gone from dev, still in stage.
    assert_eq!(app.apply(&orders(None)).await.0, 201);
    let rules = spec_rules(&app, |r| r.len() == 1).await;
    assert_eq!(names(&rules), ["orders:failing@stage"]);
    assert_eq!(receiver.bodies().len(), 2, "nothing was firing any more");
}
