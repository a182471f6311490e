//! The leak test (issue 16): a real `gantry serve` process runs workflows
//! that print each secret raw and in every common encoding, split across
//! writes, to stderr, in error messages, through an HTTP step whose server
//! echoes it back, and into `$GANTRY_OUTPUT`. Afterwards every place Gantry
//! keeps or shows anything is searched for every encoded form of every
//! value: the database files (SQLite with its WAL, or a PostgreSQL dump),
//! every log line the server wrote, every API answer about those runs, and
//! the audit export. Zero hits.

use crate::helpers::{Backend, TOKEN, fresh_postgres_database};
use crate::on_both_backends;
use crate::openbao::{OpenBao, secret_file};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

on_both_backends!(
    no_form_of_any_secret_is_stored_logged_or_served,
    nor_when_remote_workers_run_the_steps,
);

/// The server process, its address and every line it wrote.
struct Server {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

async fn serve(db_url: &str, dir: &Path, env_value: &str, extra: &[&str]) -> Server {
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAK_SECRET_TOKEN", env_value)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
        .args(["--bootstrap-token", TOKEN, "--no-demo", "--dev"])
        // As chatty as an operator would ever make it.
        .args(["--log", "debug", "--log-format", "json"])
        .args(["--http-step-allow", "127.0.0.1@dev"])
        .arg("--site-root")
        .arg(dir.join("site"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry serve");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let keep = lines.clone();
    tokio::spawn(async move {
        let mut err = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = err.next_line().await {
            keep.lock().unwrap().push(line);
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = out.next_line().await.unwrap() {
            lines.lock().unwrap().push(line.clone());
            if let Some(rest) = line.strip_prefix("Gantry is listening on http://") {
                return rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        }
        panic!("gantry serve exited before listening");
    })
    .await
    .expect("gantry serve listens within 30 s");
    let keep = lines.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            keep.lock().unwrap().push(line);
        }
    });
    Server { child, addr, lines }
}

/// Every encoding searched for, computed here independently of the masker
/// (and then joined with the masker's own list, a superset).
fn forms(value: &str) -> Vec<(String, String)> {
    let bytes = value.as_bytes();
    let mut out = vec![("raw".to_owned(), value.to_owned())];
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64 unpadded", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE),
        ("base64url unpadded", &URL_SAFE_NO_PAD),
    ] {
        out.push((name.into(), engine.encode(bytes)));
    }
    let percent: String = bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    out.push(("url-encoded".into(), percent.clone()));
    out.push(("url-encoded lower".into(), percent.to_lowercase()));
    out.push(("url-encoded +".into(), percent.replace("%20", "+")));
    let json = serde_json::to_string(value).unwrap();
    out.push(("json-escaped".into(), json[1..json.len() - 1].to_owned()));
    let ascii: String = json[1..json.len() - 1]
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    out.push(("json-escaped ascii".into(), ascii));
    out.push(("hex".into(), hex::encode(bytes)));
    out.push(("HEX".into(), hex::encode_upper(bytes)));
    let masker_forms = gantry_core::secret::SecretValue::new(value)
        .map(|v| gantry_core::secret::encoded_forms(&v))
        .unwrap();
    for (i, f) in masker_forms.into_iter().enumerate() {
        if !out.iter().any(|(_, o)| *o == f) {
            out.push((format!("masker form {i}"), f));
        }
    }
    out
}

/// Answers `POST /echo` with the X-Token header and the body, raw, in
/// base64 and in hex, and remembers what it got.
async fn echo_server(seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    use axum::http::HeaderMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/echo",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let token = headers
                    .get("x-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(token.clone());
                seen.lock().unwrap().push(body.clone());
                format!(
                    "token {token}\nbody {body}\nb64 {} {}\nhex {} {}\n",
                    STANDARD.encode(&token),
                    STANDARD.encode(&body),
                    hex::encode(&token),
                    hex::encode(&body)
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Prints `$1` in every encoding, split across writes, and as an error.
const PRINT_ALL: &str = r#"
      show() {
        echo "raw: $1"
        printf '%s' "$1" | base64 -w0; echo
        printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
        python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
        python3 -c 'import sys,urllib.parse;print(urllib.parse.quote_plus(sys.argv[1]))' "$1"
        python3 -c 'import sys,json;print(json.dumps(sys.argv[1]))' "$1"
        python3 -c 'import sys,json;print(json.dumps({"k": sys.argv[1]}, ensure_ascii=False))' "$1"
        printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; echo
        printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; echo
        printf 'split: '; printf '%s' "$1" | head -c 5; printf '%s\n' "$1" | tail -c +6
        echo "error: login refused for $1" >&2
      }
      show "$ENV_SECRET"
      show "$FILE_SECRET"
      show "$VAULT_SECRET"
"#;

async fn no_form_of_any_secret_is_stored_logged_or_served(backend: Backend) {
    leak_test(backend, false).await;
}

/// The same through `gantry worker` processes: dev's secrets handed over by
/// the server (`--remote-worker-secrets server@dev`), stage's fetched by the
/// worker with its own settings; the worker's log lines are searched too.
async fn nor_when_remote_workers_run_the_steps(backend: Backend) {
    leak_test(backend, true).await;
}

/// A `gantry worker` for the server at `addr`, its output kept in `lines`.
fn spawn_worker(
    addr: SocketAddr,
    dir: &Path,
    env_value: &str,
    extra: &[&str],
    lines: Arc<Mutex<Vec<String>>>,
) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAK_SECRET_TOKEN", env_value)
        .args(["worker", "--server", &format!("http://{addr}")])
        .args(["--log", "debug", "--log-format", "json"])
        .arg("--token-file")
        .arg(dir.join("worker.token"))
        .arg("--work-dir")
        .arg(dir.join("worker-work"))
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry worker");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    for stream in [
        Box::new(out) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(err),
    ] {
        let keep = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                keep.lock().unwrap().push(line);
            }
        });
    }
    child
}

/// Runs one SQL statement on the server's database (arranging what the API
/// can't: a version active in stage without a promotion).
async fn exec_sql(backend: Backend, url: &str, sql: &str) {
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

async fn leak_test(backend: Backend, remote: bool) {
    let dir = tempfile::tempdir().unwrap();
    // Steps run as `nobody` when the tests run as root.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o711),
    )
    .unwrap();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let env_value = format!("Env-{}/+&=%\"é", &nonce[..16]);
    let file_value = format!("File-{} with space", &nonce[16..]);
    let vault_value = format!("Vault<{}>\\n'q'", &nonce[8..24]);
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    for env in ["dev", "stage"] {
        bao.put(
            &mount,
            &format!("{env}/api"),
            json!({ "token": vault_value }),
        )
        .await;
    }
    let vault_token = bao.token(&[&bao.read_policy(&mount, "*").await]).await;
    let token_file = secret_file(dir.path(), "vault-token", &vault_token);
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("token"), &file_value).unwrap();
    let (db_url, db_file) = match backend {
        Backend::Sqlite => {
            let file = dir.path().join("gantry.db");
            (format!("sqlite://{}", file.display()), Some(file))
        }
        Backend::Postgres => (fresh_postgres_database().await, None),
    };
    let providers = [
        "--secrets-env-prefix",
        "LEAK_SECRET_",
        "--secrets-file-root",
        secrets.to_str().unwrap(),
        "--vault-addr",
        &bao.addr,
        "--vault-token-file",
        token_file.to_str().unwrap(),
    ];
    let mut server_flags = providers.to_vec();
    if remote {
        server_flags.extend([
            "--worker-slots",
            "0",
            "--remote-worker-secrets",
            "server@dev,worker",
        ]);
    }
    let mut server = serve(&db_url, dir.path(), &env_value, &server_flags).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let echo = echo_server(seen.clone()).await;
    let root = secrets.display();
    let spec = format!(
        r#"
name: leak
steps:
  - id: print
    secrets:
      ENV_SECRET: "env:LEAK_SECRET_TOKEN"
      FILE_SECRET: "file:{root}/token"
      VAULT_SECRET: "vault:{mount}/data/{{env}}/api#token"
    run: |{PRINT_ALL}
  - id: output
    secrets: {{ ENV_SECRET: "env:LEAK_SECRET_TOKEN" }}
    outputs: [copy]
    run: echo "copy=$ENV_SECRET" >> "$GANTRY_OUTPUT"
  - id: fail
    secrets: {{ FILE_SECRET: "file:{root}/token" }}
    run: |
      echo "fatal: token $FILE_SECRET was rejected" >&2
      exit 3
  - id: call
    secrets:
      ENV_SECRET: "env:LEAK_SECRET_TOKEN"
      FILE_SECRET: "file:{root}/token"
    http:
      method: POST
      url: "http://{echo}/echo"
      headers: {{ X-Token: "${{{{ secrets.FILE_SECRET }}}}" }}
      body: "value=${{{{ secrets.ENV_SECRET }}}}"
"#
    );
    let client = reqwest::Client::new();
    let api = |path: &str| format!("http://{}/api/v1{path}", server.addr);
    let resp = client
        .post(api("/workflows"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/yaml")
        .body(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let get = |path: String| {
        let client = client.clone();
        async move {
            let resp = client.get(path).bearer_auth(TOKEN).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.text().await.unwrap()
        }
    };
    let mut _worker = None;
    let environments: &[&str] = if remote { &["dev", "stage"] } else { &["dev"] };
    if remote {
        exec_sql(
            backend,
            &db_url,
            "INSERT INTO workflow_environments
                 (workflow_id, environment, version, schedule_enabled, next_fire_at, activated_at, activated_by)
             SELECT workflow_id, 'stage', version, schedule_enabled, next_fire_at, activated_at, activated_by
             FROM workflow_environments WHERE environment = 'dev'",
        )
        .await;
        let token: Value = client
            .post(api("/tokens"))
            .bearer_auth(TOKEN)
            .json(&json!({"name": "leak-worker", "worker": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        std::fs::write(
            dir.path().join("worker.token"),
            token["secret"].as_str().unwrap(),
        )
        .unwrap();
        let mut worker_flags = providers.to_vec();
        worker_flags.extend(["--http-step-allow", "127.0.0.1@dev,127.0.0.1@stage"]);
        _worker = Some(spawn_worker(
            server.addr,
            dir.path(),
            &env_value,
            &worker_flags,
            server.lines.clone(),
        ));
    }
    let mut ids = Vec::new();
    for env in environments {
        let run: Value = client
            .post(api("/workflows/leak/runs"))
            .bearer_auth(TOKEN)
            .json(&json!({"environment": env}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(run["id"].as_str().unwrap().to_owned());
    }
    let mut served = Vec::new();
    for id in &ids {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let run = loop {
            let run: Value = serde_json::from_str(&get(api(&format!("/runs/{id}"))).await).unwrap();
            if !matches!(run["status"].as_str(), Some("queued" | "running")) {
                break run;
            }
            assert!(std::time::Instant::now() < deadline, "{run:#}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        // The steps really ran and really had the values.
        let status_of = |step: &str| {
            run["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == step)
                .map(|s| s["status"].as_str().unwrap().to_owned())
                .unwrap()
        };
        assert_eq!(status_of("print"), "succeeded", "{run:#}");
        assert_eq!(status_of("call"), "succeeded", "{run:#}");
        assert_eq!(status_of("output"), "failed", "outputs refused: {run:#}");
        assert_eq!(status_of("fail"), "failed", "{run:#}");
        for path in [format!("/runs/{id}"), format!("/runs/{id}/logs?limit=5000")] {
            served.push((format!("GET /api/v1{path}"), get(api(&path)).await));
        }
        let logs = &served.last().unwrap().1;
        assert!(logs.contains("raw: ***"), "the step printed: {logs}");
        assert!(logs.contains("token *** was rejected"), "{logs}");
        let by_server = logs.contains("(by the server)");
        assert_eq!(
            by_server,
            remote && run["environment"] == "dev",
            "who fetched: {logs}"
        );
    }
    assert!(
        seen.lock().unwrap().contains(&file_value),
        "the header arrived"
    );
    assert!(
        seen.lock().unwrap().contains(&format!("value={env_value}")),
        "the body arrived"
    );
    // Everything else the API serves about the runs.
    for path in [
        "/runs?limit=100".to_owned(),
        "/workflows/leak".to_owned(),
        "/audit?limit=500".to_owned(),
    ] {
        served.push((format!("GET /api/v1{path}"), get(api(&path)).await));
    }
    let export = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["audit", "export", "--database-url", &db_url])
        .output()
        .await
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    assert!(export.stdout.len() > 100, "the export holds records");
    let mut artifacts: Vec<(String, Vec<u8>)> = served
        .into_iter()
        .map(|(name, body)| (name, body.into_bytes()))
        .collect();
    artifacts.push(("gantry audit export".into(), export.stdout));
    // Stop the server the way an operator does, so its last lines are in.
    let pid = server.child.id().unwrap().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status().await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), server.child.wait()).await;
    let lines = server.lines.lock().unwrap().join("\n");
    assert!(lines.lines().count() > 10, "the server logged: {lines}");
    artifacts.push(("server log".into(), lines.into_bytes()));
    match db_file {
        Some(file) => {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let path = format!("{}{suffix}", file.display());
                if let Ok(bytes) = std::fs::read(&path) {
                    artifacts.push((format!("SQLite file {path}"), bytes));
                }
            }
        }
        None => artifacts.push(("pg_dump".into(), pg_dump(&db_url).await)),
    }
    // A control: the artifacts hold the runs' records (the references are
    // there), so finding no value in them means something.
    let reference = format!("file:{root}/token");
    for (artifact, bytes) in &artifacts {
        let holds_records = artifact.starts_with("gantry audit")
            || artifact.starts_with("pg_dump")
            || artifact.ends_with("gantry.db-wal")
            || artifact.contains("/audit");
        if holds_records {
            assert!(
                bytes
                    .windows(reference.len())
                    .any(|w| w == reference.as_bytes()),
                "{artifact} holds the fetch records"
            );
        }
    }
    let mut all_forms: Vec<(String, String)> = Vec::new();
    for value in [&env_value, &file_value, &vault_value] {
        all_forms.extend(forms(value));
    }
    let searched = all_forms.len();
    let finder = aho_corasick::AhoCorasick::new(all_forms.iter().map(|(_, f)| f)).unwrap();
    let mut hits = Vec::new();
    for (artifact, bytes) in &artifacts {
        for found in finder.find_overlapping_iter(bytes.as_slice()) {
            let form = &all_forms[found.pattern().as_usize()].0;
            hits.push(format!("{form} form of a secret in {artifact}"));
        }
    }
    assert!(searched >= 2 * 14, "every form was searched ({searched})");
    assert!(hits.is_empty(), "leaks: {hits:#?}");
}

/// A plain-text dump of the whole database.
async fn pg_dump(url: &str) -> Vec<u8> {
    let bindir = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .max()
        .unwrap();
    let out = Command::new(bindir.join("pg_dump"))
        .arg(url)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.len() > 1000, "a real dump");
    out.stdout
}
