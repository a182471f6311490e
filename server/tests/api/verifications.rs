//! Verification after promotion through the REST API, on both databases:
//! a passing verification with the promoted workflow and version as its
//! inputs, the next environment's checklist item it feeds, a failed one
//! rolling back (and its rollback verified in turn), a failed one holding,
//! a verification workflow that can't run, and the policy's validation.

use crate::alert_pass_kinds::{FAST, channel, rule, wait_phase};
use crate::helpers::{Backend, Person, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_passing_verification_gets_the_promotion_as_inputs_and_lets_the_next_one_through,
    a_failed_verification_rolls_back_or_holds_as_the_policy_says,
    a_verification_workflow_that_cant_run_fails_the_verification,
    verification_policies_are_validated,
);

/// Fails for every version of `ship` from 2 on: the "smoke test".
const SMOKE: &str = "name: smoke
inputs:
  workflow: { type: string }
  version: { type: integer }
steps:
  - id: check
    run: test \"${{ inputs.workflow }}\" = ship && test \"${{ inputs.version }}\" -lt 2
";

fn ship(n: u32) -> String {
    format!("name: ship\nsteps:\n  - id: go\n    run: echo v{n}\n")
}

async fn apply(app: &TestApp, yaml: &str) {
    let (status, body) = app.apply(yaml).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
}

async fn promote(operator: &Person, workflow: &str, to: &str) -> Value {
    let (status, body) = operator
        .post(
            &format!("/workflows/{workflow}/promotions"),
            json!({ "to_environment": to, "reason": "ready" }),
        )
        .await;
    // 200 promoted at once, 201 a request waiting on its gate.
    assert!(status == 200 || status == 201, "{status} {body}");
    body
}

async fn set_policy(app: &TestApp, env: &str, policy: Value) {
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put(&format!("/environments/{env}/policy"), policy)
        .await;
    assert_eq!(status, 200, "{body}");
}

fn verifying(on_failure: &str) -> Value {
    json!({ "verification": { "workflow": "smoke", "on_failure": on_failure } })
}

/// Waits for the newest verification of `version` of `ship` in `env` to
/// finish (the promotion pass runs every 2 s).
async fn finished(app: &TestApp, env: &str, version: u64) -> Value {
    for _ in 0..300 {
        let (status, list) = app
            .api_get(&format!("/verifications?workflow=ship&environment={env}"))
            .await;
        assert_eq!(status, 200, "{list}");
        // The newest of that version (a rollback's may follow).
        if let Some(v) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["version"] == version)
            && (v["state"] == "passed" || v["state"] == "failed")
        {
            return v.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, list) = app.api_get("/verifications").await;
    panic!("no finished verification of version {version} in {env}: {list}");
}

/// `smoke` active in dev and stage, `ship` v1 in dev, stage verifying.
async fn setup(app: &TestApp, on_failure: &str) -> Person {
    apply(app, SMOKE).await;
    apply(app, &ship(1)).await;
    let operator = app.person("operator").await;
    promote(&operator, "smoke", "stage").await;
    set_policy(app, "stage", verifying(on_failure)).await;
    operator
}

async fn a_passing_verification_gets_the_promotion_as_inputs_and_lets_the_next_one_through(
    backend: Backend,
) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let operator = setup(&app, "hold").await;
    // Prod asks for nothing of its own: the verification item is added
    // because stage verifies.
    set_policy(
        &app,
        "prod",
        json!({ "required_approvals": 0, "step_up": true, "checklist": [] }),
    )
    .await;
    let promoted = promote(&operator, "ship", "stage").await;
    let deployment = promoted["deployment"]["id"].as_str().unwrap().to_owned();
    let v = finished(&app, "stage", 1).await;
    assert_eq!(v["state"], "passed", "{v}");
    assert_eq!(v["kind"], "promotion");
    assert_eq!(v["verifier"], "smoke");
    assert_eq!(v["deployment_id"], deployment.as_str());
    assert_eq!(v["rollback_id"], Value::Null);
    let run_id = v["run_id"].as_str().unwrap();
    assert_eq!(run_id, v["id"].as_str().unwrap());
    let (_, run) = app.api_get(&format!("/runs/{run_id}")).await;
    assert_eq!(run["workflow"], "smoke", "{run}");
    assert_eq!(run["environment"], "stage");
    assert_eq!(run["inputs"], json!({ "workflow": "ship", "version": 1 }));
    assert_eq!(run["triggered_by"], "Gantry (verification)");
    // The request's page shows it.
    let request = promoted["deployment"]["request_id"].as_str().unwrap();
    let (_, detail) = operator.get(&format!("/promotions/{request}")).await;
    assert_eq!(detail["verification"]["state"], "passed", "{detail}");
    // The audit log has the start, the run and the pass.
    for action in ["verification.start", "verification.pass"] {
        let (_, audit) = app.api_get(&format!("/audit?action={action}")).await;
        let records = audit["records"].as_array().unwrap();
        assert!(
            records
                .iter()
                .any(|r| r["details"]["verification"] == v["id"]),
            "{action}: {audit}"
        );
    }
    // Prod's promotion gets the item, green, and goes through.
    let to_prod = promote(&operator, "ship", "prod").await;
    let items = to_prod["deployment"]["checklist"]["items"]
        .as_array()
        .unwrap();
    let item = items
        .iter()
        .find(|i| i["id"] == "verification")
        .unwrap_or_else(|| panic!("{to_prod}"));
    assert_eq!(item["status"]["state"], "pass", "{item}");
    assert_eq!(to_prod["deployment"]["kind"], "promotion", "{to_prod}");
}

async fn a_failed_verification_rolls_back_or_holds_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    let receiver = channel(&app).await;
    rule(
        &app,
        json!({"name": "rollouts", "kind": "rollout_attention", "workflow": "ship",
               "channels": ["ops"]}),
    )
    .await;
    let operator = setup(&app, "rollback").await;
    promote(&operator, "ship", "stage").await;
    assert_eq!(finished(&app, "stage", 1).await["state"], "passed");

    // Version 2 fails its verification: stage goes back to version 1.
    apply(&app, &ship(2)).await;
    promote(&operator, "ship", "stage").await;
    let failed = finished(&app, "stage", 2).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["why"].as_str().unwrap().contains("failed"),
        "{failed}"
    );
    let rollback = failed["rollback_id"].as_str().expect("a rollback");
    let (_, rows) = app
        .api_get("/deployments?workflow=ship&environment=stage")
        .await;
    assert_eq!(rows[0]["id"], rollback, "{rows}");
    assert_eq!(rows[0]["kind"], "rollback");
    assert_eq!(rows[0]["to_version"], 1);
    assert_eq!(rows[0]["actor"]["name"], "Gantry (verification)");
    let reason = rows[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(failed["run_id"].as_str().unwrap()),
        "the rollback names the failed run: {reason}"
    );
    // The rollback is verified in turn, and passes (version 1).
    let back = finished(&app, "stage", 1).await;
    assert_eq!(back["kind"], "rollback", "{back}");
    assert_eq!(back["state"], "passed");
    let (_, audit) = app.api_get("/audit?action=verification.fail").await;
    let record = &audit["records"][0];
    assert_eq!(record["details"]["rollback"], rollback, "{audit}");
    // The failure is told through alerting; the rollback it made doesn't
    // settle it (someone looks at what failed), the next move there does.
    let summary = wait_summary(&app, "firing", "smoke of version 2 failed").await;
    assert!(summary.contains("rolled back"), "{summary}");

    // Holding instead: version 3 fails and stays; prod's request waits on
    // the verification item, saying why.
    set_policy(&app, "stage", verifying("hold")).await;
    apply(&app, &ship(3)).await;
    promote(&operator, "ship", "stage").await;
    let held = finished(&app, "stage", 3).await;
    assert_eq!(held["state"], "failed", "{held}");
    assert_eq!(held["rollback_id"], Value::Null);
    // A held failure stays on someone's plate: the alert names it.
    let summary = wait_summary(&app, "firing", "smoke of version 3 failed").await;
    assert!(summary.contains("held"), "{summary}");
    let told = receiver.wait_for(1).await;
    assert_eq!(told[0]["status"], "firing", "{told:#?}");
    let (_, rows) = app
        .api_get("/deployments?workflow=ship&environment=stage")
        .await;
    assert_eq!(rows[0]["to_version"], 3, "{rows}");
    let to_prod = promote(&operator, "ship", "prod").await;
    assert_eq!(
        to_prod["promotion"]["request"]["state"], "pending",
        "{to_prod}"
    );
    let item = to_prod["promotion"]["checklist"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "verification")
        .cloned()
        .unwrap_or_else(|| panic!("{to_prod}"));
    assert_eq!(item["status"]["state"], "fail", "{item}");
    assert!(
        item["explanation"]
            .as_str()
            .unwrap()
            .contains("smoke failed in stage"),
        "{item}"
    );
    // A person rolls stage back; that rollback verifies, and the alert
    // resolves.
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "to_version": 1, "reason": "v3 broke smoke" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_phase(&app, "rollouts", "resolved").await;
}

/// Waits until the `rollouts` rule's instance is in `phase` with `needle`
/// in its summary, and returns the summary.
async fn wait_summary(app: &TestApp, phase: &str, needle: &str) -> String {
    for _ in 0..300 {
        let (_, list) = app.api_get("/alerts?rule=rollouts").await;
        if let Some(i) = list.as_array().unwrap().first()
            && i["phase"] == phase
            && i["summary"].as_str().is_some_and(|s| s.contains(needle))
        {
            assert_eq!(i["environment"], "stage", "{i}");
            return i["summary"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, list) = app.api_get("/alerts?rule=rollouts").await;
    panic!("never {phase} with {needle:?}: {list:#}");
}

async fn a_verification_workflow_that_cant_run_fails_the_verification(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, &ship(1)).await;
    let operator = app.person("operator").await;
    // `smoke` doesn't exist anywhere: the verification fails, saying so,
    // and (on hold) nothing moves.
    set_policy(&app, "stage", verifying("rollback")).await;
    promote(&operator, "ship", "stage").await;
    let v = finished(&app, "stage", 1).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert!(
        v["why"]
            .as_str()
            .unwrap()
            .contains("smoke has no active version in stage"),
        "{v}"
    );
    // Nothing to roll back to (the first version there): it stays.
    assert_eq!(v["rollback_id"], Value::Null);
    let (_, runs) = app.api_get("/runs?workflow=smoke").await;
    assert_eq!(runs["runs"].as_array().map_or(0, Vec::len), 0, "{runs}");
    // Its inputs can't be filled: declared required, not offered.
    apply(
        &app,
        "name: smoke\ninputs:\n  target: { type: string }\nsteps:\n  - id: x\n    run: \"true\"\n",
    )
    .await;
    promote(&operator, "smoke", "stage").await;
    apply(&app, &ship(2)).await;
    promote(&operator, "ship", "stage").await;
    let v = finished(&app, "stage", 2).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert!(
        v["why"]
            .as_str()
            .unwrap()
            .contains("inputs can't be filled"),
        "{v}"
    );
    // On rollback, stage goes back to version 1.
    assert!(v["rollback_id"].is_string(), "{v}");
}

async fn verification_policies_are_validated(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put("/environments/dev/policy", verifying("hold"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["details"]["problems"][0]["path"],
        "verification"
    );
    let (status, body) = admin
        .put(
            "/environments/stage/policy",
            json!({ "verification": { "workflow": "Not A Name" } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["details"]["problems"][0]["path"],
        "verification.workflow"
    );
    let (status, body) = admin
        .put(
            "/environments/stage/policy",
            json!({ "verification": { "workflow": "smoke", "on_failure": "retry" } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("verification.on_failure"),
        "{body}"
    );
    let (status, body) = admin
        .put(
            "/environments/stage/policy",
            json!({ "verification": { "workflow": "smoke" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["policy"]["verification"]["on_failure"], "hold");
    // An environment that isn't configured is named as the problem.
    let (status, body) = app.api_get("/verifications?environment=nowhere").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere"),
        "{body}"
    );
}
