//! The step sandbox and process hardening, reproducing the findings of the
//! adversarial review (issue 12) against real `gantry serve` processes:
//! a step read the bootstrap token from `/proc/$PPID/environ`, a session
//! id out of the SQLite file, and wrote to the database folder; after
//! `kill -9` of the server its step kept running. Each must now fail.

use crate::helpers::{Backend, TOKEN, TestApp, fresh_postgres_database, new_client};
use crate::on_both_backends;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

on_both_backends!(
    a_step_gets_nothing_usable_from_the_server_it_runs_under,
    killing_the_server_kills_its_steps,
    killing_a_worker_kills_its_steps,
    limits_in_the_spec_stop_a_step_that_uses_more,
);

/// A real `gantry serve` process, credentials passed the usual way: in
/// its environment.
struct RealServer {
    app: TestApp,
    child: Child,
    pid: i32,
}

async fn start_real_server(backend: Backend, extra: &[&str]) -> RealServer {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o711),
    )
    .unwrap();
    let db_path = dir.path().join("data").join("gantry.db");
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", db_path.display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--dev", "--no-demo", "--bind", "127.0.0.1:0"])
        .args(["--log", "warn", "--log-format", "text"])
        .arg("--site-root")
        .arg(dir.path().join("site"))
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .args(extra)
        .env("GANTRY_BOOTSTRAP_TOKEN", TOKEN)
        .env("GANTRY_DATABASE_URL", &db_url)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Gantry is listening on http://") {
                return url.trim_end_matches(" (dev mode)").parse().unwrap();
            }
        }
        panic!("gantry serve ended before listening");
    })
    .await
    .expect("gantry serve listens within a minute");
    // Keep reading so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    RealServer {
        app: TestApp {
            addr,
            client: new_client(),
            db_path,
            db_url,
            backend,
            dir,
            metrics_addr: None,
        },
        child,
        pid,
    }
}

/// Every log line of one step, in order.
async fn step_log(app: &TestApp, run: &str, step: &str) -> String {
    let mut text = String::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/runs/{run}/logs?step={step}&after={a}"),
            None => format!("/runs/{run}/logs?step={step}"),
        };
        let (status, page) = app.api_get(&path).await;
        assert_eq!(status, 200, "{page}");
        let batch = page["lines"].as_array().unwrap().clone();
        if batch.is_empty() {
            return text;
        }
        after = page["last_seq"].as_i64();
        for line in batch {
            text.push_str(line["text"].as_str().unwrap());
            text.push('\n');
        }
    }
}

fn gone_or_zombie(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.contains(") Z "),
    }
}

async fn a_step_gets_nothing_usable_from_the_server_it_runs_under(backend: Backend) {
    let server = start_real_server(backend, &[]).await;
    let app = &server.app;
    // A signed-in person: their session id is what the attacker wants.
    let signed_in = app.sign_in_as("admin").await;
    let cookie = crate::helpers::session_cookie(&signed_in).expect("a session cookie");
    let session_id = cookie
        .trim_start_matches("gantry_session=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let data_dir = app.db_path.parent().unwrap();
    let db = app.db_path.display();
    let yaml = format!(
        r#"
name: attacker
steps:
  - id: loot
    run: |
      server=$(cut -d' ' -f4 /proc/$PPID/stat)
      echo "server=$server"
      tr '\0' '\n' < /proc/$server/environ && echo LEAK-environ
      tr '\0' ' ' < /proc/$server/cmdline; echo
      head -c 64 /proc/$server/mem && echo LEAK-mem
      cat {db} {db}-wal | tr -c 'A-Za-z0-9_-' '\n' | grep -E '^.{{16,}}$' && echo LEAK-db
      ls -la {data} && echo LEAK-list
      touch {data}/planted && echo LEAK-write
      ls {work} && echo LEAK-other-attempts
      kill -0 $server && echo LEAK-signal
      echo done
"#,
        data = data_dir.display(),
        work = app.dir.path().join("work").display(),
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    let log = step_log(app, &id, "loot").await;
    assert_eq!(run["status"], "succeeded", "{run:#}\n{log}");
    assert!(
        log.contains(&format!("server={}", server.pid)),
        "the step found the server's pid: {log}"
    );
    assert!(log.contains("\ndone\n"), "{log}");
    for secret in [TOKEN, session_id.as_str(), app.db_url.as_str()] {
        assert!(!log.contains(secret), "a credential leaked: {log}");
    }
    assert!(!log.contains("LEAK-"), "{log}");
    assert!(!log.contains("GANTRY_"), "{log}");
    assert!(log.contains("Permission denied"), "{log}");
    assert!(!data_dir.join("planted").exists());
}

/// Starts a step that leaves a background child and a `setsid` one (which
/// leaves the process group) and waits; answers their pids and the shell's
/// once the step printed them.
async fn start_lingering_step(app: &TestApp) -> Vec<i32> {
    let id = app
        .apply_and_run(
            r#"
name: lingers
steps:
  - id: linger
    run: |
      sleep 300 &
      echo "background $!"
      setsid sleep 300 &
      echo "escaped $!"
      echo "shell $$"
      wait
"#,
            json!({}),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = step_log(app, &id, "linger").await;
        let pids: Vec<i32> = ["background ", "escaped ", "shell "]
            .iter()
            .filter_map(|p| {
                log.lines()
                    .find_map(|l| l.strip_prefix(p))
                    .and_then(|n| n.trim().parse().ok())
            })
            .collect();
        if pids.len() == 3 {
            assert!(pids.iter().all(|p| !gone_or_zombie(*p)), "{pids:?} run");
            return pids;
        }
        assert!(Instant::now() < deadline, "the step never started: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until every pid is gone (bounded).
async fn all_vanish(pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|p| gone_or_zombie(*p)) {
        assert!(
            Instant::now() < deadline,
            "step processes {pids:?} outlived their worker"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn killing_the_server_kills_its_steps(backend: Backend) {
    let mut server = start_real_server(backend, &[]).await;
    let pids = start_lingering_step(&server.app).await;
    // kill -9: no clean-up code of the server runs.
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    assert!(gone_or_zombie(server.pid));
    all_vanish(&pids).await;
}

async fn killing_a_worker_kills_its_steps(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let token = app.worker_token("lingering").await;
    let mut worker = app.spawn_worker_process(&token, "w", &[]);
    let pids = start_lingering_step(&app).await;
    worker.start_kill().unwrap();
    worker.wait().await.unwrap();
    all_vanish(&pids).await;
}

async fn limits_in_the_spec_stop_a_step_that_uses_more(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    // Builds a 64 MiB string by doubling.
    let allocate = r#"awk 'BEGIN { s = "x"; while (length(s) < 64 * 1024 * 1024) s = s s; print "allocated", length(s) }'"#;
    let yaml = format!(
        r#"
name: hungry
steps:
  - id: capped
    run: {allocate}
    limits: {{ memory: 32Mi }}
  - id: free
    run: {allocate}
  - id: spin
    run: while :; do :; done
    timeout: 60s
    limits: {{ cpu: 1s }}
"#
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    let statuses = crate::helpers::step_statuses(&run);
    let capped = step_log(&app, &id, "capped").await;
    let free = step_log(&app, &id, "free").await;
    assert_eq!(statuses["free"], "succeeded", "{run:#}\n{free}");
    assert!(free.contains("allocated 67108864"), "{free}");
    assert_eq!(statuses["capped"], "failed", "{run:#}\n{capped}");
    assert!(!capped.contains("allocated"), "{capped}");
    assert_eq!(statuses["spin"], "failed", "{run:#}");
    let spin = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "spin")
        .unwrap();
    let error = spin["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("cpu limit"), "{error}");
}

#[tokio::test]
async fn the_server_keeps_no_credential_in_its_process_environment() {
    let server = start_real_server(Backend::Sqlite, &[]).await;
    let environ = std::fs::read(format!("/proc/{}/environ", server.pid)).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(!environ.contains(TOKEN), "{environ}");
    assert!(!environ.contains("GANTRY_BOOTSTRAP_TOKEN"), "{environ}");
    assert!(!environ.contains("GANTRY_DATABASE_URL"), "{environ}");
    assert!(!environ.contains(&server.app.db_url), "{environ}");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid)).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(TOKEN));
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid)).unwrap();
    assert!(status.contains("\nState:"), "{status}");
    // The token still works, and the database is the one named.
    let (code, body) = server.app.api_get("/workflows").await;
    assert_eq!(code, 200, "{body}");
    assert!(server.app.db_path.exists());
}

#[tokio::test]
async fn typed_credential_flags_leave_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("typed.db").display());
    let server = start_real_server(
        Backend::Sqlite,
        &["--database-url", &url, "--bootstrap-token", TOKEN],
    )
    .await;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid)).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(!cmdline.contains(TOKEN), "{cmdline}");
    assert!(!cmdline.contains(&url), "{cmdline}");
    assert!(cmdline.contains("--dev"), "the other flags stay: {cmdline}");
    // The typed URL won over the variable, as a typed flag does.
    let (code, _) = server.app.api_get("/workflows").await;
    assert_eq!(code, 200);
    assert!(Path::new(&dir.path().join("typed.db")).exists());
    assert!(!server.app.db_path.exists());
}

#[tokio::test]
async fn readiness_reports_how_steps_are_isolated() {
    let app = TestApp::spawn_on(Backend::Sqlite, &["--dev"]).await;
    let (code, body) = get_json(&app, "/readyz").await;
    assert_eq!(code, 200);
    assert_eq!(body["step_isolation"]["sandbox"], "landlock", "{body}");
    assert_eq!(body["step_isolation"]["degraded"], false, "{body}");

    let off = TestApp::spawn_on(Backend::Sqlite, &["--dev", "--step-sandbox", "off"]).await;
    let (code, body) = get_json(&off, "/readyz").await;
    // Still ready: a restart would not isolate steps better.
    assert_eq!(code, 200);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["step_isolation"]["sandbox"], "off", "{body}");
    assert_eq!(body["step_isolation"]["degraded"], true, "{body}");
    assert!(
        body["step_isolation"]["reason"]
            .as_str()
            .unwrap()
            .contains("--step-sandbox off")
    );
}

async fn get_json(app: &TestApp, path: &str) -> (u16, serde_json::Value) {
    let resp = app.get(path).await;
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_worker_keeps_no_credential_in_its_process_environment() {
    // The server runs no worker; a `gantry worker` process leases over the
    // execution API with a token it reads from a file: neither that token
    // nor any database URL shows in its process.
    let app = TestApp::spawn_on(Backend::Sqlite, &["--dev", "--worker-slots", "0"]).await;
    let token = app.worker_token("remote").await;
    let token_file = app.dir.path().join("remote.token");
    std::fs::write(&token_file, &token).unwrap();
    let mut worker = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["worker", "--log", "warn", "--worker-lease", "2s"])
        .arg("--work-dir")
        .arg(app.dir.path().join("w"))
        .env("GANTRY_SERVER", app.url(""))
        .env("GANTRY_WORKER_TOKEN_FILE", &token_file)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = worker.id().unwrap();
    let id = app
        .apply_and_run(
            "name: remote\nsteps:\n  - id: hello\n    run: echo hello\n",
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    for what in ["environ", "cmdline"] {
        let text = std::fs::read(format!("/proc/{pid}/{what}")).unwrap();
        let text = String::from_utf8_lossy(&text);
        assert!(!text.contains("GANTRY_DATABASE_URL"), "{what}: {text}");
        assert!(!text.contains(&app.db_url), "{what}: {text}");
        assert!(!text.contains(&token), "{what}: {text}");
    }
    worker.start_kill().unwrap();
}
