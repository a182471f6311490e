//! Freeze windows through the REST API, on both databases: declaring,
//! listing and deleting them (admins only, fields checked), promotions
//! refused and waiting while one holds, rollbacks going through, a
//! recurring window across the spring DST change in Europe/Berlin, and
//! break-glass with its audit record, ledger mark and follow-up review.

use crate::helpers::{Backend, Person, TestApp, location};
use crate::on_both_backends;
use chrono::{DateTime, Duration, Utc};
use gantry_server::runtime::clock::ShiftedClock;
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(
    windows_are_declared_listed_and_deleted_by_admins_with_fields_checked,
    a_request_during_a_one_off_freeze_is_refused_and_allowed_after_it,
    a_pending_request_waits_out_a_freeze_and_is_promoted_when_it_ends,
    a_rollback_goes_through_a_freeze,
    a_weekly_berlin_freeze_follows_the_local_clock_across_the_spring_change,
    break_glass_lets_one_request_through_and_leaves_a_review_for_another_admin,
);

const FLOW: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v1\n";
const FLOW_V2: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v2\n";

fn ask(to: &str) -> Value {
    json!({ "to_environment": to, "reason": "tested in the environment before" })
}

fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn app_with_clock(backend: Backend) -> (TestApp, Arc<ShiftedClock>) {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(backend, &["--dev"], clock.clone()).await;
    let (status, body) = app.apply(FLOW).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
    (app, clock)
}

/// Moves the clock so that it reads `target` now.
fn set_clock(clock: &ShiftedClock, target: DateTime<Utc>) {
    let now = gantry_server::runtime::clock::Clock::now(clock);
    clock.advance(target - now);
}

async fn freeze_one_off(
    admin: &Person,
    env: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Value {
    let (status, body) = admin
        .post(
            &format!("/environments/{env}/freezes"),
            json!({ "reason": "release week", "kind": "one_off",
                    "start": iso(start), "end": iso(end) }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
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

async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, body) = app.api_get(&format!("/audit?action={action}")).await;
    assert_eq!(status, 200, "{body}");
    body["records"].as_array().unwrap().clone()
}

async fn windows_are_declared_listed_and_deleted_by_admins_with_fields_checked(backend: Backend) {
    let (app, clock) = app_with_clock(backend).await;
    let now = gantry_server::runtime::clock::Clock::now(&*clock);
    let admin = app.person("admin").await;
    let operator = app.person("operator").await;
    let window = json!({ "reason": "release week", "kind": "one_off",
        "start": iso(now + Duration::hours(1)), "end": iso(now + Duration::hours(3)) });

    let (status, body) = operator
        .post("/environments/stage/freezes", window.clone())
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("only an admin of stage"), "{body}");

    let bad = [
        (
            json!({ "reason": "r", "kind": "recurring", "cron": "0 18 * *", "duration": "1h",
                 "timezone": "Europe/Berlin" }),
            "cron",
            "has 4 fields",
        ),
        (
            json!({ "reason": "r", "kind": "recurring", "cron": "0 18 * * 5", "duration": "1h",
                 "timezone": "Mars/Olympus" }),
            "timezone",
            "unknown time zone",
        ),
        (
            json!({ "reason": "r", "kind": "recurring", "cron": "0 18 * * 5", "duration": "30s",
                 "timezone": "UTC" }),
            "duration",
            "out of range",
        ),
        (
            json!({ "reason": "r", "kind": "recurring", "cron": "0 18 * * 5", "duration": "32d",
                 "timezone": "UTC" }),
            "duration",
            "out of range",
        ),
        (
            json!({ "reason": " ", "kind": "one_off", "start": iso(now + Duration::hours(1)),
                 "end": iso(now + Duration::hours(2)) }),
            "reason",
            "say why",
        ),
        (
            json!({ "reason": "r", "kind": "one_off", "start": iso(now + Duration::hours(2)),
                 "end": iso(now + Duration::hours(1)) }),
            "end",
            "after the start",
        ),
        (
            json!({ "reason": "r", "kind": "one_off", "start": iso(now - Duration::hours(2)),
                 "end": iso(now - Duration::hours(1)) }),
            "end",
            "already ended",
        ),
    ];
    for (body, field, text) in bad {
        let (status, answer) = admin.post("/environments/stage/freezes", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
        assert!(message(&answer).contains(text), "{answer}");
    }
    let (status, body) = admin
        .post("/environments/nowhere/freezes", window.clone())
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("unknown environment"), "{body}");
    let (status, body) = admin
        .post(
            "/environments/stage/freezes",
            json!({ "reason": "r", "kind": "weekly" }),
        )
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");

    let created = {
        let (status, body) = admin.post("/environments/stage/freezes", window).await;
        assert_eq!(status, 201, "{body}");
        body
    };
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["environment"], "stage");
    assert_eq!(created["created_by"]["name"], "Ada Admin");
    assert_eq!(
        at(created["next_start"].as_str().unwrap()).timestamp(),
        (now + Duration::hours(1)).timestamp()
    );
    let recurring = {
        let (status, body) = admin
            .post(
                "/environments/prod/freezes",
                json!({ "reason": "weekends", "kind": "recurring", "cron": "0 18 * * 5",
                        "duration": "60h", "timezone": "Europe/Berlin" }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    };
    assert_eq!(recurring["duration"], "2days 12h", "{recurring}");

    let (status, list) = operator.get("/environments/stage/freezes").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["windows"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["can_manage"], false);
    assert!(list.get("active").is_none(), "{list}");
    let (status, all) = operator.get("/freezes").await;
    assert_eq!(status, 200, "{all}");
    let envs: Vec<&str> = all["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["dev", "stage", "prod"]);
    assert_eq!(all["environments"][2]["windows"][0]["reason"], "weekends");

    let created_records: Vec<Value> = audit(&app, "freeze.create")
        .await
        .into_iter()
        .filter(|r| r["outcome"] == "succeeded")
        .collect();
    assert_eq!(created_records.len(), 2, "{created_records:?}");
    // The refused attempt is on record too, as denied.
    let all_records: Vec<Value> = audit(&app, "freeze.").await;
    assert!(
        all_records.iter().any(|r| r["outcome"] == "denied"),
        "{all_records:?}"
    );

    let (status, body) = operator
        .delete(&format!("/environments/stage/freezes/{id}"))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = admin
        .delete(&format!("/environments/prod/freezes/{id}"))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = admin
        .delete(&format!("/environments/stage/freezes/{id}"))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = admin
        .delete(&format!("/environments/stage/freezes/{id}"))
        .await;
    assert_eq!(status, 404, "{body}");
    let (_, list) = operator.get("/environments/stage/freezes").await;
    assert_eq!(list["windows"].as_array().unwrap().len(), 0, "{list}");
    let deleted = audit(&app, "freeze.delete").await;
    assert!(
        deleted
            .iter()
            .any(|r| r["outcome"] == "succeeded" && r["environment"] == "stage"),
        "{deleted:?}"
    );
}

async fn a_request_during_a_one_off_freeze_is_refused_and_allowed_after_it(backend: Backend) {
    let (app, clock) = app_with_clock(backend).await;
    let now = gantry_server::runtime::clock::Clock::now(&*clock);
    let admin = app.person("admin").await;
    let end = now + Duration::hours(2);
    freeze_one_off(&admin, "stage", now - Duration::minutes(1), end).await;
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 409, "{body}");
    let text = message(&body);
    assert!(text.contains("stage is frozen until"), "{text}");
    assert!(
        text.contains(&end.format("%Y-%m-%d %H:%M UTC").to_string()),
        "{text}"
    );
    assert!(text.contains("release week"), "{text}");
    assert!(
        text.contains("an admin of stage may file it and break the freeze"),
        "{text}"
    );
    assert_eq!(active_in(&app, "stage").await, None);
    let (_, all) = operator.get("/freezes").await;
    assert_eq!(
        all["environments"][1]["active"]["reason"], "release week",
        "{all}"
    );
    // Other environments are not frozen.
    assert!(all["environments"][2].get("active").is_none(), "{all}");

    clock.advance(Duration::hours(2) + Duration::minutes(1));
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "promoted", "{body}");
    assert_eq!(active_in(&app, "stage").await, Some(1));
}

/// Stage needs one approval, so a request waits for it.
async fn pending_into_stage(app: &TestApp) -> String {
    let admin = app.person("admin").await;
    let (status, body) = admin
        .put(
            "/environments/stage/policy",
            json!({ "required_approvals": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["outcome"], "pending", "{body}");
    body["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_pending_request_waits_out_a_freeze_and_is_promoted_when_it_ends(backend: Backend) {
    let (app, clock) = app_with_clock(backend).await;
    let id = pending_into_stage(&app).await;
    let now = gantry_server::runtime::clock::Clock::now(&*clock);
    let admin = app.person("admin").await;
    let end = now + Duration::hours(1);
    freeze_one_off(&admin, "stage", now - Duration::minutes(1), end).await;
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    // Everything else holds: only the freeze keeps it waiting.
    assert_eq!(body["request"]["state"], "pending", "{body}");
    let reasons = body["gate"]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{body}");
    assert_eq!(reasons[0]["kind"], "frozen", "{body}");
    assert_eq!(reasons[0]["reason"], "release week", "{body}");
    assert_eq!(
        at(reasons[0]["until"].as_str().unwrap()).timestamp(),
        end.timestamp()
    );
    assert_eq!(body["freeze"]["active"]["reason"], "release week", "{body}");
    assert_eq!(active_in(&app, "stage").await, None);

    // Once the freeze ends, the background pass promotes it on its own.
    clock.advance(Duration::hours(1) + Duration::minutes(1));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while active_in(&app, "stage").await != Some(1) {
        assert!(std::time::Instant::now() < deadline, "never promoted");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, detail) = approver.get(&format!("/promotions/{id}")).await;
    assert_eq!(detail["request"]["state"], "promoted", "{detail}");
    assert!(
        detail["deployment"].get("freeze_break").is_none(),
        "{detail}"
    );
}

async fn a_rollback_goes_through_a_freeze(backend: Backend) {
    let (app, clock) = app_with_clock(backend).await;
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.apply(FLOW_V2).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(active_in(&app, "stage").await, Some(2));
    let now = gantry_server::runtime::clock::Clock::now(&*clock);
    let admin = app.person("admin").await;
    freeze_one_off(
        &admin,
        "stage",
        now - Duration::minutes(1),
        now + Duration::hours(4),
    )
    .await;
    let (status, body) = operator
        .post(
            "/workflows/ship/rollback",
            json!({ "environment": "stage", "reason": "v2 is broken" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(active_in(&app, "stage").await, Some(1));
    // Promoting forward again waits for the freeze.
    let (status, body) = operator
        .post(
            "/workflows/ship/promotions",
            json!({ "to_environment": "stage", "reason": "fixed", "version": 2,
                    "confirm_rolled_back": true }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("frozen"), "{body}");
}

async fn a_weekly_berlin_freeze_follows_the_local_clock_across_the_spring_change(backend: Backend) {
    let (app, clock) = app_with_clock(backend).await;
    let admin = app.person("admin").await;
    let (status, body) = admin
        .post(
            "/environments/stage/freezes",
            json!({ "reason": "weekend", "kind": "recurring", "cron": "0 18 * * 5",
                    "duration": "60h", "timezone": "Europe/Berlin" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let state = |body: &Value| -> (Option<String>, Option<String>) {
        let env = &body["environments"][1];
        (
            env["active"]["until"].as_str().map(str::to_owned),
            env["windows"][0]["next_start"].as_str().map(str::to_owned),
        )
    };
    // Clocks go forward in Berlin on Sunday 2027-03-28. Friday 18:00 CET is
    // 17:00Z; Monday 06:00 CEST is 04:00Z: 59 hours that weekend.
    set_clock(&clock, at("2027-03-26T16:55:00Z"));
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(
        state(&body),
        (None, Some("2027-03-26T17:00:00Z".into())),
        "{body}"
    );

    // Sessions age by the moved clock: sign in after each jump.
    set_clock(&clock, at("2027-03-26T17:01:00Z"));
    let operator = app.person("operator").await;
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(
        state(&body),
        (
            Some("2027-03-29T04:00:00Z".into()),
            Some("2027-04-02T16:00:00Z".into())
        ),
        "{body}"
    );
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        message(&body).contains("until 2027-03-29 04:00 UTC: weekend"),
        "{body}"
    );

    // Monday 05:55 CEST: still frozen; 06:01 CEST: free.
    set_clock(&clock, at("2027-03-29T03:55:00Z"));
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(
        state(&body).0.as_deref(),
        Some("2027-03-29T04:00:00Z"),
        "{body}"
    );
    set_clock(&clock, at("2027-03-29T04:01:00Z"));
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(
        state(&body),
        (None, Some("2027-04-02T16:00:00Z".into())),
        "{body}"
    );
    let operator = app.person("operator").await;
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "promoted", "{body}");

    // The next Friday, in summer time, it starts at 18:00 CEST (16:00Z).
    set_clock(&clock, at("2027-04-02T15:59:00Z"));
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(state(&body).0, None, "{body}");
    set_clock(&clock, at("2027-04-02T16:01:00Z"));
    let (_, body) = app.api_get("/freezes").await;
    assert_eq!(
        state(&body).0.as_deref(),
        Some("2027-04-05T04:00:00Z"),
        "{body}"
    );
}

async fn break_glass_lets_one_request_through_and_leaves_a_review_for_another_admin(
    backend: Backend,
) {
    let (app, clock) = app_with_clock(backend).await;
    let id = pending_into_stage(&app).await;
    let now = gantry_server::runtime::clock::Clock::now(&*clock);
    let admin = app.person("admin").await;
    freeze_one_off(
        &admin,
        "stage",
        now - Duration::minutes(1),
        now + Duration::days(1),
    )
    .await;
    let approver = app.person("approver").await;
    let (status, body) = approver
        .post(&format!("/promotions/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "pending", "{body}");

    let path = format!("/promotions/{id}/break-freeze");
    let reason = json!({ "reason": "security fix CVE-1" });
    let operator = app.person("operator").await;
    for who in [&operator, &approver] {
        let (status, body) = who.post(&path, reason.clone()).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, body) = admin.post(&path, json!({ "reason": "  " })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "reason", "{body}");
    // Two hours after signing in, the admin must sign in again.
    clock.advance(Duration::hours(2));
    let (status, body) = admin.post(&path, reason.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "step_up_required", "{body}");
    assert_eq!(active_in(&app, "stage").await, None);

    let admin = app.person("admin").await;
    let (status, body) = admin.post(&path, reason.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "promoted", "{body}");
    assert_eq!(
        body["freeze"]["broken"]["reason"], "security fix CVE-1",
        "{body}"
    );
    assert_eq!(active_in(&app, "stage").await, Some(1));
    let (status, body) = admin.post(&path, reason.clone()).await;
    assert_eq!(status, 409, "{body}");

    // The ledger row says so.
    let (status, rows) = app
        .api_get("/deployments?workflow=ship&environment=stage")
        .await;
    assert_eq!(status, 200, "{rows}");
    let row = &rows[0];
    assert_eq!(row["request_id"], id.as_str(), "{row}");
    assert_eq!(row["freeze_break"]["reason"], "security fix CVE-1", "{row}");
    assert_eq!(row["freeze_break"]["by"]["name"], "Ada Admin", "{row}");

    // Audited as freeze.break, which the privilege-escalation alert reads.
    let records = audit(&app, "freeze.break").await;
    let ok: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"] == "succeeded")
        .collect();
    assert_eq!(ok.len(), 1, "{records:?}");
    assert_eq!(ok[0]["environment"], "stage");
    assert_eq!(ok[0]["details"]["reason"], "security fix CVE-1");
    assert_eq!(ok[0]["details"]["request"], id.as_str());
    assert!(
        records.iter().any(|r| r["outcome"] == "denied"),
        "{records:?}"
    );

    // Only that request: the next one into stage is still refused.
    let (status, body) = app.apply(FLOW_V2).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = operator
        .post("/workflows/ship/promotions", ask("stage"))
        .await;
    assert_eq!(status, 409, "{body}");
    // An admin may still file one: it waits for the freeze like any other,
    // until broken for it.
    let (status, body) = admin.post("/workflows/ship/promotions", ask("stage")).await;
    assert_eq!(status, 201, "{body}");
    let second = body["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body["promotion"]["gate"]["reasons"][0]["kind"], "frozen",
        "{body}"
    );
    let (status, body) = approver
        .post(&format!("/promotions/{second}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["state"], "pending", "{body}");
    // This time from the request's page, without JavaScript: only admins
    // of the target see the form.
    let page = format!("/promotions/{second}");
    app.sign_in_as("approver").await;
    let (_, html) = app.get_html(&page).await;
    assert!(!html.contains(r#"id="break-freeze""#), "{html}");
    app.sign_in_as("admin").await;
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"id="break-freeze""#), "{html}");
    let resp = app
        .plain_form_post(
            "break_freeze",
            &page,
            &[("id", second.as_str()), ("reason", "second fix")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), page);
    assert_eq!(active_in(&app, "stage").await, Some(2));
    let (_, html) = app.get_html("/promotions/ledger?workflow=ship").await;
    assert!(html.contains("freeze-break"), "{html}");
    assert!(html.contains("second fix"), "{html}");
    let (_, html) = app.get_html("/promotions/policies").await;
    assert!(html.contains("Broken freezes awaiting review"), "{html}");

    // The follow-up review: listed until another admin reviews it.
    let (_, all) = admin.get("/freezes").await;
    let waiting = all["awaiting_review"].as_array().unwrap();
    assert_eq!(waiting.len(), 2, "{all}");
    // Newest first.
    assert_eq!(waiting[0]["request_id"], second.as_str());
    assert_eq!(waiting[1]["request_id"], id.as_str());
    let break_id = waiting[1]["id"].as_str().unwrap().to_owned();
    let review = format!("/freeze-breaks/{break_id}/review");
    let (status, body) = admin.post(&review, json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("another admin"), "{body}");
    let (status, body) = operator.post(&review, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .api_post(&review, json!({ "comment": "justified" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["review_comment"], "justified", "{body}");
    let (status, body) = app.api_post(&review, json!({})).await;
    assert_eq!(status, 409, "{body}");
    let (_, all) = admin.get("/freezes").await;
    let waiting = all["awaiting_review"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{all}");
    assert_eq!(waiting[0]["request_id"], second.as_str());
    assert_eq!(
        audit(&app, "freeze.review")
            .await
            .iter()
            .filter(|r| r["outcome"] == "succeeded")
            .count(),
        1
    );
}

#[tokio::test]
async fn admins_declare_a_freeze_on_the_policies_page_without_javascript_and_it_shows_on_promotions()
 {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let local = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    app.sign_in_as("operator").await;
    let (_, html) = app.get_html("/promotions/policies").await;
    assert!(html.contains("Freeze windows"), "{html}");
    assert!(!html.contains(r#"id="freeze-reason-stage""#), "{html}");

    app.sign_in_as("admin").await;
    let (_, html) = app.get_html("/promotions/policies").await;
    assert!(html.contains(r#"id="freeze-reason-stage""#), "{html}");
    // A start that can't be read comes back with the error.
    let resp = app
        .plain_form_post(
            "create_freeze",
            "/promotions/policies",
            &[
                ("environment", "stage"),
                ("window[reason]", "code freeze"),
                ("window[kind]", "one_off"),
                ("window[start]", "soon"),
                ("window[end]", &local(now + Duration::hours(2))),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert!(location(&resp).contains("__err="), "{}", location(&resp));

    let start = local(now - Duration::minutes(1));
    let end = local(now + Duration::hours(2));
    let resp = app
        .plain_form_post(
            "create_freeze",
            "/promotions/policies",
            &[
                ("environment", "stage"),
                ("window[reason]", "code freeze"),
                ("window[kind]", "one_off"),
                ("window[start]", &start),
                ("window[end]", &end),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "/promotions/policies#freezes-stage");
    let (_, html) = app.get_html("/promotions/policies").await;
    assert!(html.contains("code freeze"), "{html}");
    assert!(html.contains(">Delete</button>"), "{html}");
    let (_, html) = app.get_html("/promotions").await;
    assert!(html.contains("freeze-banner"), "{html}");
    assert!(html.contains(r#"data-environment="stage""#), "{html}");
    assert!(html.contains("code freeze"), "{html}");
}
