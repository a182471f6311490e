//! One helper per user action, so tests read like what a person does.

use clap::Parser;
use gantry_server::cli::{Cli, Command};
use gantry_server::runtime::clock::{Clock, SystemClock};
use gantry_server::startup::Application;
use reqwest::{Client, Response, redirect};
use std::net::SocketAddr;
use std::sync::Arc;
use tempfile::TempDir;

/// The bootstrap token every test server gets.
pub const TOKEN: &str = "gantry_test-token-0123456789abcdefghijklmnopqrstuv";

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub db_path: std::path::PathBuf,
    /// The database URL the server uses (either backend).
    pub db_url: String,
    pub backend: Backend,
    pub dir: TempDir,
    /// Where `GET /metrics` answers, when started with `--metrics-bind`.
    pub metrics_addr: Option<SocketAddr>,
}

/// A fresh, empty PostgreSQL database on the harness's private cluster
/// (`scripts/with-postgres.sh`, which `make test` uses, provides it).
pub async fn fresh_postgres_database() -> String {
    let admin = std::env::var("GANTRY_TEST_POSTGRES_URL").expect(
        "GANTRY_TEST_POSTGRES_URL is not set: run the tests with `make test` \
         or `scripts/with-postgres.sh cargo test`, which start a private PostgreSQL",
    );
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("connect to the test cluster");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

impl TestApp {
    /// A dev-mode server with demo users.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&["--dev"]).await
    }

    /// A server started with these extra `gantry serve` flags.
    pub async fn spawn_with(flags: &[&str]) -> TestApp {
        Self::spawn_on(Backend::Sqlite, flags).await
    }

    /// A dev-mode server on `backend` with these extra flags.
    pub async fn spawn_on(backend: Backend, flags: &[&str]) -> TestApp {
        Self::spawn_with_clock(backend, flags, Arc::new(SystemClock)).await
    }

    /// A dev-mode server whose wall time is `clock` (a `ShiftedClock` lets a
    /// test jump over a soak time or an expiry).
    pub async fn spawn_with_clock(
        backend: Backend,
        flags: &[&str],
        clock: Arc<dyn Clock>,
    ) -> TestApp {
        Self::launch(backend, flags, clock, false).await
    }

    /// A dev-mode server with the demo workflows and the promotion demo
    /// `gantry serve --dev` seeds.
    pub async fn spawn_with_demo(backend: Backend) -> TestApp {
        Self::launch(backend, &["--dev"], Arc::new(SystemClock), true).await
    }

    /// A second server on this one's database, started with `flags` (a
    /// restart with other settings, while the first keeps running).
    pub async fn spawn_beside(&self, flags: &[&str]) -> TestApp {
        let database = Some((self.db_url.clone(), self.db_path.clone()));
        Self::launch_on(self.backend, flags, Arc::new(SystemClock), false, database).await
    }

    /// A dev-mode server on the PostgreSQL database at `url` (one reached
    /// through a proxy the test controls, say).
    pub async fn spawn_on_postgres_url(url: &str, flags: &[&str]) -> TestApp {
        let database = Some((url.to_owned(), std::path::PathBuf::new()));
        Self::launch_on(
            Backend::Postgres,
            flags,
            Arc::new(SystemClock),
            false,
            database,
        )
        .await
    }

    /// A server on the SQLite database file at `path` (a restored backup).
    pub async fn spawn_on_sqlite_file(path: &std::path::Path, flags: &[&str]) -> TestApp {
        let database = Some((format!("sqlite://{}", path.display()), path.to_owned()));
        Self::launch_on(
            Backend::Sqlite,
            flags,
            Arc::new(SystemClock),
            false,
            database,
        )
        .await
    }

    async fn launch(
        backend: Backend,
        flags: &[&str],
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> TestApp {
        Self::launch_on(backend, flags, clock, demo, None).await
    }

    /// `database`: an existing one's URL and SQLite path; a fresh one when
    /// `None`.
    async fn launch_on(
        backend: Backend,
        flags: &[&str],
        clock: Arc<dyn Clock>,
        demo: bool,
        database: Option<(String, std::path::PathBuf)>,
    ) -> TestApp {
        log_to_test_output();
        let dir = tempfile::tempdir().expect("temp dir");
        // Steps run as `nobody` when the tests run as root: the work root
        // below must be reachable (the sandbox, not this folder's mode,
        // keeps steps out of the database beside it).
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o711),
        )
        .expect("temp dir mode");
        let (db_url, db_path) = match (database, backend) {
            (Some(existing), _) => existing,
            (None, Backend::Sqlite) => {
                let path = dir.path().join("gantry.db");
                (format!("sqlite://{}", path.display()), path)
            }
            (None, Backend::Postgres) => (
                fresh_postgres_database().await,
                dir.path().join("gantry.db"),
            ),
        };
        let work_dir = dir.path().join("work");
        let site_root = dir.path().join("site");
        std::fs::create_dir_all(site_root.join("pkg")).expect("site dir");
        std::fs::write(site_root.join("pkg/gantry.css"), "/* test */").expect("stylesheet");
        let mut argv = vec![
            "gantry",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &db_url,
            "--site-root",
            site_root.to_str().expect("utf-8 path"),
            "--log",
            "warn",
            "--bootstrap-token",
            TOKEN,
            "--work-dir",
            work_dir.to_str().expect("utf-8 path"),
            // The server runs inside this test process: its steps'
            // supervisor is the real binary.
            "--step-runner",
            env!("CARGO_BIN_EXE_gantry-step-exec"),
        ];
        if !demo {
            argv.push("--no-demo");
        }
        // SQLite keeps its alert credentials key beside the database;
        // PostgreSQL has no default, like several serve processes.
        let alert_key = dir.path().join("alert-credentials.key");
        if backend == Backend::Postgres && !flags.contains(&"--alert-credentials-key-file") {
            std::fs::write(
                &alert_key,
                "test-alert-key-0123456789abcdefghijklmnopqrstuvwxyz",
            )
            .expect("alert key");
            argv.push("--alert-credentials-key-file");
            argv.push(alert_key.to_str().expect("utf-8 path"));
        }
        argv.extend_from_slice(flags);
        let Command::Serve(args) = Cli::try_parse_from(argv).expect("flags parse").command else {
            unreachable!("a serve command")
        };
        let mut config = args.into_config().expect("valid config");
        config.clock = clock;
        let app = Application::build(config).await.expect("app builds");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApp {
            addr,
            client: new_client(),
            db_path,
            db_url,
            backend,
            dir,
            metrics_addr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// Submits the dev sign-in form as the given demo user.
    pub async fn sign_in_as(&self, username: &str) -> Response {
        self.sign_in_with(&[("username", username)]).await
    }

    pub async fn sign_in_with(&self, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/auth/dev/sign-in"))
            .form(form)
            .send()
            .await
            .expect("POST sign-in")
    }

    pub async fn sign_out(&self) -> Response {
        self.client
            .post(self.url("/auth/sign-out"))
            .send()
            .await
            .expect("POST sign-out")
    }

    /// Calls a server function the way the hydrated dashboard does (JSON back).
    pub async fn server_fn(&self, name: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(&format!("/ui/{name}")))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("POST server fn")
    }

    /// Posts a server function's form the way a browser without JavaScript does.
    pub async fn plain_form_post(
        &self,
        name: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(&format!("/ui/{name}")))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", self.url(from_page))
            .form(form)
            .send()
            .await
            .expect("POST form")
    }

    /// A direct connection to the app's database, for arranging states the
    /// UI can't reach (tampering, disabled accounts, half-migrated schemas).
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db_path.display()))
            .await
            .expect("open test database")
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests
/// assert on them), and says its writes come from the site's own pages
/// (`Sec-Fetch-Site: same-origin`, as a browser does for a page's forms
/// and fetches; a cross-site request with the session is refused, see
/// http/csrf.rs). A request may set the header itself.
pub fn new_client() -> Client {
    let mut same_origin = reqwest::header::HeaderMap::new();
    same_origin.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    Client::builder()
        .default_headers(same_origin)
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        // The server closes a kept-alive connection idle for its header
        // read timeout (10 s); a pooled one older than that may be closed
        // just as a request goes out on it (IncompleteMessage), so the pool
        // lets go well before.
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("client")
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gantry_session=") || c.starts_with("__Host-gantry_session="))
        .map(str::to_owned)
}

/// REST API calls with the bootstrap token.
impl TestApp {
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("API call");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("API body");
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, json)
    }

    pub async fn api_get(&self, path: &str) -> (u16, serde_json::Value) {
        self.api(reqwest::Method::GET, path, None).await
    }

    pub async fn api_post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }

    /// `POST /api/v1/workflows` with a YAML body.
    pub async fn apply(&self, yaml: &str) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .post(self.url("/api/v1/workflows"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/yaml")
            .body(yaml.to_owned())
            .send()
            .await
            .expect("apply");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("apply answer is JSON"))
    }

    /// Applies a spec that must be accepted, and starts a run in dev.
    pub async fn apply_and_run(&self, yaml: &str, inputs: serde_json::Value) -> String {
        let (status, body) = self.apply(yaml).await;
        assert!(status == 201 || status == 200, "apply: {status} {body}");
        let name = body["workflow"].as_str().expect("workflow name").to_owned();
        self.trigger(&name, inputs).await
    }

    pub async fn trigger(&self, workflow: &str, inputs: serde_json::Value) -> String {
        let (status, run) = self
            .api_post(
                &format!("/workflows/{workflow}/runs"),
                serde_json::json!({ "environment": "dev", "inputs": inputs }),
            )
            .await;
        assert_eq!(status, 201, "trigger: {run}");
        run["id"].as_str().expect("run id").to_owned()
    }

    /// Polls the run until it satisfies `done` (bounded: fails after 60 s).
    pub async fn wait_run(
        &self,
        id: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (status, run) = self.api_get(&format!("/runs/{id}")).await;
            assert_eq!(status, 200, "{run}");
            if done(&run) {
                return run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run never reached the expected state: {run:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the run has finished.
    pub async fn finished_run(&self, id: &str) -> serde_json::Value {
        self.wait_run(id, |r| {
            !matches!(r["status"].as_str(), Some("queued" | "running"))
        })
        .await
    }

    /// Makes every workflow's dev version active in stage too, without a
    /// promotion (for tests about something else).
    pub async fn activate_dev_versions_in_stage(&self) {
        self.exec_sql(
            "INSERT INTO workflow_environments
                 (workflow_id, environment, version, schedule_enabled, next_fire_at, activated_at, activated_by)
             SELECT workflow_id, 'stage', version, schedule_enabled, next_fire_at, activated_at, activated_by
             FROM workflow_environments WHERE environment = 'dev'",
        )
        .await;
    }

    /// Runs one SQL statement on the app's database (arranging states the
    /// API can't reach).
    pub async fn exec_sql(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query(sql)
                    .execute(&self.db().await)
                    .await
                    .expect("sql");
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db_url).await.expect("pg");
                sqlx::query(sql).execute(&pool).await.expect("sql");
            }
        }
    }

    pub async fn count_sql(&self, sql: &str) -> i64 {
        scalar_at(self.backend, &self.db_url, sql).await
    }
}

/// Step statuses of a run, by step id.
pub fn step_statuses(run: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    run["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Declares one test per backend for each async fn taking a [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )+
    };
}

impl TestApp {
    /// One text value from the app's database.
    pub async fn scalar_text(&self, sql: &str) -> String {
        scalar_at(self.backend, &self.db_url, sql).await
    }
}

/// One value from any test database, by URL (for databases shared by
/// several server processes, which no one `TestApp` owns).
pub async fn scalar_at<T>(backend: Backend, db_url: &str, sql: &str) -> T
where
    T: Send + Unpin,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(db_url).await.expect("sqlite");
            sqlx::query_scalar(sql).fetch_one(&pool).await.expect("sql")
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(db_url).await.expect("pg");
            sqlx::query_scalar(sql).fetch_one(&pool).await.expect("sql")
        }
    }
}

/// Remote workers (`gantry worker --server`), as real processes.
impl TestApp {
    /// A worker token, made through the REST API with the bootstrap token.
    pub async fn worker_token(&self, name: &str) -> String {
        let (status, body) = self
            .api_post(
                "/tokens",
                serde_json::json!({ "name": name, "worker": true }),
            )
            .await;
        assert_eq!(status, 201, "worker token: {body}");
        body["secret"].as_str().expect("secret").to_owned()
    }

    /// A metrics token for Prometheus, made through the REST API with the
    /// bootstrap token.
    pub async fn metrics_token(&self, name: &str) -> String {
        let (status, body) = self
            .api_post(
                "/tokens",
                serde_json::json!({ "name": name, "metrics": true }),
            )
            .await;
        assert_eq!(status, 201, "metrics token: {body}");
        assert_eq!(body["token"]["kind"], "metrics", "{body}");
        body["secret"].as_str().expect("secret").to_owned()
    }

    /// Starts `gantry worker --server` against this server with `token`
    /// (from a file, as operators would), under `name` in the test's temp
    /// dir. Its environment holds nothing of the test's: no database URL.
    pub fn spawn_worker_process(
        &self,
        token: &str,
        name: &str,
        extra: &[&str],
    ) -> tokio::process::Child {
        let token_file = self.dir.path().join(format!("{name}.token"));
        std::fs::write(&token_file, token).expect("token file");
        tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["worker", "--server", &self.url(""), "--log", "warn"])
            .arg("--token-file")
            .arg(&token_file)
            .arg("--work-dir")
            .arg(self.dir.path().join(name))
            .args(extra)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start gantry worker")
    }
}

/// A browser signed in as one of the demo users, calling the REST API with
/// its session cookie: what a person does, as opposed to the bootstrap
/// token (the system).
pub struct Person {
    base: String,
    client: Client,
}

impl TestApp {
    pub async fn person(&self, username: &str) -> Person {
        let client = new_client();
        let resp = client
            .post(self.url("/auth/dev/sign-in"))
            .form(&[("username", username)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(resp.status(), 303, "sign in as {username}");
        Person {
            base: self.url("/api/v1"),
            client,
        }
    }
}

impl Person {
    /// The person's browser (their session cookie), for pages and forms.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let resp = req.send().await.expect("API call");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("API body");
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.client.put(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(self.client.delete(format!("{}{path}", self.base)))
            .await
    }

    /// `method path` (a full path: `/ui/…`, `/auth/…`, `/api/v1/…`) with
    /// this person's session, sent as from another site.
    pub async fn cross_site(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> (u16, serde_json::Value) {
        let origin = self.base.trim_end_matches("/api/v1");
        self.send(
            self.client
                .request(method, format!("{origin}{path}"))
                .header("sec-fetch-site", "cross-site")
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(""),
        )
        .await
    }

    /// Applies a spec as this person (they become its author).
    pub async fn apply(&self, yaml: &str) -> (u16, serde_json::Value) {
        self.send(
            self.client
                .post(format!("{}/workflows", self.base))
                .header("content-type", "application/yaml")
                .body(yaml.to_owned()),
        )
        .await
    }
}

/// The in-process server's warnings and errors on the test's output, which
/// nextest shows when the test fails: a 500 then says why. (Each test is a
/// process of its own, so the first server's subscriber is the only one; a
/// test that installs its own first keeps it.)
fn log_to_test_output() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_test_writer()
        .try_init();
}

/// A tool `make` installed into a project virtualenv: `$env_var` when set
/// (`make test` sets it), else `target/<relative>` of this checkout.
pub fn venv_tool(env_var: &str, relative: &str) -> std::path::PathBuf {
    std::env::var_os(env_var).map_or_else(
        || {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target")
                .join(relative)
        },
        std::path::PathBuf::from,
    )
}
