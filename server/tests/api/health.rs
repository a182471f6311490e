use crate::helpers::{TestApp, fresh_postgres_database};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// A TCP forwarder to PostgreSQL that can be cut (its listener closed,
/// so connections are refused, and every forwarded connection dropped: the
/// database is down, as far as the server can tell) and restored on the
/// same port.
struct Cuttable {
    addr: std::net::SocketAddr,
    target: String,
    accepting: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    cut: Arc<tokio::sync::Notify>,
}

impl Cuttable {
    async fn to(target: String) -> Cuttable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cut = Arc::new(tokio::sync::Notify::new());
        let proxy = Cuttable {
            addr: listener.local_addr().unwrap(),
            target,
            accepting: std::sync::Mutex::new(None),
            cut,
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: tokio::net::TcpListener) {
        let (target, cuts) = (self.target.clone(), self.cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (target, cuts) = (target.clone(), cuts.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.notified() => {}
                    }
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    async fn cut(&self) {
        let task = self.accepting.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await; // the listener is dropped: refused from now
        }
        self.cut.notify_waiters();
    }

    async fn restore(&self) {
        self.accept(tokio::net::TcpListener::bind(self.addr).await.unwrap());
    }
}

/// PostgreSQL gone, as far as the server can tell (its connections cut,
/// new ones closed at once): readiness says so within its bound instead of
/// waiting out the pool's 5 s acquire timeout (probes give up sooner), and
/// says ready again once the database is back, without a restart.
#[tokio::test]
async fn readyz_answers_not_ready_in_time_while_postgres_is_gone_then_recovers() {
    let database = fresh_postgres_database().await;
    let (scheme_user, rest) = database.split_once('@').unwrap();
    let (host_port, name) = rest.split_once('/').unwrap();
    let proxy = Cuttable::to(host_port.to_owned()).await;
    let through = format!("{scheme_user}@{}/{name}", proxy.addr);
    let app = TestApp::spawn_on_postgres_url(&through, &["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.cut().await;
    let started = Instant::now();
    let resp = app.get("/readyz").await;
    let waited = started.elapsed();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("did not answer within"), "{reason}");
    assert!(waited < Duration::from_secs(4), "answered after {waited:?}");
    // Alive all along.
    assert_eq!(app.get("/healthz").await.status(), 200);

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if app.get("/readyz").await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
