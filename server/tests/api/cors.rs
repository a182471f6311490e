//! Cross-origin access to the REST API (http/cors.rs): none by default; the
//! origins `--cors-allowed-origins` lists may call it with a token, never
//! with credentials; others get no `Access-Control-Allow-Origin`.

use crate::helpers::{TOKEN, TestApp};
use reqwest::{Client, Method};

const TOOLS: &str = "https://tools.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    Client::new()
        .request(Method::OPTIONS, app.url("/api/v1/runs"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn read_from(app: &TestApp, origin: &str) -> reqwest::Response {
    Client::new()
        .get(app.url("/api/v1/runs"))
        .bearer_auth(TOKEN)
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

fn allow_origin(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let app = TestApp::spawn().await;
    let resp = read_from(&app, TOOLS).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(allow_origin(&resp), None);
    let resp = preflight(&app, TOOLS).await;
    assert_eq!(allow_origin(&resp), None);
    assert!(resp.headers().get("access-control-allow-methods").is_none());
}

#[tokio::test]
async fn a_listed_origin_may_call_the_api_with_a_token_never_with_credentials() {
    let app = TestApp::spawn_with(&[
        "--dev",
        "--cors-allowed-origins",
        "https://Tools.Example.com,http://localhost:5173",
    ])
    .await;
    let resp = preflight(&app, TOOLS).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(allow_origin(&resp).as_deref(), Some(TOOLS));
    let methods = resp.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let headers = resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("authorization"), "{headers}");
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let resp = read_from(&app, "http://localhost:5173").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        allow_origin(&resp).as_deref(),
        Some("http://localhost:5173")
    );
    // Another origin: the browser is told nothing, so it denies.
    let resp = read_from(&app, "https://evil.example").await;
    assert_eq!(allow_origin(&resp), None);
    let resp = preflight(&app, "https://evil.example").await;
    assert_eq!(allow_origin(&resp), None);
}

#[tokio::test]
async fn a_star_allows_any_origin_without_credentials() {
    let app = TestApp::spawn_with(&["--dev", "--cors-allowed-origins", "*"]).await;
    let resp = read_from(&app, "https://anyone.example").await;
    assert_eq!(allow_origin(&resp).as_deref(), Some("*"));
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}
