//! The Approvals pages, server-rendered: asking for a run that needs a
//! second person from the workflow's form, the inbox and history, and the
//! decision form, each working as a plain post (no JavaScript) and as a
//! server function call from the hydrated page.

use crate::helpers::{TestApp, location};
use serde_json::Value;

/// Runs in dev (where new versions are active) need approval.
const GUARDED: &str = "name: deploy\napproval:\n  required_in: [dev]\n\
    inputs:\n  version:\n    type: string\n    default: '1.0'\n\
    steps:\n  - id: ship\n    run: echo shipping\n";

/// Signs in as the operator and asks for a run from the workflow page's
/// form without JavaScript; returns the request's id.
async fn ask_as_operator(app: &TestApp, reason: &str) -> String {
    app.sign_in_as("operator").await;
    let resp = app
        .plain_form_post(
            "trigger_run",
            "/workflows/deploy",
            &[
                ("workflow", "deploy"),
                ("environment", "dev"),
                ("inputs[version]", "2.1"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "/approvals");
    let (status, inbox) = app.api_get("/approvals?pending=true").await;
    assert_eq!(status, 200, "{inbox}");
    inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == reason)
        .expect("the request is in the inbox")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn guarded_app() -> TestApp {
    let app = TestApp::spawn().await;
    let (status, body) = app.apply(GUARDED).await;
    assert_eq!(status, 201, "{body}");
    app
}

#[tokio::test]
async fn a_request_asked_for_without_javascript_is_approved_by_someone_else() {
    let app = guarded_app().await;
    app.sign_in_as("operator").await;
    let (_, html) = app.get_html("/workflows/deploy").await;
    assert!(
        html.contains(r#"<textarea id="run-reason" name="reason""#),
        "{html}"
    );
    assert!(html.contains("shown to the approver where runs need approval"));

    let id = ask_as_operator(&app, "hotfix for INC-42").await;
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);
    let page = format!("/approvals/{id}");

    // The inbox lists it with who asked and why.
    let (status, html) = app.get_html("/approvals").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<h2 id=\"inbox-heading\">Inbox</h2>"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="{page}""#)), "{html}");
    assert!(html.contains("Oscar Operator"));
    assert!(html.contains("hotfix for INC-42"));
    assert!(html.contains(r#"href="/workflows/deploy?version=1""#));
    assert!(html.contains("No request has been decided yet."));

    // The requester sees the request but no buttons, and why.
    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-approval="pending""#), "{html}");
    assert!(html.contains("<code>version</code>"), "{html}");
    assert!(!html.contains(r#"value="approve""#), "{html}");
    assert!(
        html.contains("You asked for this; someone else must approve or reject it (four eyes)."),
        "{html}"
    );

    // The approver gets the form, labelled, posting without JavaScript.
    app.sign_in_as("approver").await;
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"action="/ui/decide_approval""#), "{html}");
    assert!(html.contains(r#"<label for="decision-comment">"#));
    assert!(html.contains(r#"name="decision" value="approve""#));
    assert!(html.contains(r#"name="decision" value="reject""#));
    let resp = app
        .plain_form_post(
            "decide_approval",
            &page,
            &[
                ("id", &id),
                ("decision", "approve"),
                ("comment", "checked the diff"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), page);

    let (_, request) = app.api_get(&format!("/approvals/{id}")).await;
    assert_eq!(request["status"], "approved", "{request}");
    let run_id = request["run_id"].as_str().unwrap().to_owned();
    let (_, run) = app.api_get(&format!("/runs/{run_id}")).await;
    assert_eq!(run["triggered_by"], "Oscar Operator", "{run}");
    assert_eq!(run["inputs"]["version"], "2.1");

    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-approval="approved""#), "{html}");
    assert!(html.contains("Avery Approver"));
    assert!(html.contains("checked the diff"));
    assert!(
        html.contains(&format!(r#"href="/runs/{run_id}""#)),
        "{html}"
    );
    assert!(!html.contains(r#"value="approve""#), "decided: no form");

    // Now it is history, with its outcome, decider, comment and run.
    let (_, html) = app.get_html("/approvals").await;
    assert!(html.contains("Nothing is waiting for approval."), "{html}");
    assert!(html.contains(r#"data-approval="approved""#));
    assert!(html.contains(&format!(r#"href="/runs/{run_id}""#)));
    assert!(html.contains("checked the diff"));
}

#[tokio::test]
async fn a_rejection_runs_nothing_and_a_second_decision_is_refused() {
    let app = guarded_app().await;
    let id = ask_as_operator(&app, "try the canary").await;
    let page = format!("/approvals/{id}");

    // Viewers can look but not decide, and are told why.
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html(&page).await;
    assert!(!html.contains(r#"value="approve""#));
    assert!(
        html.contains("Deciding requests in dev needs the approver or admin role there."),
        "{html}"
    );

    // From the hydrated page: JSON back, in place.
    app.sign_in_as("admin").await;
    let resp = app
        .server_fn(
            "decide_approval",
            &[("id", &id), ("decision", "reject"), ("comment", "not now")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("location").is_none());
    let decided: Value = resp.json().await.unwrap();
    assert_eq!(decided["request"]["status"], "rejected", "{decided}");
    assert_eq!(decided["run"], Value::Null);
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);

    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"data-approval="rejected""#), "{html}");
    assert!(html.contains("Nothing ran."));
    assert!(html.contains("not now"));

    // Once only: JSON gets the conflict, a plain post gets it on the page.
    let resp = app
        .server_fn("decide_approval", &[("id", &id), ("decision", "approve")])
        .await;
    assert_eq!(resp.status(), 409);
    let resp = app
        .plain_form_post(
            "decide_approval",
            &page,
            &[("id", &id), ("decision", "approve")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");
    let (_, html) = app.get_html(back.trim_start_matches(&app.url(""))).await;
    assert!(
        html.contains("only pending requests can be decided"),
        "{html}"
    );
    assert_eq!(app.count_sql("SELECT count(*) FROM runs").await, 0);

    // A button that isn't a decision is named.
    let resp = app
        .server_fn("decide_approval", &[("id", &id), ("decision", "maybe")])
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn the_approvals_page_says_when_there_is_nothing_and_unknown_requests_are_404() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/approvals").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Approvals</h1>"));
    assert!(html.contains("Nothing is waiting for approval."));
    assert!(html.contains("No request has been decided yet."));
    assert!(!html.contains("Coming to this page"));

    for path in [
        "/approvals/not-a-request",
        "/approvals/01a20651-168c-74d4-a48d-7a572d9225d2",
    ] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Not found"), "{path}");
        assert!(html.contains(r#"<main id="main""#), "{path}");
    }
}
