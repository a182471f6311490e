use crate::helpers::{TestApp, location};
use serde_json::Value;

#[tokio::test]
async fn saved_preferences_shape_every_later_page() {
    let app = TestApp::spawn().await;
    app.sign_in_as("operator").await;
    let resp = app
        .server_fn(
            "save_preferences",
            &[("theme", "dark"), ("time_display", "local")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    assert_eq!(saved["theme"], "dark");
    let (_, html) = app.get_html("/runs").await;
    assert!(
        html.contains(r#"data-theme="dark""#),
        "theme applied server-side"
    );
    let (_, html) = app.get_html("/preferences").await;
    assert!(html.contains(r#"<option value="local" selected"#), "{html}");
}

#[tokio::test]
async fn a_bad_value_is_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    app.sign_in_as("operator").await;
    let resp = app
        .server_fn(
            "save_preferences",
            &[("theme", "neon"), ("time_display", "utc")],
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["Port"]["kind"], "invalid");
    assert_eq!(body["Port"]["field"], "theme");
    // Nothing was half-written.
    let (_, html) = app.get_html("/").await;
    assert!(html.contains(r#"data-theme="system""#));
}

#[tokio::test]
async fn without_javascript_the_form_posts_and_returns_to_the_page() {
    let app = TestApp::spawn().await;
    app.sign_in_as("approver").await;
    let resp = app
        .plain_form_post(
            "save_preferences",
            "/preferences",
            &[("theme", "light"), ("time_display", "utc")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    // Leptos strips its error parameters and may leave a bare `?`; the
    // Referer's origin is ours, so only its path is kept.
    assert_eq!(location(&resp).trim_end_matches('?'), "/preferences");
    let (_, html) = app.get_html("/preferences").await;
    assert!(html.contains(r#"data-theme="light""#));

    // Errors come back in the URL and are shown on the page.
    let resp = app
        .plain_form_post(
            "save_preferences",
            "/preferences",
            &[("theme", "neon"), ("time_display", "utc")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");
    let path = back.trim_start_matches(&app.url(""));
    let (_, html) = app.get_html(path).await;
    assert!(html.contains("unknown theme"), "{html}");
}

#[tokio::test]
async fn anonymous_callers_cannot_save_preferences() {
    let app = TestApp::spawn().await;
    let resp = app
        .server_fn(
            "save_preferences",
            &[("theme", "dark"), ("time_display", "utc")],
        )
        .await;
    assert_eq!(resp.status(), 401);
}
