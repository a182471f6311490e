//! A local HTTP receiver standing in for a webhook endpoint (and an
//! Alertmanager's `/api/v2/alerts`): it records every notification's body
//! and headers for the alerting tests to assert on.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A local receiver recording every notification body and its headers.
#[derive(Clone, Default)]
pub struct Receiver {
    pub seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl Receiver {
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = axum::Router::new()
            .route(
                "/api/v2/alerts",
                axum::routing::post(
                    |State(r): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes| async move {
                        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        r.seen.lock().unwrap().push((headers, value));
                        "ok"
                    },
                ),
            )
            .route(
                "/hook",
                axum::routing::post(
                    |State(r): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes| async move {
                        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        r.seen.lock().unwrap().push((headers, value));
                        "ok"
                    },
                ),
            )
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Waits until `n` notifications arrived (bounded).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let bodies = self.bodies();
            if bodies.len() >= n {
                return bodies;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} notifications arrived: {bodies:#?}",
                bodies.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
