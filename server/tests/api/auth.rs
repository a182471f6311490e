use crate::helpers::{TestApp, location, new_client, session_cookie};

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let resp = app.get("/runs?status=failed").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/sign-in?next=%2Fruns%3Fstatus%3Dfailed");

    let resp = app
        .sign_in_with(&[("username", "viewer"), ("next", "/runs?status=failed")])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/runs?status=failed");
    let (status, html) = app.get_html("/runs").await;
    assert_eq!(status, 200);
    assert!(html.contains("Vera Viewer"));
}

#[tokio::test]
async fn anonymous_server_function_calls_get_401() {
    let app = TestApp::spawn().await;
    let resp = app.server_fn("overview", &[]).await;
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["Port"]["kind"], "unauthenticated", "{body}");
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let resp = app.sign_in_as("admin").await;
    let cookie = session_cookie(&resp).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http dev server: {cookie}"
    );
}

#[tokio::test]
async fn session_cookie_is_secure_behind_an_https_public_url() {
    let app = TestApp::spawn_with(&["--dev", "--public-url", "https://gantry.example.com"]).await;
    let resp = app.sign_in_as("admin").await;
    let cookie = session_cookie(&resp).expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    // `__Host-`: the browser keeps it only Secure, for Path=/ and this host.
    assert!(cookie.starts_with("__Host-gantry_session="), "{cookie}");
    assert!(
        cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // Browsers are told to use https only, for a year.
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test]
async fn no_hsts_over_plain_http() {
    let app = TestApp::spawn().await;
    let resp = app.sign_in_as("admin").await;
    assert!(resp.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    let app = TestApp::spawn().await;
    let first = session_cookie(&app.sign_in_as("viewer").await).unwrap();
    let second = session_cookie(&app.sign_in_as("admin").await).unwrap();
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
}

#[tokio::test]
async fn unknown_demo_user_gets_a_message_saying_what_to_pick() {
    let app = TestApp::spawn().await;
    let resp = app.sign_in_as("root").await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert!(to.starts_with("/sign-in?error="), "{to}");
    let (status, html) = app.get_html(&to).await;
    assert_eq!(status, 200);
    assert!(html.contains("no demo user named"), "{html}");
    assert!(html.contains("role=\"alert\""));
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = TestApp::spawn().await;
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ] {
        let resp = app
            .sign_in_with(&[("username", "admin"), ("next", next)])
            .await;
        assert_eq!(location(&resp), "/", "next={next}");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = TestApp::spawn().await;
    let cookie = session_cookie(&app.sign_in_as("operator").await).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let resp = app.sign_out().await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/sign-in");
    // Replaying the old cookie from another client must not work.
    let replay = new_client()
        .get(app.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert!(location(&replay).starts_with("/sign-in"));
}

#[tokio::test]
async fn a_disabled_account_loses_access_on_its_next_request() {
    let app = TestApp::spawn().await;
    app.sign_in_as("operator").await;
    assert_eq!(app.get("/").await.status(), 200);
    sqlx::query("UPDATE users SET disabled = 1 WHERE username = 'operator'")
        .execute(&app.db().await)
        .await
        .unwrap();
    let resp = app.get("/").await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with("/sign-in"));
}

#[tokio::test]
async fn without_dev_mode_there_are_no_demo_users() {
    let app = TestApp::spawn_with(&[]).await;
    let resp = app.sign_in_as("admin").await;
    assert_eq!(resp.status(), 404);
    let (status, html) = app.get_html("/sign-in").await;
    assert_eq!(status, 200);
    assert!(!html.contains("DEV MODE"));
    assert!(!html.contains("Sign in as"));
    assert!(html.contains("No way to sign in is configured"));
}

#[tokio::test]
async fn activity_slides_the_session_but_static_assets_never_touch_it() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    // Each page view re-issues the cookie with a fresh idle expiry.
    let page = app.get("/runs").await;
    assert_eq!(page.status(), 200);
    assert!(
        session_cookie(&page).is_some(),
        "page views refresh the session"
    );
    // Within the minute, a page view writes nothing: the session row and
    // the cookie stay as they are.
    let stored = || async {
        let (expiry,): (i64,) = sqlx::query_as("SELECT expiry_date FROM sessions")
            .fetch_one(&app.db().await)
            .await
            .unwrap();
        expiry
    };
    let before = stored().await;
    let again = app.get("/runs").await;
    assert_eq!(again.status(), 200);
    assert!(
        session_cookie(&again).is_none(),
        "a second view within the minute re-issued the cookie"
    );
    assert_eq!(stored().await, before);
    // Two minutes on (the row as the last slide then left it), the next
    // view slides the expiry again.
    let (data,): (String,) = sqlx::query_as("SELECT data FROM sessions")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let seen = data["seen"]
        .as_i64()
        .expect("the session says when it last slid");
    data["seen"] = serde_json::json!(seen - 120);
    sqlx::query("UPDATE sessions SET data = ?, expiry_date = expiry_date - 120")
        .bind(data.to_string())
        .execute(&app.db().await)
        .await
        .unwrap();
    let later = app.get("/runs").await;
    assert!(session_cookie(&later).is_some(), "activity stopped sliding");
    assert!(stored().await >= before, "the idle expiry did not move");
    let css = app.get("/pkg/gantry.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        session_cookie(&css).is_none(),
        "assets are served outside the session layer"
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = TestApp::spawn_with(&[
        "--dev",
        "--session-max-lifetime",
        "30m",
        "--session-idle-timeout",
        "20m",
    ])
    .await;
    app.sign_in_as("viewer").await;
    assert_eq!(app.get("/runs").await.status(), 200);
    // Signed in an hour ago (the session row says so); active until now.
    crate::step_up::age_sessions(&app).await;
    let resp = app.get("/runs").await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with("/sign-in"));
    let api = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn a_session_idle_past_its_timeout_is_over() {
    let app = TestApp::spawn().await;
    app.sign_in_as("viewer").await;
    assert_eq!(app.get("/runs").await.status(), 200);
    // Idle: the store's expiry (which every request slides forward) passed.
    sqlx::query("UPDATE sessions SET expiry_date = ?")
        .bind(chrono::Utc::now().timestamp() - 1)
        .execute(&app.db().await)
        .await
        .unwrap();
    let resp = app.get("/runs").await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with("/sign-in"));
}

/// Every page's frame carries the configured environments for those signed
/// in (what filters and forms list, without asking for the Overview's
/// health), and none for anyone else.
#[tokio::test]
async fn the_frame_lists_the_environments_only_to_those_signed_in() {
    let app = TestApp::spawn().await;
    let resp = app.server_fn("shell", &[]).await;
    assert_eq!(resp.status(), 200);
    let signed_out: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        signed_out["environments"],
        serde_json::json!([]),
        "{signed_out}"
    );
    app.sign_in_as("viewer").await;
    let resp = app.server_fn("shell", &[]).await;
    assert_eq!(resp.status(), 200);
    let signed_in: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        signed_in["environments"],
        serde_json::json!(["dev", "stage", "prod"]),
        "{signed_in}"
    );
}
