//! The promotion pages, server-rendered, in what doesn't depend on the
//! promotion data itself: the ways there, the ledger's GET form, and form
//! fields the dashboard refuses with the field named before anything
//! reaches the port (as JSON for the hydrated page, and as a redirect back
//! with the error for a plain post).

use crate::helpers::{TestApp, location};

const SPEC: &str = "name: report\nsteps:\n  - id: a\n    run: echo hi\n";

#[tokio::test]
async fn the_promotions_page_leads_to_the_ledger_and_the_policies() {
    let app = TestApp::spawn().await;
    app.sign_in_as("operator").await;
    let (_, html) = app.get_html("/promotions").await;
    assert!(html.contains("<h1>Promotions</h1>"), "{html}");
    assert!(html.contains("<title>Promotions · Gantry</title>"));
    assert!(html.contains(r#"<a href="/promotions/ledger">Deployment ledger</a>"#));
    assert!(html.contains(r#"<a href="/promotions/policies">Environment policies</a>"#));
    assert!(
        html.contains(r#"<div aria-live="polite" class="action-outcome">"#),
        "{html}"
    );
}

#[tokio::test]
async fn the_ledger_filters_with_a_get_form_that_works_without_javascript() {
    let app = TestApp::spawn().await;
    app.apply(SPEC).await;
    app.sign_in_as("viewer").await;
    let (_, html) = app
        .get_html("/promotions/ledger?workflow=report&at=2026-03-01T14:30")
        .await;
    assert!(html.contains("<h1>Deployment ledger</h1>"), "{html}");
    assert!(
        html.contains(r#"<form method="get" action="/promotions/ledger" role="search" aria-label="Filter the ledger""#),
        "{html}"
    );
    assert!(html.contains(r#"<label for="ledger-workflow">Workflow</label>"#));
    assert!(
        html.contains(r#"<option value="report" selected>report</option>"#),
        "{html}"
    );
    assert!(html.contains(r#"<label for="ledger-environment">Environment</label>"#));
    assert!(html.contains(r#"<option value="prod">prod</option>"#));
    assert!(
        html.contains(
            r#"<input id="ledger-at" name="at" type="datetime-local" value="2026-03-01T14:30""#
        ),
        "{html}"
    );
}

#[tokio::test]
async fn promotion_forms_name_the_field_they_cannot_read() {
    let app = TestApp::spawn().await;
    app.apply(SPEC).await;
    app.sign_in_as("admin").await;
    let field_of = |body: serde_json::Value| body["Port"]["field"].as_str().map(str::to_owned);

    let resp = app
        .server_fn(
            "request_promotion",
            &[
                ("workflow", "report"),
                ("to_environment", "stage"),
                ("version", "v2"),
                ("reason", "ready"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        field_of(resp.json().await.unwrap()).as_deref(),
        Some("version")
    );

    let resp = app
        .server_fn(
            "roll_back",
            &[
                ("workflow", "report"),
                ("environment", "dev"),
                ("to_version", "latest"),
                ("reason", "broken"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        field_of(resp.json().await.unwrap()).as_deref(),
        Some("to_version")
    );

    let resp = app
        .server_fn(
            "decide_promotion",
            &[
                ("id", "0190f0f0-0000-7000-8000-000000000000"),
                ("decision", "maybe"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        field_of(resp.json().await.unwrap()).as_deref(),
        Some("decision")
    );

    let resp = app.server_fn("deployments", &[("at", "yesterday")]).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(field_of(resp.json().await.unwrap()).as_deref(), Some("at"));

    // Without JavaScript: back to the page, the error in its URL.
    let resp = app
        .plain_form_post(
            "roll_back",
            "/promotions",
            &[
                ("workflow", "report"),
                ("environment", "dev"),
                ("to_version", "latest"),
                ("reason", "broken"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.starts_with("/promotions?"), "{back}");
    assert!(back.contains("__err="), "{back}");
}

#[tokio::test]
async fn a_policy_form_that_cannot_be_read_names_each_field_at_its_row() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    let resp = app
        .server_fn(
            "set_environment_policy",
            &[
                ("environment", "prod"),
                ("required_approvals", "one"),
                ("request_role", "operator"),
                ("rollback_role", "operator"),
                ("step_up", "true"),
                ("request_ttl", "7d"),
                ("checklist[0][id]", "soak"),
                ("checklist[0][kind]", "soak_time"),
                ("checklist[0][min]", "a while"),
                ("checklist[1][id]", "notes"),
                ("checklist[1][kind]", "manual"),
                ("checklist[1][text]", "Release notes written"),
                ("checklist[1][role]", "boss"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["Port"]["kind"], "unprocessable");
    let paths: Vec<&str> = body["Port"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "required_approvals",
            "checklist[0].check.min",
            "checklist[1].check.role"
        ]
    );
}

#[tokio::test]
async fn a_workflow_page_works_whatever_its_promotion_section_can_read() {
    let app = TestApp::spawn().await;
    app.apply(SPEC).await;
    app.sign_in_as("operator").await;
    let (status, html) = app.get_html("/workflows/report").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"<h2 id="promotion-heading">Promotion</h2>"#));
    assert!(html.contains(r#"href="/promotions/ledger?workflow=report""#));
}
