use crate::helpers::TestApp;

const SECTIONS: [(&str, &str); 8] = [
    ("/", "Overview"),
    ("/workflows", "Workflows"),
    ("/runs", "Runs"),
    ("/promotions", "Promotions"),
    ("/approvals", "Approvals"),
    ("/alerts", "Alerts"),
    ("/audit", "Audit"),
    ("/admin", "Admin"),
];

#[tokio::test]
async fn every_section_renders_inside_the_layout() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    for (path, title) in SECTIONS {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: heading"
        );
        assert!(
            html.contains(&format!("<title>{title} · Gantry</title>")),
            "{path}: title"
        );
        assert!(html.contains(r#"<main id="main""#), "{path}: main landmark");
        assert!(
            html.contains(r#"aria-label="Main""#),
            "{path}: nav landmark"
        );
        assert!(
            html.contains(r##"class="skip-link" href="#main""##),
            "{path}: skip link"
        );
        assert!(html.contains("DEV MODE"), "{path}: dev banner");
        assert!(html.contains("Ada Admin"), "{path}: user menu");
        // The current section is marked for assistive technology.
        assert!(
            html.contains(&format!(r#"href="{path}" aria-current="page">{title}"#)),
            "{path}: aria-current"
        );
    }
}

#[tokio::test]
async fn pages_load_the_hydration_bundle_and_stylesheet() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html("/").await;
    assert!(html.contains("/pkg/gantry.js"));
    assert!(html.contains("gantry_bg.wasm"));
    assert!(html.contains(r#"href="/pkg/gantry.css""#));
    assert!(html.contains(r#"data-hydrated="false""#));
}

#[tokio::test]
async fn overview_shows_environments_in_promotion_order_and_the_database() {
    let app = TestApp::spawn_with(&["--dev", "--environments", "dev,qa,prod"]).await;
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html("/").await;
    let pos = |s: &str| {
        html.find(&format!(r#"<span class="env-name">{s}</span>"#))
            .unwrap()
    };
    assert!(pos("dev") < pos("qa") && pos("qa") < pos("prod"));
    assert!(html.contains("<dd>SQLite</dd>"));
}

#[tokio::test]
async fn navigation_offers_only_what_the_role_can_open() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (_, html) = app.get_html("/").await;
    assert!(html.contains(r#"href="/runs""#));
    assert!(!html.contains(r#"href="/admin""#));
    assert!(!html.contains(r#"href="/audit""#));
}

#[tokio::test]
async fn unknown_pages_are_404_inside_the_layout() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    let (status, html) = app.get_html("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"<main id="main""#));
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let resp = app.get("/sign-in").await;
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
}

#[tokio::test]
async fn sign_in_page_lists_the_five_demo_users_with_labels() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get_html("/sign-in").await;
    assert_eq!(status, 200);
    for name in [
        "Ada Admin",
        "Avery Approver",
        "Oscar Operator",
        "Vera Viewer",
        "Aubrey Auditor",
    ] {
        assert!(html.contains(&format!("Sign in as {name}")), "{name}");
    }
    assert!(html.contains(r#"action="/auth/dev/sign-in""#));
}

/// Every page carries a strict Content-Security-Policy whose nonce is fresh
/// per response and is the one on its inline scripts (app/src/csp.rs);
/// answers that aren't pages may load nothing at all.
#[tokio::test]
async fn pages_carry_a_strict_policy_with_a_fresh_nonce() {
    let app = TestApp::spawn().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let resp = app.client.get(app.url("/sign-in")).send().await.unwrap();
        let policy = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("object-src 'none'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(
            resp.headers()["reporting-endpoints"],
            "csp=\"/csp-reports\""
        );
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let html = resp.text().await.unwrap();
        let scripts = html.matches("<script").count();
        let signed = html
            .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
            .count()
            + html.matches(&format!("<script nonce=\"{nonce}\"")).count();
        assert!(
            scripts > 0 && scripts == signed,
            "{scripts} scripts, {signed} with the nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce is used once");
    let (_, _) = app.api_get("/workflows").await;
    let resp = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    // Violation reports are taken from anyone, without a session.
    let resp = reqwest::Client::new()
        .post(app.url("/csp-reports"))
        .header("content-type", "application/csp-report")
        .body(r#"{"csp-report": {"effective-directive": "script-src-elem", "blocked-uri": "inline"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}
