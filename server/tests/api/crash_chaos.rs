//! Crashes at random moments: a real `gantry serve` (running steps itself)
//! and a remote `gantry worker` are killed with SIGKILL, one or the other,
//! 20 times at random points while runs are in flight, and started again.
//! Every step appends timestamped ticks to a trace file for as long as it
//! runs; afterwards no two attempts of one step may ever have ticked at the
//! same time (a process of an earlier attempt outliving its worker would),
//! and every run still finishes.

use crate::audit_processes::serve;
use crate::helpers::{Backend, TOKEN, fresh_postgres_database};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::process::Child;

on_both_backends!(sigkills_at_random_never_run_two_attempts_of_a_step_at_once);

const KILLS: usize = 20;
/// Runs started before the kills begin; one more starts before each kill,
/// so steps are in flight throughout.
const RUNS: usize = 4;

/// Each step ticks for about two seconds into the trace (outside its working
/// directory, which the sandbox lets it write through --step-allow-write).
fn spec(trace: &Path) -> String {
    let tick = format!(
        r#"for i in $(seq 1 30); do echo "$GANTRY_RUN_ID $GANTRY_STEP_ID $GANTRY_ATTEMPT $(date +%s%N)" >> {}; sleep 0.05; done"#,
        trace.display()
    );
    format!(
        r#"
name: chaos
steps:
  - id: first
    run: '{tick}'
    retries: {{ max_attempts: 20, backoff: fixed, initial: 100ms }}
  - id: second
    needs: [first]
    run: '{tick}'
    retries: {{ max_attempts: 20, backoff: fixed, initial: 100ms }}
"#
    )
}

/// A small deterministic generator (xorshift), seeded and printed so a
/// failing order of kills can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn api(
    addr: SocketAddr,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let client = reqwest::Client::new();
    let mut req = client
        .request(method, format!("http://{addr}/api/v1{path}"))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(10));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

fn worker(addr: SocketAddr, token_file: &Path, dir: &Path, allow: &Path) -> Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["worker", "--server", &format!("http://{addr}")])
        .arg("--token-file")
        .arg(token_file)
        .arg("--work-dir")
        .arg(dir)
        .args([
            "--worker-slots",
            "2",
            "--worker-lease",
            "2s",
            "--log",
            "error",
        ])
        .arg("--step-allow-write")
        .arg(allow)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry worker")
}

async fn sigkills_at_random_never_run_two_attempts_of_a_step_at_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("gantry.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let shared = dir.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    // The step user (nobody, under root) appends to the trace.
    let trace = shared.join("trace");
    std::fs::write(&trace, "").unwrap();
    std::fs::set_permissions(&trace, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let allow = shared.to_str().unwrap().to_owned();
    let server_flags = |bind: Option<SocketAddr>| {
        let mut flags = vec![
            "--worker-slots".to_owned(),
            "2".to_owned(),
            "--worker-lease".to_owned(),
            "2s".to_owned(),
            "--step-allow-write".to_owned(),
            allow.clone(),
        ];
        if let Some(addr) = bind {
            flags.extend(["--bind".to_owned(), addr.to_string()]);
        }
        flags
    };
    let server_dir = dir.path().join("server");
    let start_server = |bind: Option<SocketAddr>| {
        let flags = server_flags(bind);
        let (db_url, server_dir) = (db_url.clone(), server_dir.clone());
        async move {
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            serve(&db_url, &server_dir, &flags).await
        }
    };
    let (mut server, addr) = start_server(None).await;

    let (status, created) = api(
        addr,
        reqwest::Method::POST,
        "/tokens",
        Some(json!({ "name": "chaos-workers", "worker": true })),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{created}");
    let token_file = dir.path().join("worker.token");
    std::fs::write(&token_file, created["secret"].as_str().unwrap()).unwrap();
    let worker_dir = dir.path().join("worker");
    let mut remote = worker(addr, &token_file, &worker_dir, &shared);

    let client = reqwest::Client::new();
    let resp = client
        .post(format!("http://{addr}/api/v1/workflows"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/yaml")
        .body(spec(&trace))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let trigger = || async move {
        let (status, run) = api(
            addr,
            reqwest::Method::POST,
            "/workflows/chaos/runs",
            Some(json!({ "environment": "dev" })),
        )
        .await
        .expect("the server answers a trigger");
        assert_eq!(status, 201, "{run}");
        run["id"].as_str().unwrap().to_owned()
    };
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        runs.push(trigger().await);
    }

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("chaos seed {seed}");
    let mut rng = Rng(seed);
    let mut kills = BTreeMap::from([("server", 0), ("worker", 0)]);
    for _ in 0..KILLS {
        runs.push(trigger().await);
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1300))).await;
        if rng.below(2) == 0 {
            server.start_kill().unwrap();
            server.wait().await.unwrap();
            server = start_server(Some(addr)).await.0;
            *kills.get_mut("server").unwrap() += 1;
        } else {
            remote.start_kill().unwrap();
            remote.wait().await.unwrap();
            remote = worker(addr, &token_file, &worker_dir, &shared);
            *kills.get_mut("worker").unwrap() += 1;
        }
    }

    // Every run still finishes, and succeeds.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut attempts = 0;
    for id in &runs {
        loop {
            if let Some((200, run)) =
                api(addr, reqwest::Method::GET, &format!("/runs/{id}"), None).await
                && !matches!(run["status"].as_str(), Some("queued" | "running"))
            {
                assert_eq!(run["status"], "succeeded", "seed {seed}: {run:#}");
                attempts += run["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["attempts"].as_array().unwrap().len())
                    .sum::<usize>();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed}: run {id} never finished"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // No two attempts of a step ever ticked at once: each attempt's ticks
    // lie wholly before the next attempt's first tick.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut spans: BTreeMap<(String, String), BTreeMap<u32, (u128, u128)>> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [run, step, attempt, at] = parts[..] else {
            panic!("a torn trace line: {line:?}");
        };
        let at: u128 = at.parse().unwrap();
        let span = spans
            .entry((run.to_owned(), step.to_owned()))
            .or_default()
            .entry(attempt.parse().unwrap())
            .or_insert((at, at));
        span.0 = span.0.min(at);
        span.1 = span.1.max(at);
    }
    let mut retried = 0;
    for ((run, step), by_attempt) in &spans {
        let ordered: Vec<_> = by_attempt.iter().collect();
        retried += ordered.len() - 1;
        for pair in ordered.windows(2) {
            let ((a, (_, a_last)), (b, (b_first, _))) = (pair[0], pair[1]);
            assert!(
                a_last < b_first,
                "seed {seed}: run {run} step {step}: attempt {a} still ticked at {a_last} after attempt {b} began at {b_first}"
            );
        }
    }
    assert_eq!(spans.len(), runs.len() * 2, "every step ran: {spans:?}");
    eprintln!(
        "chaos: {kills:?} kills, {attempts} attempts, {retried} steps retried after a kill; no overlap"
    );
    assert!(retried > 0, "seed {seed}: no kill ever hit a running step");
    drop(remote);
    drop(server);
}
