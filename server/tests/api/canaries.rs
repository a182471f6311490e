//! Canary promotions through the REST API, on both databases: the plan in
//! prod's policy, runs admitted by weight (the share of 2,000 admissions,
//! sticky inputs, pins), an automatic rollback with canary runs queued and
//! running, a good canary advancing to 100%, and the manual controls.

use crate::alert_pass_kinds::{FAST, channel, rule, wait_phase};
use crate::helpers::{Backend, Person, TestApp};
use crate::on_both_backends;
use gantry_core::canary::{Weight, takes_canary};
use serde_json::{Value, json};

on_both_backends!(
    canary_plans_are_validated_in_the_policy,
    admissions_follow_the_weight_and_pins,
    a_failing_canary_is_rolled_back_with_its_queued_and_running_runs,
    a_good_canary_advances_through_its_steps_and_becomes_active,
    manual_controls_need_their_roles_and_a_reason,
    a_rollback_in_the_environment_ends_its_live_canary,
    triggers_racing_a_promotion_of_the_canary_all_land,
);

const V1: &str = "name: ship
inputs:
  key: { type: string, default: none }
steps:
  - id: go
    run: \"true\"
";

/// A canary that never finishes in time: every run times out.
const V2_SLOW: &str = "name: ship
concurrency: 2
timeout: 3s
inputs:
  key: { type: string, default: none }
steps:
  - id: go
    run: sleep 30
";

const V2_GOOD: &str = "name: ship
inputs:
  key: { type: string, default: none }
steps:
  - id: go
    run: echo v2
";

/// A canary that sits in the queue: one run at a time, which never ends.
const V2_STUCK: &str = "name: ship
concurrency: 1
inputs:
  key: { type: string, default: none }
steps:
  - id: go
    run: sleep 600
";

fn prod_policy(canary: Value) -> Value {
    json!({ "required_approvals": 0, "step_up": true, "checklist": [], "canary": canary })
}

async fn apply(app: &TestApp, yaml: &str) -> u64 {
    let (status, body) = app.apply(yaml).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
    body["version"].as_u64().expect("version")
}

async fn promote(operator: &Person, to: &str) -> Value {
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": to, "reason": "tested before" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// v1 active in dev, stage and prod; `canary` as prod's plan; `v2` applied
/// and promoted into stage and then prod, which starts its canary.
/// Returns the canary.
async fn canary_of(app: &TestApp, canary: Value, v2: &str) -> (Person, Value) {
    apply(app, V1).await;
    let operator = app.person("operator").await;
    promote(&operator, "stage").await;
    // Nothing active in prod yet: no stable version to compare with, so
    // the first promotion there is a plain one.
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put("/environments/prod/policy", prod_policy(canary))
        .await;
    assert_eq!(status, 200, "{body}");
    let first = promote(&operator, "prod").await;
    assert_eq!(first["deployment"]["kind"], "promotion", "{first}");
    apply(app, v2).await;
    promote(&operator, "stage").await;
    let started = promote(&operator, "prod").await;
    assert_eq!(started["deployment"]["kind"], "canary", "{started}");
    assert_eq!(started["deployment"]["to_version"], 2);
    let (status, list) = operator.get("/canaries?workflow=ship&live=true").await;
    assert_eq!(status, 200, "{list}");
    let canary = list[0].clone();
    assert_eq!(canary["state"], "running", "{canary}");
    (operator, canary)
}

async fn trigger(app: &TestApp, body: Value) -> (u16, Value) {
    app.api_post("/workflows/ship/runs", body).await
}

async fn run_with_key(app: &TestApp, key: &str) -> Value {
    let (status, run) = trigger(
        app,
        json!({ "environment": "prod", "inputs": { "key": key } }),
    )
    .await;
    assert_eq!(status, 201, "{run}");
    run
}

/// Sticky keys that land on the canary (`true`) or stable at `weight`%.
fn keys(canary_id: &str, weight: u32, on_canary: bool, n: usize) -> Vec<String> {
    let w = Weight::from_ppm(weight * 10_000).unwrap();
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|k| takes_canary(canary_id, &format!("input:{k}"), w) == on_canary)
        .take(n)
        .collect()
}

async fn canary(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.api_get(&format!("/canaries/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the canary until `done` holds (the gate's pass runs every 2 s).
async fn wait_canary(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let c = canary(app, id).await;
        if done(&c["canary"]) {
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the canary never got there: {}", canary(app, id).await);
}

async fn canary_plans_are_validated_in_the_policy(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put(
            "/environments/prod/policy",
            prod_policy(
                json!({ "steps": [{ "weight": 50 }, { "weight": 20 }, { "weight": 100 }] }),
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["error"]["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["canary.steps[1].weight", "canary.steps[2].weight"],
        "{body}"
    );
    // dev is the first environment: nothing is promoted into it.
    let (status, body) = admin
        .put(
            "/environments/dev/policy",
            json!({ "canary": { "steps": [{ "weight": 10 }] } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("can't have canaries"), "{body}");
    let plan = json!({ "steps": [{ "weight": 10 }, { "weight": 50, "min_runs": 100 }],
                       "sticky_input": "tenant" });
    let (status, body) = admin
        .put("/environments/prod/policy", prod_policy(plan))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, policies) = admin.get("/environments/policies").await;
    let prod = policies
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["environment"] == "prod")
        .unwrap();
    assert_eq!(
        prod["policy"]["canary"]["steps"][1]["min_runs"], 100,
        "{prod}"
    );
    assert_eq!(
        prod["policy"]["canary"]["steps"][0]["min_time"], "10m",
        "{prod}"
    );
    assert_eq!(prod["policy"]["canary"]["sticky_input"], "tenant");
}

async fn admissions_follow_the_weight_and_pins(backend: Backend) {
    // 2,000 triggers at once, most of them left unfinished: past the
    // shipped trigger rate and backpressure limits, which are not what is
    // tested here.
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--rate-limit",
            "trigger=off",
            "--max-unfinished-runs-per-workflow",
            "0",
            "--max-unfinished-runs-per-environment",
            "0",
        ],
    )
    .await;
    // A canary that is never judged done: v2 runs queue behind one stuck
    // run, so nothing finishes and the weight stays at 30%.
    let plan = json!({ "steps": [{ "weight": 30, "min_runs": 1000 }] });
    let (_, c) = canary_of(&app, plan, V2_STUCK).await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["weight"], 30);
    // 2,000 admissions by run id: the canary's share is 30% within four
    // standard deviations (±4.1 points).
    for _ in 0..2_000 {
        let (status, run) = trigger(&app, json!({ "environment": "prod" })).await;
        assert_eq!(status, 201, "{run}");
    }
    let on_canary = app
        .count_sql(&format!(
            "SELECT count(*) FROM runs WHERE canary_id = '{id}' AND canary_arm = 'canary'"
        ))
        .await;
    let on_stable = app
        .count_sql(&format!(
            "SELECT count(*) FROM runs WHERE canary_id = '{id}' AND canary_arm = 'stable' AND version = 1"
        ))
        .await;
    assert_eq!(on_canary + on_stable, 2_000);
    let share = on_canary as f64 / 2_000.0;
    assert!((share - 0.30).abs() < 0.041, "canary share {share}");
    // The canary's runs run version 2, the stable ones version 1.
    assert_eq!(
        app.count_sql(&format!(
            "SELECT count(*) FROM runs WHERE canary_id = '{id}' AND canary_arm = 'canary' AND version = 2"
        ))
        .await,
        on_canary
    );
    // Pins: the canary's version or the active one, recorded as pinned.
    let (status, pinned) = trigger(&app, json!({ "environment": "prod", "version": 2 })).await;
    assert_eq!(status, 201, "{pinned}");
    assert_eq!(pinned["version"], 2);
    let (status, body) = trigger(&app, json!({ "environment": "prod", "version": 7 })).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("neither active in prod (version 1) nor its canary (version 2)"),
        "{body}"
    );
    assert_eq!(
        app.count_sql(&format!(
            "SELECT count(*) FROM runs WHERE id = '{}' AND pinned = TRUE",
            pinned["id"].as_str().unwrap()
        ))
        .await,
        1
    );
    // The trigger's audit record says which side the run got.
    let (_, audit) = app
        .api_get("/audit?action=run.trigger&outcome=succeeded&limit=5")
        .await;
    assert_eq!(
        audit["records"][0]["details"]["canary_arm"], "canary",
        "{audit}"
    );
    assert_eq!(audit["records"][0]["details"]["version"], 2, "{audit}");
}

async fn a_failing_canary_is_rolled_back_with_its_queued_and_running_runs(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    // People are told through alerting while the hold waits on them.
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "rollouts", "kind": "rollout_attention", "channels": ["ops"]}),
    )
    .await;
    let plan = json!({
        "steps": [{ "weight": 50, "min_runs": 50, "min_time": "0s" }],
        "running_on_failure": "cancel",
        "sticky_input": "key",
        "analysis": { "max_failure_increase_absolute": 0.05 },
    });
    let (operator, c) = canary_of(&app, plan, V2_SLOW).await;
    let id = c["id"].as_str().unwrap().to_owned();
    // Stable first (canary runs at the head of the queue would hold
    // stable ones behind them): ten clean runs of version 1.
    for key in keys(&id, 50, false, 10) {
        let run = run_with_key(&app, &key).await;
        assert_eq!(run["version"], 1, "{run}");
        app.wait_run(run["id"].as_str().unwrap(), |r| r["status"] == "succeeded")
            .await;
    }
    // Ten canary runs: two run (its concurrency) and time out after 3 s,
    // the next two start, and so on; the rest queue.
    let mut canary_runs = Vec::new();
    for key in keys(&id, 50, true, 10) {
        let run = run_with_key(&app, &key).await;
        assert_eq!(run["version"], 2, "{run}");
        canary_runs.push(run["id"].as_str().unwrap().to_owned());
    }
    let done = wait_canary(&app, &id, |c| c["state"] == "rolled_back").await;
    let c = &done["canary"];
    assert_eq!(c["weight"], 0);
    assert_eq!(c["held"], true);
    assert!(
        c["why"].as_str().unwrap().starts_with("the canary failed:"),
        "{c}"
    );
    let last = done["evaluations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["decision"], "fail", "{last}");
    assert!(last["canary"]["failures"].as_u64().unwrap() >= 2, "{last}");
    // The ledger's rollback row names the analysis; v1 stays active.
    let (_, rows) = app
        .api_get("/deployments?workflow=ship&environment=prod")
        .await;
    assert_eq!(rows[0]["kind"], "rollback", "{rows}");
    assert_eq!(rows[0]["from_version"], 2);
    assert_eq!(rows[0]["to_version"], 1);
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("fails more often"),
        "{rows}"
    );
    assert_eq!(rows[1]["kind"], "canary", "{rows}");
    let (_, wf) = app.api_get("/workflows/ship").await;
    let prod = wf["active"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["environment"] == "prod")
        .unwrap();
    assert_eq!(prod["version"], 1, "{wf}");
    // Queued canary runs moved to version 1 and succeeded; running ones
    // were cancelled (the policy's `cancel`); none is left on the canary.
    let mut moved = 0;
    let mut cancelled = 0;
    for run in &canary_runs {
        let r = app
            .wait_run(run, |r| {
                ["succeeded", "cancelled", "timed_out"].contains(&r["status"].as_str().unwrap())
            })
            .await;
        match r["status"].as_str().unwrap() {
            "succeeded" => {
                assert_eq!(r["version"], 1, "{r}");
                moved += 1;
            }
            "cancelled" => cancelled += 1,
            _ => {}
        }
    }
    assert!(moved >= 1, "no queued canary run moved to stable");
    // Those running at that moment (usually two: the queue refills as
    // runs time out) were stopped.
    let (_, audit) = app.api_get("/audit?action=canary.rollback").await;
    let record = &audit["records"][0];
    assert_eq!(record["details"]["readmitted"], moved, "{record}");
    assert_eq!(record["details"]["stopped"], cancelled, "{record}");
    let firing = wait_phase(&app, "rollouts", "firing").await;
    assert_eq!(
        (&firing[0]["workflow"], &firing[0]["environment"]),
        (&json!("ship"), &json!("prod"))
    );
    let summary = firing[0]["summary"].as_str().unwrap();
    assert!(summary.contains("clears the hold"), "{summary}");
    // A new promotion of v2 into prod waits for a person to clear the hold.
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "prod", "reason": "fixed", "confirm_rolled_back": true }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let waits = body["promotion"]["waits_for"].as_str().unwrap();
    assert!(
        waits.contains("until an approver clears the hold"),
        "{body}"
    );
    let (status, body) = operator
        .post(&format!("/canaries/{id}/clear-hold"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/canaries/{id}/clear-hold"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["held"], false);
    wait_phase(&app, "rollouts", "resolved").await;
    let told: Vec<Value> = receiver.wait_for(2).await;
    let statuses: Vec<&str> = told.iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["firing", "resolved"], "{told:#?}");
}

async fn a_good_canary_advances_through_its_steps_and_becomes_active(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let plan = json!({
        "steps": [{ "weight": 20, "min_runs": 5, "min_time": "0s" },
                  { "weight": 60, "min_runs": 5, "min_time": "0s" }],
        "analysis": { "max_failure_increase_absolute": 0.5 },
    });
    let (_, c) = canary_of(&app, plan, V2_GOOD).await;
    let id = c["id"].as_str().unwrap().to_owned();
    // Runs until the canary is promoted, bounded.
    for round in 0.. {
        assert!(round < 40, "not promoted: {}", canary(&app, &id).await);
        let state = canary(&app, &id).await["canary"]["state"].clone();
        if state == "promoted" {
            break;
        }
        assert_eq!(state, "running");
        let mut ids = Vec::new();
        for _ in 0..10 {
            let (status, run) = trigger(&app, json!({ "environment": "prod" })).await;
            assert_eq!(status, 201, "{run}");
            ids.push(run["id"].as_str().unwrap().to_owned());
        }
        for run in ids {
            app.wait_run(&run, |r| r["status"] == "succeeded").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let detail = canary(&app, &id).await;
    assert_eq!(detail["canary"]["weight"], 100);
    let steps: Vec<u64> = detail["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert!(steps.contains(&0) && steps.contains(&1), "{detail}");
    let (_, rows) = app
        .api_get("/deployments?workflow=ship&environment=prod")
        .await;
    assert_eq!(rows[0]["kind"], "promotion", "{rows}");
    assert_eq!(rows[0]["to_version"], 2);
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("the canary passed every step"),
        "{rows}"
    );
    assert_eq!(rows[1]["kind"], "canary");
    let (_, audit) = app.api_get("/audit?action=canary.advance").await;
    assert_eq!(audit["records"].as_array().unwrap().len(), 1, "{audit}");
    // Every run admitted now gets version 2.
    let (_, run) = trigger(&app, json!({ "environment": "prod" })).await;
    assert_eq!(run["version"], 2, "{run}");
}

async fn manual_controls_need_their_roles_and_a_reason(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let plan = json!({ "steps": [{ "weight": 10, "min_runs": 1000 }] });
    let (operator, c) = canary_of(&app, plan, V2_STUCK).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let viewer = app.person("viewer").await;
    let (status, body) = viewer
        .post(&format!("/canaries/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = operator
        .post(&format!("/canaries/{id}/fly"), json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = operator
        .post(
            "/canaries/0190f5a4-0000-7000-8000-000000000000/pause",
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = operator
        .post(&format!("/canaries/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "paused");
    assert_eq!(body["why"], "paused by Oscar Operator");
    let (status, body) = operator
        .post(&format!("/canaries/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = operator
        .post(&format!("/canaries/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "running");
    // Promoting skips the analysis: approvers only, and with a reason.
    let (status, body) = operator
        .post(
            &format!("/canaries/{id}/promote"),
            json!({ "reason": "looks fine" }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/canaries/{id}/promote"), json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reason"),
        "{body}"
    );
    // Aborting: the operator, with a reason; v1 stays, nothing is held.
    let (status, body) = operator
        .post(&format!("/canaries/{id}/abort"), json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = operator
        .post(
            &format!("/canaries/{id}/abort"),
            json!({ "reason": "wrong build" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "aborted");
    assert_eq!(body["weight"], 0);
    assert_eq!(body["held"], false);
    let (_, rows) = app
        .api_get("/deployments?workflow=ship&environment=prod")
        .await;
    assert_eq!(rows[0]["kind"], "rollback", "{rows}");
    assert_eq!(rows[0]["reason"], "aborted by Oscar Operator: wrong build");
    let (status, body) = approver
        .post(&format!("/canaries/{id}/clear-hold"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    // Every control is audited, refusals included.
    for (action, outcome) in [
        ("canary.pause", "denied"),
        ("canary.pause", "succeeded"),
        ("canary.abort", "succeeded"),
        ("canary.promote", "denied"),
    ] {
        let (_, audit) = app
            .api_get(&format!("/audit?action={action}&outcome={outcome}"))
            .await;
        assert!(
            !audit["records"].as_array().unwrap().is_empty(),
            "{action} {outcome}: {audit}"
        );
    }
    // After the abort, runs go to v1 again.
    let (_, run) = trigger(&app, json!({ "environment": "prod" })).await;
    assert_eq!(run["version"], 1, "{run}");
}

async fn a_rollback_in_the_environment_ends_its_live_canary(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let plan = json!({ "steps": [{ "weight": 50, "min_runs": 1000 }] });
    // v2's canary promoted by hand (an approver, with a reason), so v3's
    // canary runs against v2 with v1 behind it to roll back to.
    let (operator, c) = canary_of(&app, plan, V2_GOOD).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let (status, body) = operator
        .post(
            &format!("/canaries/{id}/promote"),
            json!({ "reason": "enough" }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(
            &format!("/canaries/{id}/promote"),
            json!({ "reason": "looks right" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "promoted");
    // Version 3 starts a canary against 2; rolling prod back to 1 ends it.
    apply(&app, "name: ship\ninputs:\n  key: { type: string, default: none }\nsteps:\n  - id: go\n    run: echo v3\n").await;
    promote(&operator, "stage").await;
    let started = promote(&operator, "prod").await;
    assert_eq!(started["deployment"]["kind"], "canary", "{started}");
    let (_, live) = operator.get("/canaries?workflow=ship&live=true").await;
    let live_id = live[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "prod", "reason": "v2 misbehaves" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deployment"]["to_version"], 1, "{body}");
    let ended = canary(&app, &live_id).await;
    assert_eq!(ended["canary"]["state"], "aborted", "{ended}");
    assert_eq!(
        ended["canary"]["why"],
        "ended by Oscar Operator's rollback: v2 misbehaves"
    );
    // Runs go to the version the rollback made active.
    let (_, run) = trigger(&app, json!({ "environment": "prod" })).await;
    assert_eq!(run["version"], 1, "{run}");
}

/// A trigger locks its lane's row and then, through the run's foreign
/// keys, its workflow's and canary's rows; a promotion locks the workflow's
/// and canary's rows and then the lane's. With PostgreSQL's `FOR UPDATE`
/// the foreign key checks waited for the promotion's locks, which waited
/// for the lane: a deadlock, and a trigger answered 500. Triggers keep
/// coming from several clients until the promotion has answered: every
/// trigger lands, and the promotion too.
async fn triggers_racing_a_promotion_of_the_canary_all_land(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let plan = json!({ "steps": [{ "weight": 90, "min_runs": 1000 }] });
    let (_, c) = canary_of(&app, plan, V2_STUCK).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let approver = app.person("approver").await;
    let promoted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (going, mut all_going) = tokio::sync::mpsc::channel(8);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = app.client.clone();
        let url = app.url("/api/v1/workflows/ship/runs");
        let promoted = promoted.clone();
        let going = going.clone();
        clients.spawn(async move {
            let mut answers = Vec::new();
            // Each client has had an answer before the promotion starts,
            // and goes on until it has answered: the two overlap whatever
            // the timing.
            while answers.len() < 3 || !promoted.load(std::sync::atomic::Ordering::Acquire) {
                let resp = client
                    .post(url.clone())
                    .bearer_auth(crate::helpers::TOKEN)
                    .json(&json!({ "environment": "prod" }))
                    .send()
                    .await
                    .expect("trigger");
                let status = resp.status().as_u16();
                answers.push((status, resp.text().await.unwrap_or_default()));
                if answers.len() == 1 {
                    going
                        .send(())
                        .await
                        .expect("the test waits for every client");
                }
            }
            answers
        });
    }
    drop(going);
    for _ in 0..8 {
        all_going.recv().await.expect("every client answered once");
    }
    let (status, body) = approver
        .post(
            &format!("/canaries/{id}/promote"),
            json!({ "reason": "racing the triggers" }),
        )
        .await;
    promoted.store(true, std::sync::atomic::Ordering::Release);
    assert_eq!(status, 200, "{body}");
    let mut landed = 0;
    while let Some(answers) = clients.join_next().await {
        for (status, run) in answers.expect("a trigger client") {
            assert_eq!(status, 201, "{run}");
            landed += 1;
        }
    }
    assert!(landed >= 24, "{landed} triggers");
    assert_eq!(canary(&app, &id).await["canary"]["state"], "promoted");
}
