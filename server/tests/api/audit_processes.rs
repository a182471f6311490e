//! The chain across processes: two `gantry serve` processes share one
//! database and take writes in parallel; one is killed with SIGKILL in the
//! middle and started again. The chain stays one gap-free, verifiable line,
//! and every change that committed has exactly one record.

use crate::audit::gantry_audit;
use crate::helpers::{Backend, TOKEN, fresh_postgres_database, scalar_at};
use crate::on_both_backends;
use std::net::SocketAddr;
use std::path::Path;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

on_both_backends!(parallel_writers_in_two_processes_make_one_chain);

/// A real `gantry serve` on a free port; returns once it listens.
pub async fn serve(db_url: &str, dir: &Path, extra: &[&str]) -> (Child, SocketAddr) {
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
        .args([
            "--bootstrap-token",
            TOKEN,
            "--worker-slots",
            "0",
            "--log",
            "warn",
        ])
        .arg("--site-root")
        .arg(dir.join("site"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Gantry is listening on http://") {
                return rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        }
        panic!("gantry serve exited before listening");
    })
    .await
    .expect("gantry serve listens within 30 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

/// Applies `count` distinct workflows at once; returns how many were created.
pub async fn apply_many(addr: SocketAddr, prefix: &str, count: usize) -> usize {
    let client = reqwest::Client::new();
    let requests = (0..count).map(|i| {
        let client = client.clone();
        let body = format!("name: {prefix}-{i}\nsteps:\n  - id: a\n    run: echo {i}\n");
        async move {
            client
                .post(format!("http://{addr}/api/v1/workflows"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/yaml")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16() == 201)
                .unwrap_or(false)
        }
    });
    let results = futures_join_all(requests).await;
    results.into_iter().filter(|ok| *ok).count()
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future<Output = bool> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<bool> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap_or(false));
    }
    out
}

async fn parallel_writers_in_two_processes_make_one_chain(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("gantry.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let (mut a, addr_a) = serve(&db_url, &dir.path().join("a"), &[]).await;
    let (_b, addr_b) = serve(&db_url, &dir.path().join("b"), &[]).await;

    // Round 1: both processes at once.
    let (ok_a, ok_b) = tokio::join!(apply_many(addr_a, "a1", 25), apply_many(addr_b, "b1", 25));
    assert_eq!((ok_a, ok_b), (25, 25));

    // Round 2: A dies mid-burst; B keeps writing.
    let burst_a = tokio::spawn(apply_many(addr_a, "a2", 25));
    let burst_b = tokio::spawn(apply_many(addr_b, "b2", 25));
    a.start_kill().unwrap();
    a.wait().await.unwrap();
    let _ = burst_a.await;
    assert_eq!(burst_b.await.unwrap(), 25);

    // Round 3: A is back, continuing the same chain.
    let (mut a, addr_a) = serve(&db_url, &dir.path().join("a"), &[]).await;
    let (ok_a, ok_b) = tokio::join!(apply_many(addr_a, "a3", 25), apply_many(addr_b, "b3", 25));
    assert_eq!((ok_a, ok_b), (25, 25));
    a.start_kill().unwrap();
    a.wait().await.unwrap();

    let out = gantry_audit(&["verify", "--database-url", &db_url]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every version that exists has exactly one record of its creation,
    // whatever the kill interrupted.
    let count = |sql: &'static str| scalar_at::<i64>(backend, &db_url, sql);
    let versions = count("SELECT count(*) FROM workflow_versions").await;
    let applied = count(
        "SELECT count(*) FROM audit_log WHERE action = 'workflow.apply' AND outcome = 'succeeded'",
    )
    .await;
    assert_eq!(applied, versions);
    assert!(versions >= 125, "{versions}");
    // Gap-free from 1 to the head, which the chain row agrees with.
    let records = count("SELECT count(*) FROM audit_log").await;
    let max = count("SELECT max(seq) FROM audit_log").await;
    let head = count("SELECT head_seq FROM audit_chain").await;
    assert_eq!((records, max), (head, head));
    assert!(stdout.contains(&format!("{head} record(s)")), "{stdout}");
}
