use crate::helpers::TestApp;
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_is_ready_once_migrations_are_applied() {
    let app = TestApp::spawn().await;
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "SQLite");
    assert!(body["migrations"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn readyz_is_503_naming_migrations_that_are_not_applied() {
    let app = TestApp::spawn().await;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 1")
        .execute(&app.db().await)
        .await
        .unwrap();
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("[1]") && reason.contains("not applied"),
        "{reason}"
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_newer_than_the_binary() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (9999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&app.db().await)
    .await
    .unwrap();
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("9999") && reason.contains("newer gantry"),
        "{reason}"
    );
}

#[tokio::test]
async fn probes_need_no_session_and_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let resp = app.get("/readyz").await;
    assert!(resp.headers().get("set-cookie").is_none());
    assert!(resp.headers().get("x-request-id").is_some());
}
