//! Promotion dev → stage → prod through the REST API, on both databases:
//! the order (no skipping), the gate (approvals by other people bound to
//! what they reviewed, the checklist re-evaluated live), rollback with runs
//! in flight, the ledger's `at=` answer, policies, expiry, and the races.

use crate::helpers::{Backend, Person, TestApp};
use crate::on_both_backends;
use gantry_server::runtime::clock::ShiftedClock;
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(
    stage_needs_nothing_so_a_request_promotes_at_once,
    skipping_an_environment_is_a_conflict_naming_the_next_one,
    prod_waits_for_its_checklist_and_another_person,
    the_author_and_the_requester_cannot_approve,
    a_request_turning_green_later_is_promoted_without_another_click,
    two_approvals_arriving_together_promote_exactly_once,
    rollback_returns_to_the_previous_version_and_the_ledger_answers_at,
    rollback_leaves_running_runs_alone_unless_asked_to_cancel_them,
    racing_promotions_and_rollbacks_leave_one_version_and_every_row_audited,
    policies_are_validated_and_only_admins_edit_them,
    bad_input_gets_clear_errors,
    soak_time_counts_from_activation_and_requests_expire,
    dev_mode_seeds_a_living_promotion_demo,
    approving_into_prod_needs_a_recent_sign_in,
    a_newer_version_supersedes_the_pending_request,
    new_http_hosts_need_an_acknowledgement_naming_them,
);

const FLOW: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v1\n";
const FLOW_V2: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v2\n";
const SLOW_V2: &str = "name: ship\nsteps:\n  - id: go\n    run: sleep 30\n";

fn ask(to: &str) -> Value {
    json!({ "to_environment": to, "reason": "tested in the environment before" })
}

/// Prod's policy for most tests: one approver, `min_runs` successful stage
/// runs, a manual item for operators.
fn prod_policy(min_runs: u32) -> Value {
    json!({
        "required_approvals": 1,
        "step_up": true,
        "checklist": [
            { "id": "stage_runs", "check": { "kind": "successful_runs_in_previous",
              "min_runs": min_runs, "window": "7d", "min_success_ratio": 1.0 } },
            { "id": "on_call", "check": { "kind": "manual",
              "text": "on-call knows", "role": "operator", "evidence_required": false } },
        ],
    })
}

async fn apply(app: &TestApp, yaml: &str) -> u64 {
    let (status, body) = app.apply(yaml).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
    body["version"].as_u64().expect("version")
}

async fn set_policy(app: &TestApp, env: &str, policy: Value) {
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put(&format!("/environments/{env}/policy"), policy)
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn run_in(app: &TestApp, env: &str) -> String {
    let (status, run) = app
        .api_post(
            "/workflows/ship/runs",
            json!({ "environment": env, "inputs": {} }),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    run["id"].as_str().unwrap().to_owned()
}

async fn succeeded_run_in(app: &TestApp, env: &str) {
    let id = run_in(app, env).await;
    app.wait_run(&id, |r| r["status"] == "succeeded").await;
}

async fn active_in(app: &TestApp, env: &str) -> Option<u64> {
    let (status, body) = app.api_get("/workflows/ship").await;
    assert_eq!(status, 200, "{body}");
    body["active"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["environment"] == env)
        .map(|a| a["version"].as_u64().unwrap())
}

fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Promotes what is active in dev into stage (nothing required there).
async fn to_stage(operator: &Person) -> Value {
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "promoted", "{body}");
    body
}

/// Asks for prod; the request waits.
async fn ask_prod(operator: &Person) -> String {
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("prod"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["outcome"], "pending", "{body}");
    body["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn ledger(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app.api_get(&format!("/deployments{query}")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

async fn stage_with_v1_prod_policy(backend: Backend, min_runs: u32) -> (TestApp, Person) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    set_policy(&app, "prod", prod_policy(min_runs)).await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    (app, operator)
}

async fn stage_needs_nothing_so_a_request_promotes_at_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    assert_eq!(apply(&app, FLOW).await, 1);
    let operator = app.person("operator").await;
    let body = to_stage(&operator).await;
    let d = &body["deployment"];
    assert_eq!(d["kind"], "promotion");
    assert_eq!(d["environment"], "stage");
    assert_eq!(d["to_version"], 1);
    assert_eq!(d["from_version"], Value::Null);
    assert_eq!(d["actor"]["name"], "Oscar Operator");
    assert_eq!(active_in(&app, "stage").await, Some(1));
    // The ledger has the apply into dev and the promotion, newest first.
    let rows = ledger(&app, "?workflow=ship").await;
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["environment"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("promotion", "stage"), ("apply", "dev")]);
    // Each move has its audit record.
    let (_, audit) = app.api_get("/audit?action=workflow.promote").await;
    assert_eq!(audit["records"].as_array().unwrap().len(), 1, "{audit}");
}

async fn skipping_an_environment_is_a_conflict_naming_the_next_one(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("prod"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("stage"), "{body}");
    assert_eq!(active_in(&app, "prod").await, None);
    // Promoting into the first environment makes no sense either.
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("dev"))
        .await;
    assert_eq!(status, 409, "{body}");
}

async fn prod_waits_for_its_checklist_and_another_person(backend: Backend) {
    let (app, operator) = stage_with_v1_prod_policy(backend, 2).await;
    let id = ask_prod(&operator).await;
    let (_, detail) = operator.get(&format!("/promotions/{id}")).await;
    assert_eq!(detail["gate"]["gate"], "waiting", "{detail}");
    let items = detail["checklist"]["items"].as_array().unwrap();
    let runs = items.iter().find(|i| i["id"] == "stage_runs").unwrap();
    assert_eq!(runs["status"]["state"], "fail", "{runs}");
    assert!(
        runs["explanation"].as_str().unwrap().contains("0 of 2"),
        "{runs}"
    );

    // The requester can't approve; a viewer can't tick the operator's item.
    let (status, body) = operator
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let viewer = app.person("viewer").await;
    let (status, body) = viewer
        .post(
            &format!("/promotions/{id}/checklist/on_call"),
            json!({ "checked": true }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // Automatic items can't be ticked at all.
    let (status, body) = operator
        .post(
            &format!("/promotions/{id}/checklist/stage_runs"),
            json!({ "checked": true }),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    let (status, body) = operator
        .post(
            &format!("/promotions/{id}/checklist/on_call"),
            json!({ "checked": true, "evidence": "paged #ops" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A different person approves, but stage hasn't run enough: it waits,
    // and says why.
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(
            &format!("/promotions/{id}/approve"),
            json!({ "comment": "diff reviewed" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "pending", "{body}");
    assert_eq!(active_in(&app, "prod").await, None);

    succeeded_run_in(&app, "stage").await;
    succeeded_run_in(&app, "stage").await;
    // Unticking and ticking again re-checks the gate: now it is green.
    let (status, body) = operator
        .post(
            &format!("/promotions/{id}/checklist/on_call"),
            json!({ "checked": true }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
    assert_eq!(active_in(&app, "prod").await, Some(1));
    let d = &body["deployment"];
    assert_eq!(d["kind"], "promotion");
    assert_eq!(d["approvers"][0]["name"], "Avery Approver", "{d}");
    assert_eq!(d["checklist"]["items"].as_array().unwrap().len(), 2, "{d}");
    // Approving a promoted request is a conflict.
    let (status, _) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 409);
}

async fn the_author_and_the_requester_cannot_approve(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 1, "step_up": true }),
    )
    .await;
    // The admin writes version 1 (as a person, not the bootstrap token).
    let admin = app.person("admin").await;
    let (status, body) = admin.apply(FLOW).await;
    assert_eq!(status, 201, "{body}");
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let id = ask_prod(&operator).await;
    let (status, body) = admin
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("you applied version 1"), "{body}");
    // A viewer holds no approval right in prod.
    let viewer = app.person("viewer").await;
    let (status, _) = viewer
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 403);
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
}

async fn a_request_turning_green_later_is_promoted_without_another_click(backend: Backend) {
    let (app, operator) = stage_with_v1_prod_policy(backend, 1).await;
    let id = ask_prod(&operator).await;
    let (status, _) = operator
        .post(
            &format!("/promotions/{id}/checklist/on_call"),
            json!({ "checked": true }),
        )
        .await;
    assert_eq!(status, 200);
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "pending");
    // The last missing fact arrives on its own: the server notices.
    succeeded_run_in(&app, "stage").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while active_in(&app, "prod").await != Some(1) {
        assert!(std::time::Instant::now() < deadline, "never promoted");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, detail) = operator.get(&format!("/promotions/{id}")).await;
    assert_eq!(detail["request"]["state"], "promoted", "{detail}");
}

async fn two_approvals_arriving_together_promote_exactly_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 2, "step_up": true }),
    )
    .await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let id = ask_prod(&operator).await;
    let approver = app.person("approver").await;
    let admin = app.person("admin").await;
    let path = format!("/promotions/{id}/approve");
    let (a, b) = tokio::join!(
        approver.post(&path, json!({})),
        admin.post(&path, json!({}))
    );
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let rows = ledger(&app, "?workflow=ship&environment=prod").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["approvers"].as_array().unwrap().len(), 2);
    let (_, audit) = app.api_get("/audit?action=workflow.promote").await;
    let promotes = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["environment"] == "prod" && r["outcome"] == "succeeded")
        .count();
    assert_eq!(promotes, 1, "{audit}");
    let (_, verify) = app.api_get("/audit/verify").await;
    assert_eq!(verify["problem"], Value::Null, "{verify}");
    assert!(verify["records"].as_u64().unwrap() > 0, "{verify}");
}

async fn rollback_returns_to_the_previous_version_and_the_ledger_answers_at(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let between = chrono::Utc::now();
    apply(&app, FLOW_V2).await;
    to_stage(&operator).await;
    assert_eq!(active_in(&app, "stage").await, Some(2));

    // Without a reason: refused, nothing moved.
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": " " }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "v2 breaks the nightly export" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deployment"]["kind"], "rollback");
    assert_eq!(body["deployment"]["from_version"], 2);
    assert_eq!(body["deployment"]["to_version"], 1);
    assert_eq!(active_in(&app, "stage").await, Some(1));

    // Which version was active in stage at a moment in between: 1.
    let at = between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let rows = ledger(
        &app,
        &format!("?workflow=ship&environment=stage&at={}", urlencode(&at)),
    )
    .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["to_version"], 1);
    // Now: the rollback row.
    let rows = ledger(&app, "?workflow=ship&environment=stage").await;
    assert_eq!(rows[0]["kind"], "rollback");
    assert_eq!(rows.len(), 3);

    // Version 1 had nothing before it in stage.
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "again" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // Promoting the rolled-back version again needs an explicit confirmation.
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("rolled back"), "{body}");
    let mut confirmed = ask("stage");
    confirmed["confirm_rolled_back"] = json!(true);
    let (status, body) = operator.post("/workflows/ship/promotions", confirmed).await;
    assert_eq!(status, 200, "{body}");
    // A viewer may not roll back.
    let viewer = app.person("viewer").await;
    let (status, _) = viewer
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "x" }),
        )
        .await;
    assert_eq!(status, 403);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn rollback_leaves_running_runs_alone_unless_asked_to_cancel_them(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    apply(&app, SLOW_V2).await;
    to_stage(&operator).await;
    let kept = run_in(&app, "stage").await;
    app.wait_run(&kept, |r| r["status"] == "running").await;
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "slow" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cancelled_runs"], json!([]));
    let (_, run) = app.api_get(&format!("/runs/{kept}")).await;
    assert_eq!(
        run["status"], "running",
        "runs already going keep their version"
    );
    assert_eq!(run["version"], 2);
    // Back to version 2 (confirming), then roll back cancelling its runs.
    let mut confirmed = ask("stage");
    confirmed["confirm_rolled_back"] = json!(true);
    confirmed["version"] = json!(2);
    let (status, body) = operator.post("/workflows/ship/promotions", confirmed).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "slow", "cancel_running": true }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cancelled_runs"], json!([kept]), "{body}");
    app.wait_run(&kept, |r| r["status"] == "cancelled").await;
    // New runs start on the version rolled back to.
    let fresh = run_in(&app, "stage").await;
    let (_, run) = app.api_get(&format!("/runs/{fresh}")).await;
    assert_eq!(run["version"], 1);
}

async fn racing_promotions_and_rollbacks_leave_one_version_and_every_row_audited(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    apply(&app, FLOW_V2).await;
    // A promotion of v2 into stage and a rollback of stage race, twice.
    for _ in 0..2 {
        let (a, b) = tokio::join!(
            operator.post("/workflows/ship/promotions", {
                let mut b = ask("stage");
                b["confirm_rolled_back"] = json!(true);
                b
            }),
            operator.post(
                "/workflows/ship/rollback",
                json!({ "environment": "stage", "reason": "race" })
            ),
        );
        for (status, body) in [a, b] {
            assert!(matches!(status, 200 | 409), "{status} {body}");
        }
    }
    let pointers = app
        .count_sql("SELECT count(*) FROM workflow_environments WHERE environment = 'stage'")
        .await;
    assert_eq!(pointers, 1);
    let rows = ledger(&app, "?workflow=ship&environment=stage").await;
    // The ledger's newest row is what is active.
    assert_eq!(
        rows[0]["to_version"].as_u64(),
        active_in(&app, "stage").await,
        "{rows:?}"
    );
    // Every ledger row has its audit record.
    let moves = app
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action IN ('workflow.promote', 'workflow.rollback') \
             AND outcome = 'succeeded' AND environment = 'stage'",
        )
        .await;
    assert_eq!(moves as usize, rows.len(), "{rows:?}");
    let (_, verify) = app.api_get("/audit/verify").await;
    assert_eq!(verify["problem"], Value::Null, "{verify}");
    assert!(verify["records"].as_u64().unwrap() > 0, "{verify}");
}

async fn policies_are_validated_and_only_admins_edit_them(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = app.api_get("/environments/policies").await;
    assert_eq!(status, 200, "{body}");
    let prod = &body.as_array().unwrap()[2];
    assert_eq!(prod["environment"], "prod");
    assert_eq!(prod["is_default"], true);
    assert_eq!(prod["policy"]["required_approvals"], 1);
    let admin = app.person("admin").await;
    // The last environment can't drop step-up.
    let (status, body) = admin
        .put(
            "/environments/prod/policy",
            json!({ "required_approvals": 1, "step_up": false }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("step_up"), "{body}");
    let (status, body) = admin
        .put(
            "/environments/prod/policy",
            json!({ "required_approvals": 99 }),
        )
        .await;
    assert!(status == 422 || status == 400, "{status} {body}");
    let operator = app.person("operator").await;
    let (status, _) = operator
        .put(
            "/environments/stage/policy",
            json!({ "required_approvals": 0 }),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = admin
        .put(
            "/environments/stage/policy",
            json!({ "required_approvals": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_default"], false);
    assert_eq!(body["updated_by"]["name"], "Ada Admin");
    let (_, audit) = app.api_get("/audit?action=environment.policy_update").await;
    assert!(!audit["records"].as_array().unwrap().is_empty(), "{audit}");
}

async fn bad_input_gets_clear_errors(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    let operator = app.person("operator").await;
    let (status, _) = operator
        .post("/workflows/nope/promotions", ask("stage"))
        .await;
    assert_eq!(status, 404);
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "stage", "version": 9, "reason": "r" }),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "moon", "reason": "r" }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "stage" }),
        )
        .await;
    assert!(status == 400 || status == 422);
    let (status, _) = operator
        .get("/promotions/0195f0a0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
    let (status, _) = operator.get("/promotions/not-an-id").await;
    assert_eq!(status, 404);
    let (status, _) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "prod", "reason": "r" }),
        )
        .await;
    assert_eq!(status, 409, "nothing active in prod to roll back");
    let (status, body) = app.api_get("/workflows/ship/diff?from=1&to=1").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.api_get("/deployments?at=yesterday").await;
    assert_eq!(status, 400);
}

async fn soak_time_counts_from_activation_and_requests_expire(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(backend, &["--dev"], clock.clone()).await;
    apply(&app, FLOW).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 0, "step_up": true, "request_ttl": "1h", "checklist": [
            { "id": "soak", "check": { "kind": "soak_time", "min": "2h" } } ] }),
    )
    .await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let id = ask_prod(&operator).await;
    let (_, detail) = operator.get(&format!("/promotions/{id}")).await;
    let soak = &detail["checklist"]["items"][0];
    assert_eq!(soak["status"]["state"], "fail", "{soak}");
    // An hour and a bit later the request has expired, and says so.
    clock.advance(chrono::Duration::minutes(61));
    let (_, detail) = operator.get(&format!("/promotions/{id}")).await;
    assert_eq!(detail["request"]["state"], "expired", "{detail}");
    // The gate expired it, whoever looked first.
    let (_, audit) = app.api_get("/audit?action=promotion.expire").await;
    let records = audit["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{audit}");
    assert_eq!(
        records[0]["actor"]["name"], "Gantry (promotion gate)",
        "{audit}"
    );
    let (status, _) = operator
        .post(
            &format!("/promotions/{id}/checklist/soak"),
            json!({ "checked": true }),
        )
        .await;
    assert_eq!(status, 409);
    // Two hours after stage's activation, a new request soaked long enough
    // (asked with a fresh sign-in: prod needs one when nobody approves).
    clock.advance(chrono::Duration::minutes(60));
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("prod"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(active_in(&app, "prod").await, Some(1));
}

async fn dev_mode_seeds_a_living_promotion_demo(backend: Backend) {
    let app = TestApp::spawn_with_demo(backend).await;
    let (status, board) = app.api_get("/workflows/backup-verify").await;
    assert_eq!(status, 200, "{board}");
    let active: Vec<(String, u64)> = board["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["environment"].as_str().unwrap().to_owned(),
                a["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        active,
        [
            ("dev".to_owned(), 3),
            ("stage".to_owned(), 2),
            ("prod".to_owned(), 1)
        ]
    );
    let (_, pending) = app.api_get("/promotions?state=pending").await;
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let id = pending[0]["id"].as_str().unwrap();
    let (_, detail) = app.api_get(&format!("/promotions/{id}")).await;
    assert_eq!(detail["request"]["version"], 2);
    let items = detail["checklist"]["items"].as_array().unwrap();
    let state = |id: &str| {
        items.iter().find(|i| i["id"] == id).unwrap()["status"]["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state("stage_runs"), "fail", "{items:?}");
    assert_ne!(state("on_call_aware"), "unchecked", "{items:?}");
    // Six applies (three versions of backup-verify, one each of the other
    // demos, the secrets demo among them), v1 into stage and prod, v2 into
    // stage.
    let rows = app.count_sql("SELECT count(*) FROM deployments").await;
    assert_eq!(rows, 9);
}

async fn approving_into_prod_needs_a_recent_sign_in(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(backend, &["--dev"], clock.clone()).await;
    apply(&app, FLOW).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 1, "step_up": true }),
    )
    .await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let id = ask_prod(&operator).await;
    let approver = app.person("approver").await;
    // Two hours after signing in, the approver's sign-in is too old.
    clock.advance(chrono::Duration::hours(2));
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "step_up_required", "{body}");
    assert_eq!(active_in(&app, "prod").await, None);
    // Signing in again is enough.
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
}

async fn a_newer_version_supersedes_the_pending_request(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 1, "step_up": true }),
    )
    .await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    let first = ask_prod(&operator).await;
    // Asking again for the same version names the open request.
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("prod"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains(&first), "{body}");
    apply(&app, FLOW_V2).await;
    to_stage(&operator).await;
    let second = ask_prod(&operator).await;
    assert_ne!(first, second);
    let (_, old) = operator.get(&format!("/promotions/{first}")).await;
    assert_eq!(old["request"]["state"], "superseded", "{old}");
    let (_, pending) = app.api_get("/promotions?workflow=ship&state=pending").await;
    let pending: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(pending, [second.as_str()]);
}

async fn new_http_hosts_need_an_acknowledgement_naming_them(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, FLOW).await;
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 1, "step_up": true, "checklist": [
            { "id": "http_hosts", "check": { "kind": "no_new_http_hosts" } } ] }),
    )
    .await;
    let operator = app.person("operator").await;
    to_stage(&operator).await;
    // Version 2 calls a host nothing active in prod calls.
    apply(
        &app,
        "name: ship\nsteps:\n  - id: go\n    run: echo v2\n  - id: notify\n    needs: [go]\n    \
         http: { method: POST, url: \"https://hooks.example.com/deploy\" }\n",
    )
    .await;
    to_stage(&operator).await;
    // Only what is active in stage can go to prod.
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "prod", "version": 1, "reason": "baseline" }),
        )
        .await;
    assert_eq!(status, 409, "v1 is no longer active in stage: {body}");
    let id = ask_prod(&operator).await;
    let (_, detail) = operator.get(&format!("/promotions/{id}")).await;
    assert!(
        detail["diff"]["new_http_hosts"]
            .to_string()
            .contains("hooks.example.com"),
        "{detail}"
    );
    let item = &detail["checklist"]["items"][0];
    assert_eq!(item["status"]["state"], "needs_acknowledgement", "{item}");
    assert!(item.to_string().contains("hooks.example.com"), "{item}");
    // The requester can't acknowledge what they ask to ship; an approver can.
    let path = format!("/promotions/{id}/checklist/http_hosts");
    let (status, body) = operator.post(&path, json!({ "checked": true })).await;
    assert_eq!(status, 403, "{body}");
    let approver = app.person("approver").await;
    let (status, body) = approver.post(&path, json!({ "checked": true })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["checklist"]["items"][0]["status"]["state"], "acknowledged",
        "{body}"
    );
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
}
