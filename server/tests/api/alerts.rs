//! Alerting through the REST API, on both databases: rules, channels and
//! silences managed and refused as documented; evaluation from real runs
//! (three failures fire once, a fourth sends nothing, two successes
//! resolve once with the same fingerprint); notifications delivered to a
//! local webhook receiver, held by silences; everything audited.

use crate::alert_receiver::Receiver;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(
    three_failures_fire_once_a_fourth_sends_nothing_two_successes_resolve_once,
    rules_and_channels_are_validated_authorized_and_audited,
    a_silence_holds_the_firing_notice_until_it_ends,
    a_failure_ratio_rule_fires_and_backtests,
    a_channel_test_is_delivered_and_shown_in_the_history,
    a_firing_alert_holds_a_promotion_whose_checklist_asks_for_none,
    a_firing_alert_is_posted_to_alertmanager_again_while_it_fires,
    deleting_a_firing_rule_resolves_it_at_the_receiver,
);

pub(crate) const FLAKY: &str = r#"
name: flaky
inputs:
  fail: { type: boolean, default: false }
steps:
  - id: go
    run: test "${{ inputs.fail }}" != "true"
"#;

/// A server evaluating every 100 ms, with `flaky` applied.
pub(crate) async fn app(backend: Backend) -> TestApp {
    let app = TestApp::spawn_on(backend, &["--dev", "--alert-evaluation-interval", "100ms"]).await;
    let (status, body) = app.apply(FLAKY).await;
    assert!(status == 201 || status == 200, "{body}");
    app
}

/// Runs `flaky` to its end, failing or not.
pub(crate) async fn run(app: &TestApp, fail: bool) -> String {
    let id = app.trigger("flaky", json!({ "fail": fail })).await;
    let run = app.finished_run(&id).await;
    let want = if fail { "failed" } else { "succeeded" };
    assert_eq!(run["status"], want, "{run}");
    id
}

/// Waits until the alerting loop judged every finished run.
async fn judged(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.count_sql("SELECT count(*) FROM alert_run_inbox").await > 0 {
        assert!(Instant::now() < deadline, "finished runs were never judged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn webhook(app: &TestApp, name: &str, url: &str) -> Value {
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": name, "kind": "webhook", "url": url}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn instance(app: &TestApp, rule: &str) -> Value {
    let (status, list) = app.api_get(&format!("/alerts?rule={rule}")).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .first()
        .cloned()
        .unwrap_or(Value::Null)
}

async fn three_failures_fire_once_a_fourth_sends_nothing_two_successes_resolve_once(
    backend: Backend,
) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    let channel = webhook(&app, "ops", &url).await;
    let key = channel["generated_signing_key"].clone();
    assert_eq!(key["id"], "k1", "{channel}");
    assert_eq!(channel["signing_key_ids"], json!(["k1"]));
    let (status, rule) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "flaky keeps failing", "kind": "consecutive_failures", "threshold": 3,
                   "workflow": "flaky", "environment": "dev", "resolve_after": 2,
                   "channels": ["ops"]}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    assert_eq!(rule["firing"], 0);

    for _ in 0..2 {
        run(&app, true).await;
    }
    judged(&app).await;
    // Failing, but not three in a row: nothing yet.
    assert_eq!(instance(&app, "flaky%20keeps%20failing").await, Value::Null);
    assert!(receiver.bodies().is_empty());
    let third = run(&app, true).await;
    let firing = receiver.wait_for(1).await;
    assert_eq!(firing[0]["status"], "firing", "{firing:#?}");
    assert_eq!(firing[0]["rule"], "flaky keeps failing");
    assert_eq!(firing[0]["workflow"], "flaky");
    assert_eq!(firing[0]["environment"], "dev");
    assert_eq!(firing[0]["run_id"], third.as_str());
    let now = instance(&app, "flaky%20keeps%20failing").await;
    assert_eq!(now["phase"], "firing", "{now}");

    // A fourth failure: nothing new.
    run(&app, true).await;
    judged(&app).await;
    // And one success: not yet resolved (resolve_after 2).
    run(&app, false).await;
    judged(&app).await;
    assert_eq!(receiver.bodies().len(), 1, "{:#?}", receiver.bodies());
    run(&app, false).await;
    let both = receiver.wait_for(2).await;
    assert_eq!(both[1]["status"], "resolved", "{both:#?}");
    assert_eq!(both[1]["fingerprint"], both[0]["fingerprint"]);
    assert_eq!(
        instance(&app, "flaky%20keeps%20failing").await["phase"],
        "resolved"
    );
    run(&app, false).await;
    judged(&app).await;
    assert_eq!(
        receiver.bodies().len(),
        2,
        "exactly one firing and one resolve"
    );

    // The history shows both moves and both deliveries.
    let (_, history) = app
        .api_get("/alerts/history?rule=flaky%20keeps%20failing")
        .await;
    let moves: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|t| {
            (
                t["from"].as_str().unwrap().into(),
                t["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            // No `for_duration`: pending and firing in the same moment.
            ("ok".into(), "firing".into()),
            ("firing".into(), "resolved".into())
        ]
    );
    let (_, sent) = app.api_get("/alerts/notifications").await;
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(
        sent.iter()
            .all(|n| n["status"] == "delivered" && n["attempts"] == 1),
        "{sent:#?}"
    );
    // The request shown in the history never holds the signing key.
    let secret = key["secret"].as_str().unwrap();
    assert!(!serde_json::to_string(&sent).unwrap().contains(secret));
    // Nor does the database, outside the sealed column.
    assert_eq!(
        app.count_sql(&format!(
            "SELECT count(*) FROM alert_channels WHERE sealed LIKE '%{secret}%'"
        ))
        .await,
        0
    );
}

async fn rules_and_channels_are_validated_authorized_and_audited(backend: Backend) {
    let app = app(backend).await;
    // Every bad field named at once.
    let (status, body) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "", "kind": "consecutive_failures", "threshold": 0, "channels": ["nope"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for field in ["name", "threshold", "channels[0]"] {
        assert!(text.contains(field), "{field} in {text}");
    }
    let (status, body) = app
        .api_post("/alerts/rules", json!({"name": "x", "kind": "vibes"}))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "x", "kind": "consecutive_failures", "threshold": 2, "environment": "moon"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "pd", "kind": "pagerduty"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("routing_key"), "{body}");

    // Operators manage rules where they hold the role, not channels.
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post(
            "/alerts/rules",
            json!({"name": "dev streak", "kind": "consecutive_failures", "threshold": 2, "environment": "dev"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = operator
        .post(
            "/alerts/channels",
            json!({"name": "mine", "kind": "webhook", "url": "http://127.0.0.1:1/"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let viewer = app.person("viewer").await;
    let (status, _) = viewer
        .post(
            "/alerts/rules",
            json!({"name": "v", "kind": "consecutive_failures", "threshold": 2}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, rules) = viewer.get("/alerts/rules").await;
    assert_eq!(status, 200);
    assert_eq!(rules[0]["name"], "dev streak");
    assert_eq!(rules[0]["origin"], "api");

    // Names are unique; a channel in use can't go.
    let (status, _) = operator
        .post(
            "/alerts/rules",
            json!({"name": "dev streak", "kind": "consecutive_failures", "threshold": 3, "environment": "dev"}),
        )
        .await;
    assert_eq!(status, 409);
    webhook(&app, "ops", "http://127.0.0.1:1/hook").await;
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/alerts/rules/dev%20streak",
            Some(
                json!({"name": "dev streak", "kind": "consecutive_failures", "threshold": 3,
                        "environment": "dev", "channels": ["ops"]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["threshold"], 3);
    let (status, body) = app
        .api(reqwest::Method::DELETE, "/alerts/channels/ops", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("dev streak"), "{body}");
    let (status, _) = app
        .api(reqwest::Method::DELETE, "/alerts/rules/dev%20streak", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .api(reqwest::Method::DELETE, "/alerts/channels/ops", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.api_get("/alerts/rules/dev%20streak").await;
    assert_eq!(status, 404);

    // Audited: created, changed, deleted, refused.
    for action in [
        "alert.rule_create",
        "alert.rule_update",
        "alert.rule_delete",
        "alert.channel_create",
        "alert.channel_delete",
    ] {
        assert!(
            app.count_sql(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}' AND outcome = 'succeeded'"
            ))
            .await
                >= 1,
            "{action}"
        );
    }
    assert!(
        app.count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'alert.channel_create' AND outcome = 'denied'"
        )
        .await
            >= 1
    );
}

async fn a_silence_holds_the_firing_notice_until_it_ends(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    webhook(&app, "ops", &url).await;
    let (status, body) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "streak", "kind": "consecutive_failures", "threshold": 1,
                   "workflow": "flaky", "channels": ["ops"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ends = chrono::Utc::now() + chrono::Duration::hours(1);
    let (status, silence) = app
        .api_post(
            "/alerts/silences",
            json!({"workflow": "flaky", "ends_at": ends, "reason": "deploying"}),
        )
        .await;
    assert_eq!(status, 201, "{silence}");
    assert_eq!(silence["active"], true);
    run(&app, true).await;
    judged(&app).await;
    let now = instance(&app, "streak").await;
    assert_eq!(now["phase"], "firing", "state is tracked under a silence");
    assert_eq!(now["silenced"], true);
    assert!(
        receiver.bodies().is_empty(),
        "held: {:#?}",
        receiver.bodies()
    );
    // Ending the silence lets the held firing out, once.
    let id = silence["id"].as_str().unwrap();
    let (status, ended) = app
        .api_post(&format!("/alerts/silences/{id}/expire"), json!({}))
        .await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["active"], false);
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["status"], "firing");
    let (status, _) = app
        .api_post(&format!("/alerts/silences/{id}/expire"), json!({}))
        .await;
    assert_eq!(status, 409);
    // Bad silences name their field.
    let (status, body) = app
        .api_post("/alerts/silences", json!({"reason": ""}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("reason") && body.to_string().contains("ends_at"),
        "{body}"
    );
    let (status, body) = app
        .api_post(
            "/alerts/silences",
            json!({"reason": "nightly", "cron": "0 2 * * *", "duration": "2h", "time_zone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, 201, "a mute window: {body}");
    let (_, list) = app.api_get("/alerts/silences").await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

async fn a_failure_ratio_rule_fires_and_backtests(backend: Backend) {
    let app = app(backend).await;
    for fail in [false, true, false, true] {
        run(&app, fail).await;
    }
    // Backtest before saving: over the real runs, half failed.
    let rule = json!({"name": "flaky ratio", "kind": "failure_ratio", "ratio": 0.5, "min_runs": 4,
                      "window": "1h", "resolve_ratio": 0.2, "workflow": "flaky"});
    let (status, bt) = app
        .api_post("/alerts/rules/backtest?days=7", rule.clone())
        .await;
    assert_eq!(status, 200, "{bt}");
    assert_eq!(bt["runs"], 4, "{bt}");
    assert_eq!(bt["fired"], 1, "{bt}");
    assert_eq!(bt["instances"][0]["firing_at_end"], true, "{bt}");
    let (status, body) = app
        .api_post("/alerts/rules/backtest?days=91", rule.clone())
        .await;
    assert_eq!(status, 400, "{body}");
    // Saved, it judges only runs that finish from now on.
    let (status, body) = app.api_post("/alerts/rules", rule).await;
    assert_eq!(status, 201, "{body}");
    judged(&app).await;
    run(&app, true).await;
    judged(&app).await;
    let now = instance(&app, "flaky%20ratio").await;
    assert_eq!(now["phase"], "firing", "3 of 5 failed: {now}");
}

async fn a_channel_test_is_delivered_and_shown_in_the_history(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    webhook(&app, "ops", &url).await;
    let (status, queued) = app.api_post("/alerts/channels/ops/test", json!({})).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["notice"], "test");
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["notice"], "test", "{got:#?}");
    let (_, history) = app.api_get("/alerts/notifications").await;
    assert_eq!(history[0]["status"], "delivered", "{history}");
    assert_eq!(history[0]["last_status"], 200);
    let (status, _) = app.api_post("/alerts/channels/nope/test", json!({})).await;
    assert_eq!(status, 404);
}

async fn a_firing_alert_holds_a_promotion_whose_checklist_asks_for_none(backend: Backend) {
    let app = app(backend).await;
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/environments/stage/policy",
            Some(json!({"checklist": [{"id": "calm", "check": {"kind": "no_firing_alerts"}}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "dev breaks", "kind": "consecutive_failures", "threshold": 1,
                   "workflow": "flaky", "environment": "dev"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    run(&app, true).await;
    judged(&app).await;
    assert_eq!(instance(&app, "dev%20breaks").await["phase"], "firing");
    let (status, asked) = app
        .api_post(
            "/workflows/flaky/promotions",
            json!({"to_environment": "stage", "reason": "ship it"}),
        )
        .await;
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["outcome"], "pending", "{asked}");
    let id = asked["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, detail) = app.api_get(&format!("/promotions/{id}")).await;
    let item = &detail["checklist"]["items"][0];
    assert_eq!(item["id"], "calm", "{detail:#}");
    assert_eq!(item["status"]["state"], "fail", "{item:#}");
    assert!(item.to_string().contains("dev breaks (dev)"), "{item:#}");
    assert_eq!(detail["request"]["state"], "pending", "{detail:#}");
}

async fn a_firing_alert_is_posted_to_alertmanager_again_while_it_fires(backend: Backend) {
    let clock = std::sync::Arc::new(gantry_server::runtime::clock::ShiftedClock::default());
    let app = TestApp::spawn_with_clock(
        backend,
        &["--dev", "--alert-evaluation-interval", "100ms"],
        clock.clone(),
    )
    .await;
    let (status, body) = app.apply(FLAKY).await;
    assert!(status == 201 || status == 200, "{body}");
    let (receiver, url) = Receiver::start().await;
    // Alertmanager's base URL: the channel posts to {url}/api/v2/alerts,
    // which this receiver also answers.
    let base = url.trim_end_matches("/hook").to_owned();
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "am", "kind": "alertmanager", "url": base}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .api_post(
            "/alerts/rules",
            json!({"name": "am streak", "kind": "consecutive_failures", "threshold": 1,
                   "workflow": "flaky", "channels": ["am"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    run(&app, true).await;
    let first = receiver.wait_for(1).await;
    assert_eq!(
        first[0][0]["labels"]["alertname"], "am streak",
        "{first:#?}"
    );
    // Alertmanager ends an alert nobody repeats; six minutes on, the
    // server has posted it again, still firing.
    clock.advance(chrono::Duration::minutes(6));
    let both = receiver.wait_for(2).await;
    assert_eq!(both[1][0]["labels"], both[0][0]["labels"], "{both:#?}");
    let ends: chrono::DateTime<chrono::Utc> =
        both[1][0]["endsAt"].as_str().unwrap().parse().unwrap();
    let starts: chrono::DateTime<chrono::Utc> =
        both[0][0]["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(
        ends > starts,
        "the repeat pushes the end further out: {both:#?}"
    );
}

async fn deleting_a_firing_rule_resolves_it_at_the_receiver(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    webhook(&app, "ops", &url).await;
    for (name, threshold) in [("gone", 1), ("quiet", 5)] {
        let (status, body) = app
            .api_post(
                "/alerts/rules",
                json!({"name": name, "kind": "consecutive_failures", "threshold": threshold,
                       "workflow": "flaky", "channels": ["ops"]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    run(&app, true).await;
    let firing = receiver.wait_for(1).await;
    assert_eq!(firing[0]["rule"], "gone");
    judged(&app).await;
    // A receiver would otherwise keep an incident open forever.
    for name in ["gone", "quiet"] {
        let (status, body) = app
            .api(
                reqwest::Method::DELETE,
                &format!("/alerts/rules/{name}"),
                None,
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
    let both = receiver.wait_for(2).await;
    assert_eq!(both[1]["status"], "resolved", "{both:#?}");
    assert_eq!(both[1]["fingerprint"], both[0]["fingerprint"]);
    assert_eq!(both[1]["summary"], "resolved: the rule was deleted");
    // `quiet` never fired (one failure of five): nothing owed.
    let (_, sent) = app.api_get("/alerts/notifications").await;
    assert_eq!(sent.as_array().unwrap().len(), 2, "{sent:#}");
}
