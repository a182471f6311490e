//! Delegating approvals through the REST API, on both databases: an
//! approver lends their approvals in prod to a named person for a while;
//! the delegate approves promotions and run approvals on their behalf
//! under four eyes; refusals say why; expired and revoked delegations stop
//! counting; everything is audited.

use crate::helpers::{Backend, Person, TestApp};
use crate::on_both_backends;
use chrono::{Duration, Utc};
use gantry_server::runtime::clock::ShiftedClock;
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(
    a_delegate_approves_promotions_and_runs_on_the_delegators_behalf,
    delegating_is_refused_to_oneself_strangers_tokens_and_non_approvers,
    delegating_needs_a_recent_sign_in,
    a_delegate_never_decides_what_they_or_the_delegator_are_party_to,
    revoked_and_expired_delegations_stop_counting,
);

/// Runs in prod wait for a second person.
const FLOW: &str =
    "name: ship\napproval:\n  required_in: [prod]\nsteps:\n  - id: go\n    run: echo v1\n";

fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn for_a_day(to: &str) -> Value {
    json!({ "to": to, "environment": "prod", "until": Utc::now() + Duration::days(1) })
}

/// A server where version 1 of `ship` is active in prod (its runs there
/// wait for a second person) and version 2 in stage, and a promotion into
/// prod needs one approval (and no checklist).
async fn ship_in_stage(backend: Backend, clock: Arc<ShiftedClock>) -> TestApp {
    let app = TestApp::spawn_with_clock(backend, &["--dev", "--worker-slots", "0"], clock).await;
    let admin = app.person("admin").await;
    let operator = app.person("operator").await;
    let policy = |required: u32| json!({ "required_approvals": required, "step_up": true });
    let (status, body) = admin.put("/environments/prod/policy", policy(0)).await;
    assert_eq!(status, 200, "{body}");
    for (spec, envs) in [
        (FLOW, &["stage", "prod"][..]),
        (&FLOW.replace("v1", "v2"), &["stage"]),
    ] {
        let (status, body) = app.apply(spec).await;
        assert_eq!(status, 201, "{body}");
        for env in envs {
            let (status, body) = operator
                .post(
                    "/workflows/ship/promotions",
                    json!({ "to_environment": env, "reason": "looked fine before" }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (status, body) = admin.put("/environments/prod/policy", policy(1)).await;
    assert_eq!(status, 200, "{body}");
    app
}

async fn delegate(from: &Person, body: Value) -> String {
    let (status, view) = from.post("/delegations", body).await;
    assert_eq!(status, 201, "{view}");
    view["id"].as_str().unwrap().to_owned()
}

/// `who` asks for prod; the request waits for an approval.
async fn ask_prod(who: &Person) -> String {
    let (status, body) = who
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "prod", "reason": "stage looked fine" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `who` starts a run in prod; it waits for approval.
async fn ask_run(who: &Person) -> String {
    let (status, body) = who
        .post("/workflows/ship/runs", json!({ "environment": "prod" }))
        .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Audit records of `action`, newest first.
async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, page) = app.api_get(&format!("/audit?action={action}")).await;
    assert_eq!(status, 200, "{page}");
    page["records"].as_array().unwrap().clone()
}

async fn a_delegate_approves_promotions_and_runs_on_the_delegators_behalf(backend: Backend) {
    let app = ship_in_stage(backend, Arc::default()).await;
    let approver = app.person("approver").await;
    let id = delegate(&approver, for_a_day("operator")).await;

    // Everyone with a role sees it, with its state.
    let viewer = app.person("viewer").await;
    let (status, list) = viewer.get("/delegations?environment=prod").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let d = &list[0];
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["from"]["name"], "Avery Approver");
    assert_eq!(d["to"]["name"], "Oscar Operator");
    assert_eq!(d["state"], "active");
    let (_, other) = viewer.get("/delegations?environment=stage").await;
    assert_eq!(other, json!([]));

    // The admin asks for prod; the operator approves for Avery.
    let admin = app.person("admin").await;
    let request = ask_prod(&admin).await;
    let operator = app.person("operator").await;
    let (_, detail) = operator.get(&format!("/promotions/{request}")).await;
    assert_eq!(
        detail["delegations"][0]["to"]["name"], "Oscar Operator",
        "the request page shows the delegations in force: {detail}"
    );
    let (status, body) = operator
        .post(
            &format!("/promotions/{request}/approve"),
            json!({ "comment": "for Avery, on leave" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
    let approval = &body["request"]["approvals"][0];
    assert_eq!(approval["by"]["name"], "Oscar Operator", "{approval}");
    assert_eq!(
        approval["on_behalf_of"]["name"], "Avery Approver",
        "{approval}"
    );

    // A run in prod waiting for a second person: the same right decides it.
    let run_request = ask_run(&admin).await;
    let (status, decided) = operator
        .post(&format!("/approvals/{run_request}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["request"]["status"], "approved", "{decided}");
    assert_eq!(decided["request"]["decided_by"]["name"], "Oscar Operator");
    assert_eq!(decided["on_behalf_of"]["name"], "Avery Approver");
    assert!(decided["run"]["id"].is_string(), "{decided}");

    // Audited: the delegation, and each decision with whose right it used.
    let made = audit(&app, "approval.delegate").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["outcome"], "succeeded");
    assert_eq!(made[0]["resource"], format!("delegation/{id}"));
    assert_eq!(made[0]["environment"], "prod");
    assert_eq!(made[0]["actor"]["name"], "Avery Approver");
    assert_eq!(made[0]["details"]["to"], "operator");
    for action in ["promotion.approve", "approval.approve"] {
        let records = audit(&app, action).await;
        assert_eq!(records.len(), 1, "{action}: {records:?}");
        assert_eq!(records[0]["actor"]["name"], "Oscar Operator", "{action}");
        assert_eq!(
            records[0]["details"]["on_behalf_of"]["name"], "Avery Approver",
            "{action}: {}",
            records[0]
        );
    }
}

async fn delegating_is_refused_to_oneself_strangers_tokens_and_non_approvers(backend: Backend) {
    let app = ship_in_stage(backend, Arc::default()).await;
    let approver = app.person("approver").await;
    let later = Utc::now() + Duration::days(1);
    // (who, body, status, what the message says)
    let operator = app.person("operator").await;
    let cases: Vec<(&Person, Value, u16, &str)> = vec![
        (
            &approver,
            for_a_day("approver"),
            400,
            "someone other than yourself",
        ),
        (&approver, for_a_day("nobody"), 404, "nobody"),
        // A NUL no username holds (PostgreSQL's text can't): nobody, not a
        // database error.
        (&approver, for_a_day("no\u{0}body"), 404, "not found"),
        (
            &approver,
            json!({ "to": "operator", "environment": "prod", "until": Utc::now() + Duration::days(91) }),
            400,
            "at most 90 days",
        ),
        (
            &approver,
            json!({ "to": "operator", "environment": "prod",
                    "from_time": Utc::now() - Duration::days(2), "until": Utc::now() - Duration::days(1) }),
            400,
            "in the past",
        ),
        (
            &approver,
            json!({ "to": "operator", "environment": "qa", "until": later }),
            400,
            "unknown environment",
        ),
        (
            &approver,
            json!({ "to": "operator", "environment": "prod" }),
            422,
            "missing field `until`",
        ),
        (
            &approver,
            for_a_day("auditor"),
            400,
            "holds no role in prod",
        ),
        (
            &operator,
            for_a_day("viewer"),
            403,
            "delegating approvals in prod needs the approver or admin role there",
        ),
    ];
    for (who, body, status, says) in cases {
        let (got, answer) = who.post("/delegations", body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(message(&answer).contains(says), "{body}: {answer}");
    }
    // A token acts with its roles, but a delegation is a person's trust in
    // a person: the bootstrap token (admin everywhere) can't.
    let (status, answer) = app.api_post("/delegations", for_a_day("operator")).await;
    assert_eq!(status, 403, "{answer}");
    assert!(message(&answer).contains("person signed in"), "{answer}");
    // A disabled account can't be the delegate.
    let (status, answer) = app.api_post("/users/viewer/disable", json!({})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = approver.post("/delegations", for_a_day("viewer")).await;
    assert_eq!(status, 400, "{answer}");
    assert!(message(&answer).contains("disabled"), "{answer}");

    // Nothing was stored; every refusal the port saw is on the record (a
    // body without `until` never reaches it).
    let (_, list) = app.api_get("/delegations").await;
    assert_eq!(list, json!([]));
    let records = audit(&app, "approval.delegate").await;
    assert_eq!(records.len(), 10, "{records:?}");
    let denied = records.iter().filter(|r| r["outcome"] == "denied").count();
    assert_eq!(denied, 2, "the operator's and the token's: {records:?}");
    assert!(records.iter().all(|r| r["outcome"] != "succeeded"));
}

async fn delegating_needs_a_recent_sign_in(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = ship_in_stage(backend, clock.clone()).await;
    let approver = app.person("approver").await;
    clock.advance(Duration::hours(1));
    let (status, answer) = approver.post("/delegations", for_a_day("operator")).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"]["code"], "step_up_required", "{answer}");
    let records = audit(&app, "approval.delegate").await;
    assert_eq!(records[0]["outcome"], "denied", "{records:?}");
    // Signing in again is enough (the day counts from the server's now).
    let approver = app.person("approver").await;
    let until = Utc::now() + Duration::hours(1) + Duration::days(1);
    let (status, answer) = approver
        .post(
            "/delegations",
            json!({ "to": "operator", "environment": "prod", "until": until }),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

async fn a_delegate_never_decides_what_they_or_the_delegator_are_party_to(backend: Backend) {
    let app = ship_in_stage(backend, Arc::default()).await;
    let approver = app.person("approver").await;
    delegate(&approver, for_a_day("operator")).await;
    let operator = app.person("operator").await;

    // The delegate's own promotion request and run request.
    let request = ask_prod(&operator).await;
    let (status, body) = operator
        .post(&format!("/promotions/{request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("you asked for this"), "{body}");
    let run_request = ask_run(&operator).await;
    let (status, body) = operator
        .post(&format!("/approvals/{run_request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("asked for this"), "{body}");
    let (status, body) = operator
        .post(&format!("/promotions/{request}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    // A version the delegator applied, a run the delegator asked for:
    // their right can't decide either.
    let admin = app.person("admin").await;
    let (status, body) = admin.apply(&FLOW.replace("v1", "v3")).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "stage", "reason": "v3" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    delegate(&admin, for_a_day("viewer")).await;
    let request = ask_prod(&operator).await;
    let viewer = app.person("viewer").await;
    let (status, body) = viewer
        .post(&format!("/promotions/{request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains(
            "Ada Admin delegated their approvals in prod to you, but Ada Admin applied version 3"
        ),
        "{body}"
    );
    let run_request = ask_run(&admin).await;
    let (status, body) = viewer
        .post(&format!("/approvals/{run_request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("Ada Admin asked for it"), "{body}");
    // Both still wait for someone entitled.
    let (_, pending) = app.api_get(&format!("/promotions/{request}")).await;
    assert_eq!(pending["request"]["state"], "pending", "{pending}");
    let (_, pending) = app.api_get(&format!("/approvals/{run_request}")).await;
    assert_eq!(pending["status"], "pending", "{pending}");
}

async fn revoked_and_expired_delegations_stop_counting(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = ship_in_stage(backend, clock.clone()).await;
    let approver = app.person("approver").await;
    let admin = app.person("admin").await;
    let request = ask_prod(&admin).await;

    // Revoked: only the delegator or an admin of prod may, once.
    let id = delegate(&approver, for_a_day("operator")).await;
    let viewer = app.person("viewer").await;
    let operator = app.person("operator").await;
    for someone_else in [&viewer, &operator] {
        let (status, body) = someone_else
            .post(&format!("/delegations/{id}/revoke"), json!({}))
            .await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, body) = approver
        .post(&format!("/delegations/{id}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "revoked", "{body}");
    assert!(body["revoked_at"].is_string(), "{body}");
    let (status, body) = approver
        .post(&format!("/delegations/{id}/revoke"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = operator
        .post(&format!("/promotions/{request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains("or a delegation from someone who holds it"),
        "{body}"
    );
    let (status, body) = approver
        .post("/delegations/not-a-uuid/revoke", json!({}))
        .await;
    assert_eq!(status, 404, "{body}");

    // An admin of prod revokes a scheduled one someone else made.
    let later = delegate(
        &approver,
        json!({ "to": "operator", "environment": "prod",
                "from_time": Utc::now() + Duration::days(2), "until": Utc::now() + Duration::days(3) }),
    )
    .await;
    let (_, list) = app.api_get("/delegations").await;
    assert_eq!(list[0]["state"], "scheduled", "{list}");
    let (status, body) = admin
        .post(&format!("/delegations/{later}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    // Expired: a day and an hour later it no longer counts (the operator
    // signs in again, so step-up isn't what refuses).
    let ending = delegate(&approver, for_a_day("operator")).await;
    let run_request = ask_run(&admin).await;
    clock.advance(Duration::hours(25));
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post(&format!("/promotions/{request}/approve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = operator
        .post(&format!("/approvals/{run_request}/approve"), json!({}))
        .await;
    // (The right is asked before the request's own expiry.)
    assert_eq!(status, 403, "{body}");
    let (status, body) = approver
        .post(&format!("/delegations/{ending}/revoke"), json!({}))
        .await;
    assert_eq!(status, 409, "an ended delegation: {body}");

    let (_, list) = app.api_get("/delegations?environment=prod").await;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ended", "revoked", "revoked"], "{list}");
    let revokes = audit(&app, "approval.delegation_revoke").await;
    let outcomes: Vec<&str> = revokes
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "failed",
            "succeeded",
            "failed",
            "failed",
            "succeeded",
            "denied",
            "denied"
        ],
        "{revokes:?}"
    );
}
