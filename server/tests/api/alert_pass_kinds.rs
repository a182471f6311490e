//! The alert kinds judged on every evaluation pass, from real state on
//! both databases: a run and a step going on too long, a schedule slot
//! queued behind a long run, a queue backlog, authentication failures from
//! one address, an admin token made, an SLO burning its budget, and a rule
//! selecting workflows by label. Each fires once and resolves once at a local webhook receiver.
//!
//! Where a condition needs time to pass (a run "three minutes old"), the
//! test moves that record's start back rather than waiting, or shifts the
//! server's clock when nothing is running that a lease could lose.

use crate::alert_receiver::Receiver;
use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(
    a_run_and_a_step_going_on_too_long_fire_and_resolve_when_cancelled,
    a_slot_queued_behind_a_long_run_is_a_missed_schedule_until_it_starts,
    a_queue_backlog_fires_while_steps_wait_for_a_worker,
    authentication_failures_from_one_address_fire_and_age_out,
    an_admin_token_fires_a_privilege_escalation_once,
    a_label_selector_takes_only_the_workflows_with_that_label,
    an_slo_burning_its_budget_pages_and_resolves_once_its_windows_calm,
);

pub(crate) const FAST: &[&str] = &["--dev", "--alert-evaluation-interval", "100ms"];

pub(crate) async fn channel(app: &TestApp) -> Receiver {
    let (receiver, url) = Receiver::start().await;
    let (status, body) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "ops", "kind": "webhook", "url": url}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    receiver
}

pub(crate) async fn rule(app: &TestApp, rule: Value) {
    let (status, body) = app.api_post("/alerts/rules", rule).await;
    assert_eq!(status, 201, "{body}");
}

/// The rule's instances once one of them is in `phase` (bounded wait).
pub(crate) async fn wait_phase(app: &TestApp, rule: &str, phase: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, list) = app.api_get(&format!("/alerts?rule={rule}")).await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().unwrap().clone();
        if list.iter().any(|i| i["phase"] == phase) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "{rule} never had an instance {phase}: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `privilege_escalation` rule named `escalations` notifying a channel,
/// once its first pass has set its audit cursor (it starts reading the log
/// at its head: records written before don't fire); the channel's receiver.
pub(crate) async fn escalation_rule(app: &TestApp) -> Receiver {
    let receiver = channel(app).await;
    rule(
        app,
        json!({"name": "escalations", "kind": "privilege_escalation", "channels": ["ops"]}),
    )
    .await;
    audit_cursor_set(app).await;
    receiver
}

async fn audit_cursor_set(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .count_sql("SELECT count(*) FROM alert_evaluator WHERE audit_seq IS NOT NULL")
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "the audit cursor was never set");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Notices as (rule, status) pairs, in arrival order.
fn notices(bodies: &[Value]) -> Vec<(String, String)> {
    bodies
        .iter()
        .map(|b| {
            (
                b["rule"].as_str().unwrap_or_default().to_owned(),
                b["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

async fn cancel(app: &TestApp, id: &str) {
    let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.finished_run(id).await;
}

const SLOW: &str = "name: slow\nsteps:\n  - id: wait\n    run: sleep 120\n";

async fn a_run_and_a_step_going_on_too_long_fire_and_resolve_when_cancelled(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    assert_eq!(app.apply(SLOW).await.0, 201);
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "slow-run", "kind": "run_too_long", "max_duration": "2m",
               "workflow": "slow", "channels": ["ops"]}),
    )
    .await;
    rule(
        &app,
        json!({"name": "slow-step", "kind": "run_too_long", "max_duration": "2m",
               "target": "step", "workflow": "sl*", "environment": "dev", "channels": ["ops"]}),
    )
    .await;
    let id = app.trigger("slow", json!({})).await;
    app.wait_run(&id, |r| step_statuses(r)["wait"] == "running")
        .await;
    // The run and its step started three minutes ago.
    let ago = minutes_ago(3);
    app.exec_sql(&format!(
        "UPDATE runs SET started_at = '{ago}' WHERE id = '{id}'"
    ))
    .await;
    app.exec_sql(&format!(
        "UPDATE run_steps SET started_at = '{ago}' WHERE run_id = '{id}'"
    ))
    .await;
    let run = wait_phase(&app, "slow-run", "firing").await;
    assert_eq!(run.len(), 1, "{run:#?}");
    assert_eq!(run[0]["workflow"], "slow");
    assert_eq!(run[0]["environment"], "dev");
    let summary = run[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("run {id} has been running for 3m")),
        "{summary}"
    );
    let step = wait_phase(&app, "slow-step", "firing").await;
    let summary = step[0]["summary"].as_str().unwrap();
    assert!(summary.contains("step wait of run"), "{summary}");
    receiver.wait_for(2).await;

    cancel(&app, &id).await;
    wait_phase(&app, "slow-run", "resolved").await;
    wait_phase(&app, "slow-step", "resolved").await;
    let bodies = receiver.wait_for(4).await;
    let mut got = notices(&bodies);
    got.sort();
    assert_eq!(
        got,
        [
            ("slow-run".to_owned(), "firing".to_owned()),
            ("slow-run".to_owned(), "resolved".to_owned()),
            ("slow-step".to_owned(), "firing".to_owned()),
            ("slow-step".to_owned(), "resolved".to_owned()),
        ],
        "one firing and one resolve each: {bodies:#?}"
    );
}

async fn a_slot_queued_behind_a_long_run_is_a_missed_schedule_until_it_starts(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    let nightly = "name: nightly\nschedule: '0 3 * * *'\nconcurrency: 1\nsteps:\n  - id: work\n    run: sleep 120\n";
    assert_eq!(app.apply(nightly).await.0, 201);
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "nightly-missed", "kind": "missed_schedule", "grace": "1m",
               "workflow": "nightly", "channels": ["ops"]}),
    )
    .await;
    // A run by hand holds the workflow's one slot of concurrency.
    let blocker = app.trigger("nightly", json!({})).await;
    app.wait_run(&blocker, |r| step_statuses(r)["work"] == "running")
        .await;
    // The next slot was due five minutes ago: the scheduler fires it at
    // once, and its run waits behind the blocker, not started.
    app.exec_sql(&format!(
        "UPDATE workflow_environments SET next_fire_at = '{}'",
        minutes_ago(5)
    ))
    .await;
    let firing = wait_phase(&app, "nightly-missed", "firing").await;
    assert_eq!(firing[0]["workflow"], "nightly");
    let summary = firing[0]["summary"].as_str().unwrap();
    assert!(summary.contains("not started"), "{summary}");
    // The scheduler fires the slot (it ticks every second); its run waits.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .count_sql(
            "SELECT count(*) FROM runs WHERE trigger_kind = 'schedule' AND status = 'queued'",
        )
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "the slot was never fired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        wait_phase(&app, "nightly-missed", "firing").await[0]["phase"],
        "firing",
        "still missed: its run has not started"
    );

    // Once the blocker ends, the slot's run starts: resolved.
    cancel(&app, &blocker).await;
    wait_phase(&app, "nightly-missed", "resolved").await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        notices(&bodies),
        [
            ("nightly-missed".to_owned(), "firing".to_owned()),
            ("nightly-missed".to_owned(), "resolved".to_owned()),
        ]
    );
    let scheduled: String = app
        .scalar_text("SELECT id FROM runs WHERE trigger_kind = 'schedule'")
        .await;
    cancel(&app, &scheduled).await;
}

async fn a_queue_backlog_fires_while_steps_wait_for_a_worker(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--alert-evaluation-interval",
            "100ms",
            "--worker-slots",
            "1",
        ],
    )
    .await;
    assert_eq!(app.apply(SLOW).await.0, 201);
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "backlog", "kind": "queue_backlog", "max_depth": 1,
               "channels": ["ops"]}),
    )
    .await;
    let first = app.trigger("slow", json!({})).await;
    app.wait_run(&first, |r| step_statuses(r)["wait"] == "running")
        .await;
    // One step waiting is within the limit; two are over it.
    let second = app.trigger("slow", json!({})).await;
    let third = app.trigger("slow", json!({})).await;
    let firing = wait_phase(&app, "backlog", "firing").await;
    assert_eq!(firing[0]["workflow"], "", "about the installation");
    let summary = firing[0]["summary"].as_str().unwrap();
    assert!(summary.contains("2 steps waiting (limit 1)"), "{summary}");

    for id in [&third, &second, &first] {
        cancel(&app, id).await;
    }
    wait_phase(&app, "backlog", "resolved").await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        notices(&bodies),
        [
            ("backlog".to_owned(), "firing".to_owned()),
            ("backlog".to_owned(), "resolved".to_owned()),
        ]
    );
}

async fn authentication_failures_from_one_address_fire_and_age_out(backend: Backend) {
    let clock = std::sync::Arc::new(gantry_server::runtime::clock::ShiftedClock::default());
    let app = TestApp::spawn_with_clock(backend, FAST, clock.clone()).await;
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "guessing", "kind": "auth_failures", "max_failures": 2,
               "window": "5m", "per_source": true, "channels": ["ops"]}),
    )
    .await;
    for _ in 0..3 {
        let status = app
            .client
            .get(app.url("/api/v1/runs"))
            .bearer_auth("gantry_not-a-real-token")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let firing = wait_phase(&app, "guessing", "firing").await;
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert_eq!(firing[0]["subject"], "127.0.0.1", "{firing:#?}");
    let summary = firing[0]["summary"].as_str().unwrap();
    assert!(summary.contains('3'), "{summary}");

    // Six minutes on, the failures are out of the window.
    clock.advance(chrono::Duration::minutes(6));
    wait_phase(&app, "guessing", "resolved").await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        notices(&bodies),
        [
            ("guessing".to_owned(), "firing".to_owned()),
            ("guessing".to_owned(), "resolved".to_owned()),
        ]
    );
    assert_eq!(bodies[0]["fingerprint"], bodies[1]["fingerprint"]);
}

async fn an_admin_token_fires_a_privilege_escalation_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    // The tokens and channels made before the rule's first pass (the
    // bootstrap token holds admin) don't fire.
    let receiver = escalation_rule(&app).await;
    let (status, body) = app
        .api_post("/tokens", json!({"name": "reader", "roles": ["viewer"]}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .api_post(
            "/tokens",
            json!({"name": "ops-admin", "roles": ["admin@prod"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let list = wait_phase(&app, "escalations", "resolved").await;
    assert_eq!(list.len(), 1, "only the admin token: {list:#?}");
    assert_eq!(list[0]["environment"], "prod");
    assert!(
        list[0]["subject"].as_str().unwrap().starts_with("audit:"),
        "{list:#?}"
    );
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        notices(&bodies),
        [
            ("escalations".to_owned(), "firing".to_owned()),
            ("escalations".to_owned(), "resolved".to_owned()),
        ]
    );
    let summary = bodies[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("ops-admin") && summary.contains("admin@prod"),
        "{summary}"
    );
    // Nothing more arrives for records already judged.
    let (_, again) = app.api_get("/alerts/notifications?rule=escalations").await;
    assert_eq!(again.as_array().unwrap().len(), 2, "{again:#}");
}

async fn a_label_selector_takes_only_the_workflows_with_that_label(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    for (name, team) in [("orders", "data"), ("frontend", "web")] {
        let yaml = format!(
            "name: {name}\nlabels: {{ team: {team} }}\nsteps:\n  - id: go\n    run: exit 1\n"
        );
        assert_eq!(app.apply(&yaml).await.0, 201);
    }
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "data-failing", "kind": "consecutive_failures", "threshold": 1,
               "labels": {"team": "data"}, "channels": ["ops"]}),
    )
    .await;
    let web = app.trigger("frontend", json!({})).await;
    app.finished_run(&web).await;
    let data = app.trigger("orders", json!({})).await;
    app.finished_run(&data).await;
    let firing = wait_phase(&app, "data-failing", "firing").await;
    let workflows: Vec<&str> = firing
        .iter()
        .map(|i| i["workflow"].as_str().unwrap())
        .collect();
    assert_eq!(workflows, ["orders"]);
    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies[0]["workflow"], "orders");
    // Both runs were judged; only the labelled one fired.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.count_sql("SELECT count(*) FROM alert_run_inbox").await > 0 {
        assert!(Instant::now() < deadline, "runs were never judged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.bodies().len(), 1);
}

async fn an_slo_burning_its_budget_pages_and_resolves_once_its_windows_calm(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    let yaml = "name: checkout\ninputs:\n  fail: { type: boolean, default: false }\nslo:\n  dev: { window: 1d, success: 99% }\nsteps:\n  - id: go\n    run: test \"${{ inputs.fail }}\" != \"true\"\n";
    assert_eq!(app.apply(yaml).await.0, 201);
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "checkout-burn", "kind": "slo_burn", "pairs": "page",
               "workflow": "checkout", "channels": ["ops"]}),
    )
    .await;
    // One failure in one run spends budget at 100× on both page windows
    // (1% allowed).
    let failed = app.trigger("checkout", json!({"fail": true})).await;
    app.finished_run(&failed).await;
    let firing = wait_phase(&app, "checkout-burn", "firing").await;
    assert_eq!(firing[0]["environment"], "dev");
    let summary = firing[0]["summary"].as_str().unwrap();
    assert!(summary.contains("success objective"), "{summary}");
    // It resolves once both page pairs' long windows are back under their
    // lines: 1h at most 14.4× and 6h at most 6×. Sixteen successes make
    // the failure 1 of 17 runs, 5.9×, in both.
    for _ in 0..16 {
        let ok = app.trigger("checkout", json!({})).await;
        app.finished_run(&ok).await;
    }
    wait_phase(&app, "checkout-burn", "resolved").await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        notices(&bodies),
        [
            ("checkout-burn".to_owned(), "firing".to_owned()),
            ("checkout-burn".to_owned(), "resolved".to_owned()),
        ]
    );
}
