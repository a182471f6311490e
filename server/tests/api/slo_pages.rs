//! The SLO page and the SLOs on a workflow's page, server-rendered on both
//! databases: the figures in words and pictures, the honest low-volume
//! note, the runs that spent budget as links, and the page's status for
//! what is missing or not allowed.

use crate::helpers::Backend;
use crate::on_both_backends;
use crate::slos::{app_with_slo, run};
use serde_json::json;

const PAGE: &str = "/workflows/slo-demo/slo/dev";

async fn the_slo_page_shows_budget_burn_and_bad_runs(backend: Backend) {
    let app = app_with_slo(backend).await;
    run(&app, "ok", "succeeded").await;
    let failed = run(&app, "fail", "failed").await;
    app.sign_in_as("viewer").await;

    let (status, html) = app.get_html(PAGE).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>SLO of slo-demo in dev</h1>"), "{html}");
    assert!(html.contains("90% succeed, 80% succeed within 3s over 7days"));
    assert!(
        html.contains("Ticket: the 1d/2h at 3× pair holds"),
        "{html}"
    );
    assert!(html.contains("this page updates by itself"));
    // Each objective: its heading, SLI against target, budget bar and words.
    assert!(html.contains("Success: 90% of runs succeed"));
    assert!(html.contains("Duration: 80% of runs succeed within 3s"));
    assert!(
        html.contains("SLI 50% against a target of 90%: 1 good of 2 runs over the last 7days."),
        "{html}"
    );
    // 2 runs at 90% allow 0.2 bad ones: one spent 500% of it.
    assert!(html.contains("-400% of the error budget left: 1 bad of 0 allowed (1 bad runs over)."));
    // The bar: an image named by its figure, empty and struck through.
    assert!(html.contains(r#"class="budget-bar""#));
    assert!(html.contains(
        r#"<title>-400% of the success objective's error budget left</title><rect x="1" y="1" width="240" height="12" rx="2" class="budget-track"></rect><rect x="1" y="1" width="0" height="12" rx="2" class="tone-err"></rect><line"#
    ), "{html}");
    // Two runs cannot show 90%: said plainly, with what one failure does.
    assert!(
        html.contains("Too few runs to judge: the last 7days hold 2 runs, and a 90% target needs at least 10 runs before one failure fits in its budget. One failure now spends 500% of the budget."),
        "{html}"
    );
    // Burn windows and pairs as captioned tables.
    assert!(
        html.contains(
            "<caption>Burn rates of the success objective, per window ending now</caption>"
        )
    );
    assert!(html.contains("<caption>Alert pairs of the duration objective"));
    assert!(
        html.contains(r#"<tr data-holds="true"><th scope="row">1d/2h</th>"#),
        "{html}"
    );
    // 1 bad of 2 at 90%: 5× in every window holding both runs.
    assert!(html.contains("<td>5×</td>"));
    // The chart: titled and described, with the factors' lines.
    assert!(html.contains(r#"<title id="burn-success-title">Hourly burn rate of the success objective, last 7 days</title>"#));
    assert!(html.contains(r#"<desc id="burn-success-desc">"#));
    assert!(html.contains("2 of the hours had runs") || html.contains("1 of the hours had runs"));
    assert_eq!(html.matches(r#"class="burn-factor""#).count(), 8);
    assert!(html.contains(">14.4×</text>"));
    // The run that spent budget links to its page.
    assert!(
        html.contains("<caption>Runs that spent budget in the last 7days, newest first</caption>")
    );
    assert!(
        html.contains(&format!(r#"href="/runs/{failed}""#)),
        "{html}"
    );
    assert!(html.contains("<td>success, duration</td>"));

    // The workflow's page lists the SLO and links to it.
    let (status, html) = app.get_html("/workflows/slo-demo").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<h2 id="slos-heading">SLOs</h2>"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"<a href="{PAGE}">dev</a>"#)),
        "{html}"
    );
    assert!(html.contains("(too few runs to judge)"));
    assert!(html.contains("<td>ticket</td>"));
}

async fn missing_or_hidden_slos_say_so_with_the_right_status(backend: Backend) {
    let app = app_with_slo(backend).await;
    let (status, body) = app
        .apply("name: plain\nsteps:\n  - id: work\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/workflows/plain/slo/dev").await;
    assert_eq!(status, 404);
    assert!(html.contains("declares no slo.dev"), "{html}");
    // A workflow without SLOs shows no SLO section.
    let (status, html) = app.get_html("/workflows/plain").await;
    assert_eq!(status, 200);
    assert!(!html.contains("slos-heading"), "{html}");

    // A token that sees prod only is refused dev's SLO page.
    let (status, token) = app
        .api_post(
            "/tokens",
            json!({"name": "prod-eyes", "roles": ["viewer@prod"]}),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    let resp = crate::helpers::new_client()
        .get(app.url(PAGE))
        .bearer_auth(token["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("needs a role there"));
}

on_both_backends!(
    the_slo_page_shows_budget_burn_and_bad_runs,
    missing_or_hidden_slos_say_so_with_the_right_status,
);
