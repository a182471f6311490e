//! One helper per user action, so tests read like what a person does.

use clap::Parser;
use gantry_server::cli::{Cli, Command};
use gantry_server::config::Config;
use gantry_server::startup::Application;
use reqwest::{Client, Response, redirect};
use std::net::SocketAddr;
use tempfile::TempDir;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub db_path: std::path::PathBuf,
    _dir: TempDir,
}

impl TestApp {
    /// A dev-mode server with demo users.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&["--dev"]).await
    }

    /// A server started with these extra `gantry serve` flags.
    pub async fn spawn_with(flags: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("gantry.db");
        let db_url = format!("sqlite://{}", db_path.display());
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
        ];
        argv.extend_from_slice(flags);
        let Command::Serve(args) = Cli::try_parse_from(argv).expect("flags parse").command;
        let config = Config::from_args(args).expect("valid config");
        let app = Application::build(config).await.expect("app builds");
        let addr = app.local_addr();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApp {
            addr,
            client: new_client(),
            db_path,
            _dir: dir,
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
/// assert on them).
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
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
        .find(|c| c.starts_with("gantry_session="))
        .map(str::to_owned)
}
