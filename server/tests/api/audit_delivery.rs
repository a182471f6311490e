//! Getting the log out: Ed25519-signed checkpoints an auditor verifies with
//! the public key alone, and the streaming sink that delivers every record
//! to a collector in order, retrying failures and resuming after a restart.

use crate::audit::gantry_audit;
use crate::audit_processes::{apply_many, serve};
use crate::helpers::{Backend, TestApp, fresh_postgres_database, scalar_at};
use crate::on_both_backends;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use gantry_server::store::{self, DatabaseUrl};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_backends!(
    signed_checkpoints_catch_a_rewritten_chain,
    the_sink_delivers_in_order_retries_and_resumes,
    a_collector_outage_shows_as_a_backlog_that_drains_in_order,
);

/// Polls `check` until it holds (bounded: fails after 20 s).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn keygen(dir: &std::path::Path, name: &str) -> (String, String) {
    let key = dir.join(name);
    let out = gantry_audit(&["keygen", "--out", key.to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(public.contains("BEGIN PUBLIC KEY"), "{public}");
    (
        key.to_str().unwrap().to_owned(),
        format!("{}.pub", key.display()),
    )
}

async fn signed_checkpoints_catch_a_rewritten_chain(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "audit.key").await;
    let (_, other_public) = keygen(keys.path(), "other.key").await;
    let app = TestApp::spawn_on(
        backend,
        &[
            "--audit-signing-key",
            &private,
            "--audit-checkpoint-records",
            "3",
        ],
    )
    .await;
    for i in 0..6 {
        let yaml = format!("name: wf-{i}\nsteps:\n  - id: a\n    run: echo {i}\n");
        assert_eq!(app.apply(&yaml).await.0, 201);
    }
    // 7 records (bootstrap token + 6 applies): checkpoints follow within a
    // second or so of every third.
    eventually("a checkpoint at the head", || async {
        app.count_sql("SELECT count(*) FROM audit_checkpoints WHERE seq = 7")
            .await
            == 1
    })
    .await;
    let verify = |key: String| {
        let db = app.db_url.clone();
        async move { gantry_audit(&["verify", "--database-url", &db, "--public-key", &key]).await }
    };
    let out = verify(public.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, status) = app.api_get("/audit/verify").await;
    assert_eq!(status["problem"], serde_json::Value::Null, "{status}");
    assert!(status["checkpoints"].as_u64().unwrap() >= 1, "{status}");

    // Another key did not sign them.
    let out = verify(other_public).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad signature"));

    // Someone with database access edits record 2 and rehashes everything
    // after it, chain head included: only the signed checkpoint knows.
    let store = store::connect(&DatabaseUrl::parse(&app.db_url).unwrap(), 2)
        .await
        .unwrap();
    let mut prev = String::new();
    for mut r in store.audit_records_after(0, 100).await.unwrap() {
        if r.seq >= 2 {
            if r.seq == 2 {
                r.resource = "workflow/innocent".into();
            }
            r.prev_hash = prev.clone();
            r.hash = r.computed_hash();
            app.exec_sql(&format!(
                "UPDATE audit_log SET resource = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                r.resource, r.prev_hash, r.hash, r.seq
            ))
            .await;
            app.exec_sql(&format!("UPDATE audit_chain SET head_hash = '{}'", r.hash))
                .await;
        }
        prev = r.hash;
    }
    let out = verify(public).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("edited") && stderr.contains("checkpoint"),
        "{stderr}"
    );
}

#[derive(Default)]
struct Collector {
    seqs: Vec<u64>,
    /// Answer 503 to this many more requests.
    failures_left: u32,
    requests: u32,
}

async fn ingest(
    State(state): State<Arc<Mutex<Collector>>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let mut c = state.lock().unwrap();
    c.requests += 1;
    assert_eq!(headers.get("content-type").unwrap(), "application/x-ndjson");
    assert_eq!(headers.get("authorization").unwrap(), "Bearer siem-secret");
    if c.failures_left > 0 {
        c.failures_left -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    for line in body.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        c.seqs.push(record["seq"].as_u64().unwrap());
    }
    StatusCode::NO_CONTENT
}

async fn the_sink_delivers_in_order_retries_and_resumes(backend: Backend) {
    let collector = Arc::new(Mutex::new(Collector {
        failures_left: 1,
        ..Collector::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!(
        "http://{}/ingest?source=gantry",
        listener.local_addr().unwrap()
    );
    let router = axum::Router::new()
        .route("/ingest", axum::routing::post(ingest))
        .with_state(collector.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("sink-token");
    std::fs::write(&token_file, "siem-secret\n").unwrap();
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("gantry.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let flags = [
        "--audit-sink-url",
        &sink_url,
        "--audit-sink-token-file",
        token_file.to_str().unwrap(),
        "--audit-sink-batch",
        "4",
    ];
    let count = |sql: &'static str| scalar_at::<i64>(backend, &db_url, sql);
    let delivered_all = || async {
        let head = count("SELECT head_seq FROM audit_chain").await;
        let cursor = count("SELECT coalesce(max(delivered_seq), 0) FROM audit_sink_cursors").await;
        head > 0 && cursor == head
    };

    let (mut first, addr) = serve(&db_url, &dir.path().join("p"), &flags).await;
    assert_eq!(apply_many(addr, "one", 6).await, 6);
    eventually("the first records delivered", delivered_all).await;
    // Graceful stop (SIGTERM): the sink gives its lease up.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    first.wait().await.unwrap();
    let delivered_before = collector.lock().unwrap().seqs.len();

    // Restarted with the token read from OpenBao instead of a file
    // (`--audit-sink-token-ref`): the collector still gets the same one.
    let bao = crate::openbao::OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(
        &mount,
        "gantry/siem",
        serde_json::json!({"token": "siem-secret"}),
    )
    .await;
    let vault_token = bao
        .token(&[&bao.read_policy(&mount, "gantry/*").await])
        .await;
    let vault_token_file = crate::openbao::secret_file(dir.path(), "vault-token", &vault_token);
    let reference = format!("vault:{mount}/data/gantry/siem#token");
    let from_vault = [
        "--audit-sink-url",
        &sink_url,
        "--audit-sink-token-ref",
        &reference,
        "--vault-addr",
        &bao.addr,
        "--vault-token-file",
        vault_token_file.to_str().unwrap(),
        "--audit-sink-batch",
        "4",
    ];
    let (_second, addr) = serve(&db_url, &dir.path().join("p"), &from_vault).await;
    assert_eq!(apply_many(addr, "two", 5).await, 5);
    eventually("the later records delivered", delivered_all).await;

    let c = collector.lock().unwrap();
    let head = c.seqs.len() as u64;
    assert_eq!(
        c.seqs,
        (1..=head).collect::<Vec<_>>(),
        "every record once, in order"
    );
    // 1 token + 6 applies, then 1 token + 5 applies after the restart.
    assert_eq!(head, 13);
    assert_eq!(delivered_before, 7);
    assert!(
        c.requests >= 5,
        "batches of 4 and one retried failure: {}",
        c.requests
    );
}

/// A collector that refuses (503) while `down`, and records what it takes.
#[derive(Default)]
struct Flaky {
    down: bool,
    seqs: Vec<u64>,
}

async fn flaky_ingest(State(state): State<Arc<Mutex<Flaky>>>, body: String) -> StatusCode {
    let mut c = state.lock().unwrap();
    if c.down {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    for line in body.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        c.seqs.push(record["seq"].as_u64().unwrap());
    }
    StatusCode::NO_CONTENT
}

/// What the audit-sink drill watches (docs/ops/drills.md), in small: while
/// the collector refuses, `gantry_audit_sink_backlog_records` counts the
/// records waiting and `gantry_audit_sink_failures_total` the attempts;
/// once it answers, the backlog drains to 0, every record once, in order.
async fn a_collector_outage_shows_as_a_backlog_that_drains_in_order(backend: Backend) {
    let collector = Arc::new(Mutex::new(Flaky {
        down: true,
        ..Flaky::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!("http://{}/ingest", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/ingest", axum::routing::post(flaky_ingest))
        .with_state(collector.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--metrics-bind",
            "127.0.0.1:0",
            "--audit-sink-url",
            &sink_url,
        ],
    )
    .await;
    for i in 0..3 {
        let spec = format!("name: sink-{i}\nsteps:\n  - id: a\n    run: 'true'\n");
        assert_eq!(app.apply(&spec).await.0, 201);
    }
    let metric = |text: &str, series: &str| crate::metrics::sample(text, series).unwrap_or(-1.0);
    eventually("a backlog and a failed delivery", || async {
        let text = crate::metrics::scrape(&app).await;
        metric(&text, "gantry_audit_sink_backlog_records") >= 3.0
            && metric(&text, "gantry_audit_sink_failures_total") >= 1.0
    })
    .await;
    assert!(collector.lock().unwrap().seqs.is_empty());

    collector.lock().unwrap().down = false;
    eventually("the backlog drained", || async {
        let text = crate::metrics::scrape(&app).await;
        metric(&text, "gantry_audit_sink_backlog_records") == 0.0
    })
    .await;
    let seqs = collector.lock().unwrap().seqs.clone();
    let head = seqs.len() as u64;
    assert!(head >= 3, "{seqs:?}");
    assert_eq!(
        seqs,
        (1..=head).collect::<Vec<_>>(),
        "every record once, in order"
    );
}
