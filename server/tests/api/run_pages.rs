//! The Workflows and Runs pages, server-rendered: what they show, and that
//! every form works as a plain post (no JavaScript) and as a server
//! function call from the hydrated page.

use crate::helpers::{TestApp, location};

const DIAMOND: &str = r#"
name: diamond
description: Four steps in a diamond
inputs:
  count: { type: integer, default: 2, description: How many }
  region: { type: choice, options: [eu, us], default: eu }
  note: { type: string }
steps:
  - id: a
    run: echo "hello from a"
  - id: b
    needs: [a]
    run: echo b
  - id: c
    name: The c step
    needs: [a]
    run: echo c >&2
  - id: d
    needs: [b, c]
    run: echo "count ${{ inputs.count }}"
"#;

const SLOW: &str = "name: slow\nsteps:\n  - id: nap\n    run: sleep 30\n";

/// The path and query of an absolute URL from this app.
fn path_of(app: &TestApp, url: &str) -> String {
    url.trim_start_matches(&app.url("")).to_owned()
}

#[tokio::test]
async fn workflows_page_lists_workflows_and_offers_registration_to_admins() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    let (status, html) = app.get_html("/workflows").await;
    assert_eq!(status, 200);
    assert!(html.contains("gantry apply -f FILE"), "empty state");
    assert!(html.contains(r#"name="source""#), "admins get the form");

    let (status, _) = app.apply(DIAMOND).await;
    assert_eq!(status, 201);
    let (_, html) = app.get_html("/workflows").await;
    assert!(html.contains("<caption>Registered workflows</caption>"));
    assert!(
        html.contains(r#"<th scope="col">Active in dev</th>"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/workflows/diamond">diamond</a>"#));
    assert!(html.contains("Four steps in a diamond"));
    assert!(html.contains("never run"));

    let viewer = TestApp::spawn().await;
    viewer.sign_in_as("viewer").await;
    let (_, html) = viewer.get_html("/workflows").await;
    assert!(!html.contains(r#"name="source""#), "viewers get no form");
}

#[tokio::test]
async fn registering_without_javascript_redirects_or_lists_the_problems() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    let resp = app
        .plain_form_post("apply_workflow", "/workflows", &[("source", DIAMOND)])
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "/workflows/diamond");

    let bad = "name: Bad Name\nsteps:\n  - id: a\n    needs: [zz]\n    run: echo\n";
    let resp = app
        .plain_form_post("apply_workflow", "/workflows", &[("source", bad)])
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");
    let (_, html) = app.get_html(&path_of(&app, &back)).await;
    assert!(html.contains(r#"<ul class="problems">"#), "{html}");
    assert!(
        html.contains(r#"<span class="problem-line">Line <!>4</span>"#),
        "{html}"
    );
    assert!(html.contains("steps[0].needs[0]"));

    // From the hydrated page: JSON back, 422 with every problem.
    let resp = app.server_fn("apply_workflow", &[("source", bad)]).await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["Port"]["kind"], "unprocessable");
    assert!(body["Port"]["problems"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn workflow_page_draws_the_graph_and_builds_the_run_form() {
    let app = TestApp::spawn().await;
    app.apply(DIAMOND).await;
    app.sign_in_as("operator").await;
    let (status, html) = app.get_html("/workflows/diamond").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>diamond</h1>"));
    // The graph: an image with a title, and the same as a list.
    assert!(html.contains(r#"role="img""#));
    assert!(html.contains("Step graph of diamond"));
    assert_eq!(html.matches(r#"class="dag-node""#).count(), 4);
    assert_eq!(html.matches(r#"class="dag-edge""#).count(), 4);
    assert!(html.contains("The c step (c), needs a"));
    // The form: one field per input, typed, defaults filled in.
    assert!(html.contains(r#"action="/ui/trigger_run""#));
    assert!(
        html.contains(r#"type="number" step="1" id="input-count" name="inputs[count]" value="2""#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="eu" selected>"#));
    assert!(html.contains(r#"id="input-note" name="inputs[note]" value="" required"#));
    assert!(html.contains(r#"aria-describedby="input-count-desc""#));
    assert!(
        html.contains(r#"<select id="run-environment" name="environment"><option value="dev">"#)
    );
    // Versions and the spec as applied.
    assert!(html.contains(r#"href="/workflows/diamond?version=1" aria-current="page""#));
    assert!(html.contains("Four steps in a diamond"));
    assert!(html.contains(r#"class="source""#));

    // Viewers see the workflow but no run form.
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html("/workflows/diamond").await;
    assert!(!html.contains(r#"action="/ui/trigger_run""#));
    assert!(html.contains("needs the operator or admin role"));
}

#[tokio::test]
async fn running_from_the_form_without_javascript_opens_the_run() {
    let app = TestApp::spawn().await;
    app.apply(DIAMOND).await;
    app.sign_in_as("operator").await;
    let resp = app
        .plain_form_post(
            "trigger_run",
            "/workflows/diamond",
            &[
                ("workflow", "diamond"),
                ("environment", "dev"),
                ("inputs[count]", "3"),
                ("inputs[region]", "us"),
                ("inputs[note]", "hi"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let to = location(&resp);
    let id = to
        .strip_prefix("/runs/")
        .expect("to the run's page")
        .to_owned();
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");

    let (status, html) = app.get_html(&to).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("<h1>Run {}</h1>", &id[id.len() - 8..])),
        "{html}"
    );
    assert!(html.contains(r#"data-status="succeeded""#));
    assert!(
        !html.contains(r#"action="/ui/cancel_run""#),
        "finished: no cancel"
    );
    assert!(html.contains("Step timeline"));
    assert_eq!(html.matches(r#"class="timeline-bar tone-ok""#).count(), 4);
    assert!(
        html.contains("<dt>count</dt><dd><code>3</code></dd>"),
        "{html}"
    );
    // Logs: one disclosure per step, lines with their stream.
    assert_eq!(html.matches(r#"class="step-log""#).count(), 4);
    assert!(html.contains("hello from a"));
    assert!(html.contains("count 3"));
    assert!(html.contains(r#"class="log-line log-stderr""#));

    // The runs list shows it, filtered and not.
    let (_, html) = app.get_html("/runs?workflow=diamond").await;
    assert!(html.contains(&format!(r#"href="/runs/{id}""#)));
    assert!(html.contains("Durations of the 1 finished runs of diamond"));
    let (_, html) = app.get_html("/runs?status=failed").await;
    assert!(html.contains("No runs match these filters."));
}

#[tokio::test]
async fn bad_inputs_come_back_beside_their_fields() {
    let app = TestApp::spawn().await;
    app.apply(DIAMOND).await;
    app.sign_in_as("operator").await;
    let resp = app
        .plain_form_post(
            "trigger_run",
            "/workflows/diamond",
            &[
                ("workflow", "diamond"),
                ("environment", "dev"),
                ("inputs[count]", "lots"),
                ("inputs[note]", ""),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");
    let (_, html) = app.get_html(&path_of(&app, &back)).await;
    assert!(
        html.contains(
            r#"aria-describedby="input-count-desc input-count-error" aria-invalid="true""#
        ),
        "{html}"
    );
    assert!(html.contains(r#"id="input-count-error""#));
    assert!(html.contains("must be an integer"));
    // An empty field is "not given": a required input says so.
    assert!(html.contains(r#"input "note" is required"#));

    // From the hydrated page: 422 with the same problems.
    let resp = app
        .server_fn(
            "trigger_run",
            &[
                ("workflow", "diamond"),
                ("environment", "dev"),
                ("inputs[count]", "x"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn runs_page_filters_pages_and_rejects_unknown_statuses() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/runs").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<form method="GET" action="/runs""#),
        "{html}"
    );
    assert!(html.contains("No runs yet."));

    let (status, html) = app.get_html("/runs?status=done").await;
    assert_eq!(status, 400);
    assert!(html.contains("unknown status"));
    assert!(html.contains(r#"<h1>Runs</h1>"#));

    app.apply(SLOW).await;
    let id = app.trigger("slow", serde_json::json!({})).await;
    let (_, html) = app.get_html("/runs?workflow=slow&status=").await;
    assert!(html.contains(r#"<option value="slow" selected"#));
    assert!(html.contains(&format!(r#"href="/runs/{id}""#)));
    assert!(html.contains("Runs, newest first, workflow slow"));
    app.api_post(&format!("/runs/{id}/cancel"), serde_json::json!({}))
        .await;
}

#[tokio::test]
async fn cancel_without_javascript_returns_to_the_run() {
    let app = TestApp::spawn().await;
    app.apply(SLOW).await;
    let id = app.trigger("slow", serde_json::json!({})).await;
    app.sign_in_as("operator").await;
    app.wait_run(&id, |r| r["status"] == "running").await;
    let page = format!("/runs/{id}");
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"action="/ui/cancel_run""#));
    assert!(html.contains("This run is still going"), "no-JS hint");

    let resp = app
        .plain_form_post("cancel_run", &page, &[("id", &id)])
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), page);
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "cancelled");
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"data-status="cancelled""#));
    assert!(!html.contains(r#"action="/ui/cancel_run""#));

    // Cancelling again is a conflict, shown on the page.
    let resp = app
        .plain_form_post("cancel_run", &page, &[("id", &id)])
        .await;
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");

    // Viewers are never offered the button.
    let other = app.trigger("slow", serde_json::json!({})).await;
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html(&format!("/runs/{other}")).await;
    assert!(!html.contains(r#"action="/ui/cancel_run""#));
    app.api_post(&format!("/runs/{other}/cancel"), serde_json::json!({}))
        .await;
}

#[tokio::test]
async fn unknown_runs_and_workflows_are_404_inside_the_layout() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    for path in [
        "/runs/not-a-run",
        "/runs/01a20651-168c-74d4-a48d-7a572d9225d2",
        "/workflows/nope",
    ] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Not found"), "{path}");
        assert!(html.contains(r#"<main id="main""#), "{path}");
    }
}
