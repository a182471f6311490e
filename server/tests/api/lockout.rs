//! An address that keeps failing to authenticate is locked out for a
//! window: its sign-ins get 429 with Retry-After; its bad tokens still get
//! 401 (the token is checked either way), saying so, but are no longer
//! audited one by one; a good token from it still works (a noisy neighbour
//! behind the same NAT must not lock valid credentials out).

use crate::helpers::{TOKEN, TestApp};

#[tokio::test]
async fn repeated_bad_tokens_lock_the_address_out() {
    let app = TestApp::spawn_with(&["--dev", "--auth-failure-limit", "3"]).await;
    assert_eq!(app.sign_in_as("viewer").await.status(), 303);
    let me = |token: &'static str| {
        let req = app.client.get(app.url("/api/v1/me")).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(
            me("gantry_wrong-token-00000000000000000000000000")
                .await
                .status(),
            401
        );
    }
    let locked = me("gantry_wrong-token-00000000000000000000000000").await;
    assert_eq!(locked.status(), 401);
    let body: serde_json::Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("failed too often"), "{message}");
    // A good token from the same address is not refused: only failures
    // are throttled.
    assert_eq!(me(TOKEN).await.status(), 200);
    // While locked out, failures are not each put on the audit log (three
    // were).
    assert_eq!(
        me("gantry_wrong-token-00000000000000000000000000")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'token.rejected' AND outcome = 'denied'"
        )
        .await,
        3
    );
    // A sign-in waits the window out; a session that already exists goes
    // on working.
    assert_eq!(app.sign_in_as("admin").await.status(), 429);
    assert_eq!(app.get_html("/runs").await.0, 200);
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_form_out() {
    let app = TestApp::spawn_with(&["--dev", "--auth-failure-limit", "2"]).await;
    for _ in 0..2 {
        let resp = app.sign_in_as("mallory").await;
        assert_eq!(resp.status(), 303);
    }
    let resp = app.sign_in_as("admin").await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let page = resp.text().await.unwrap();
    assert!(page.contains("Too many failed sign-ins"), "{page}");
    assert_eq!(app.get_html("/workflows").await.0, 303, "still signed out");
}

/// `GET /api/v1/me` with a wrong token, as forwarded for `client`:
/// "401" while its address may still fail, "locked" once it is locked out
/// (still a 401, which says so).
async fn bad_token_from(app: &TestApp, client: &str) -> &'static str {
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("gantry_wrong-token-00000000000000000000000000")
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    match body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("failed too often")
    {
        true => "locked",
        false => "401",
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own() {
    let app = TestApp::spawn_with(&[
        "--auth-failure-limit",
        "2",
        "--trusted-proxies",
        "127.0.0.1",
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(bad_token_from(&app, "198.51.100.1").await, "401");
    }
    assert_eq!(bad_token_from(&app, "198.51.100.1").await, "locked");
    // Another client behind the same proxy is not locked out, and a client
    // can't dodge by writing its own entry to the left.
    assert_eq!(bad_token_from(&app, "198.51.100.2").await, "401");
    assert_eq!(
        bad_token_from(&app, "203.0.113.50, 198.51.100.1").await,
        "locked"
    );
    // The audit log names the client, not the proxy.
    let (_, page) = app.api_get("/audit?action=token.rejected").await;
    let ips: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source_ip"].as_str().unwrap())
        .collect();
    assert!(
        ips.contains(&"198.51.100.1") && ips.contains(&"198.51.100.2"),
        "{ips:?}"
    );
    assert!(!ips.contains(&"127.0.0.1"), "{ips:?}");
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = TestApp::spawn_with(&["--auth-failure-limit", "2"]).await;
    assert_eq!(bad_token_from(&app, "198.51.100.1").await, "401");
    assert_eq!(bad_token_from(&app, "198.51.100.2").await, "401");
    assert_eq!(
        bad_token_from(&app, "198.51.100.3").await,
        "locked",
        "one address"
    );
}
