//! The notification outbox against real `gantry serve` processes and a
//! local receiver, on both databases: retries after a 429 (honouring
//! Retry-After) and a 503 end in one delivery; a server killed (SIGKILL)
//! while a notification is in flight leaves it to the next server, which
//! delivers it under the same Idempotency-Key.

use crate::helpers::{Backend, TOKEN};
use crate::on_both_backends;
use crate::traces::serve;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_backends!(
    a_429_and_a_503_are_retried_into_one_delivery,
    a_notification_in_flight_when_its_server_dies_is_delivered_by_the_next,
);

/// How the receiver answers its n-th request (0-based); past the list: 200.
#[derive(Clone)]
enum Answer {
    Status(u16, Option<&'static str>),
    /// Never answers (the request stays in flight).
    Hang,
}

#[derive(Clone)]
struct Receiver {
    script: Arc<Vec<Answer>>,
    /// Every request's Idempotency-Key and body, in arrival order.
    seen: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let n = {
        let mut seen = r.seen.lock().unwrap();
        seen.push((key, serde_json::from_slice(&body).unwrap_or(Value::Null)));
        seen.len() - 1
    };
    match r
        .script
        .get(n)
        .cloned()
        .unwrap_or(Answer::Status(200, None))
    {
        Answer::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Answer::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).unwrap();
            match retry_after {
                Some(after) => (status, [("retry-after", after)], "").into_response(),
                None => (status, "").into_response(),
            }
        }
    }
}

async fn receiver(script: Vec<Answer>) -> (Receiver, String) {
    let r = Receiver {
        script: Arc::new(script),
        seen: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

impl Receiver {
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<(String, Value)> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen.lock().unwrap().clone();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} requests arrived",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("gantry.db").display()),
        Backend::Postgres => crate::helpers::fresh_postgres_database().await,
    }
}

async fn api(
    addr: std::net::SocketAddr,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("http://{addr}/api/v1{path}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls the history until the notification is `status`.
async fn wait_status(addr: std::net::SocketAddr, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, list) = api(
            addr,
            reqwest::Method::GET,
            "/alerts/notifications",
            Value::Null,
        )
        .await;
        if let Some(n) = list.as_array().unwrap().iter().find(|n| n["id"] == id)
            && n["status"] == status
        {
            return n.clone();
        }
        assert!(Instant::now() < deadline, "never {status}: {list:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn flags(key: &std::path::Path) -> Vec<String> {
    vec![
        "--alert-credentials-key-file".into(),
        key.display().to_string(),
        "--alert-evaluation-interval".into(),
        "200ms".into(),
        "--notification-timeout".into(),
        "1s".into(),
    ]
}

async fn a_429_and_a_503_are_retried_into_one_delivery(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("alert.key");
    std::fs::write(&key, "outbox-test-key-0123456789abcdefghijklmnop").unwrap();
    let db = database(backend, dir.path()).await;
    let extra = flags(&key);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let server = serve(&db, dir.path(), &[], &extra).await;
    let (receiver, url) = receiver(vec![
        Answer::Status(429, Some("1")),
        Answer::Status(503, None),
    ])
    .await;
    let (status, body) = api(
        server.addr,
        reqwest::Method::POST,
        "/alerts/channels",
        json!({"name": "ops", "kind": "webhook", "url": url}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, queued) = api(
        server.addr,
        reqwest::Method::POST,
        "/alerts/channels/ops/test",
        json!({}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let id = queued["id"].as_str().unwrap();
    let done = wait_status(server.addr, id, "delivered").await;
    assert_eq!(done["attempts"], 3, "{done}");
    assert_eq!(done["last_status"], 200, "{done}");
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three tries, one delivery");
    assert!(
        seen.iter().all(|(k, _)| k == id),
        "one Idempotency-Key throughout"
    );
}

async fn a_notification_in_flight_when_its_server_dies_is_delivered_by_the_next(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("alert.key");
    std::fs::write(&key, "outbox-test-key-0123456789abcdefghijklmnop").unwrap();
    let db = database(backend, dir.path()).await;
    let extra = flags(&key);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let first = serve(&db, &dir.path().join("a"), &[], &extra).await;
    // The first request is never answered: its server dies with it in
    // flight, before it could record anything.
    let (receiver, url) = receiver(vec![Answer::Hang]).await;
    let (status, body) = api(
        first.addr,
        reqwest::Method::POST,
        "/alerts/channels",
        json!({"name": "ops", "kind": "webhook", "url": url}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, queued) = api(
        first.addr,
        reqwest::Method::POST,
        "/alerts/channels/ops/test",
        json!({}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let id = queued["id"].as_str().unwrap().to_owned();
    receiver.wait_for(1, Duration::from_secs(30)).await;
    drop(first); // SIGKILL (kill_on_drop)
    let second = serve(&db, &dir.path().join("b"), &[], &extra).await;
    // Its claim lapses (twice the timeout and 5 s), then the next server
    // delivers it, once more under the same key.
    let done = wait_status(second.addr, &id, "delivered").await;
    assert_eq!(done["last_status"], 200, "{done}");
    let seen = receiver.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(
        seen.len(),
        2,
        "the lost attempt and the delivery: {seen:#?}"
    );
    assert!(seen.iter().all(|(k, _)| *k == id));
    // And no further: delivered is final.
    let (_, list) = api(
        second.addr,
        reqwest::Method::GET,
        "/alerts/notifications",
        Value::Null,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}
