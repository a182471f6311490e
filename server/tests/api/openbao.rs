//! The real OpenBao the harness starts (`scripts/with-openbao.sh`, which
//! `make test` uses), driven through its HTTP API as an operator would.
//!
//! Tests share one server and run in parallel, so each makes what it needs
//! under fresh names: its own KV mount ([`OpenBao::kv_mount`]), its own
//! policies, tokens and AppRole mounts. Nothing is cleaned up; the server is
//! in memory and thrown away with the run.
//!
//! [`TlsOpenBao`] starts a second server of a test's own, with TLS and a
//! generated CA, stopped when dropped.

use gantry_server::secrets::vault::{VaultAuth, VaultSettings};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A handle on an OpenBao server, acting with its root token (or `token`).
#[derive(Clone)]
pub struct OpenBao {
    pub addr: String,
    pub root_token: String,
    /// Sent as `X-Vault-Namespace` when set ([`OpenBao::in_namespace`]).
    pub namespace: Option<String>,
    http: Client,
}

/// An AppRole login: the role id and a secret id for it.
pub struct AppRole {
    /// The auth mount (unique per call), `auth/<mount>/login`.
    pub mount: String,
    pub role_id: String,
    pub secret_id: String,
}

/// A short unique suffix, so parallel tests never share a name.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

impl OpenBao {
    /// The harness's server. Panics, saying how to run, when it is absent.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: run the tests under scripts/with-openbao.sh \
                     (`make test` does), which starts a throwaway OpenBao"
                )
            })
        };
        Self {
            addr: var("GANTRY_TEST_VAULT_ADDR"),
            root_token: var("GANTRY_TEST_VAULT_TOKEN"),
            namespace: None,
            http: Client::new(),
        }
    }

    /// The same server, every request inside `namespace`.
    pub fn in_namespace(&self, namespace: &str) -> Self {
        Self {
            namespace: Some(namespace.to_owned()),
            ..self.clone()
        }
    }

    /// One API call with `token`; returns the status and the JSON body
    /// (`Null` when empty). Does not judge the status.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", token);
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("OpenBao answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("OpenBao's body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A root API call that must succeed; returns the JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        // A KV v2 mount answers 400 "upgrading from non-versioned to
        // versioned data" for a moment after it is enabled: poll it out
        // (bounded), as OpenBao's own clients do.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (mut status, mut answer) = self
            .call_as(&self.root_token, method.clone(), path, body.clone())
            .await;
        while status == 400
            && answer
                .to_string()
                .contains("Upgrading from non-versioned to versioned")
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            (status, answer) = self
                .call_as(&self.root_token, method.clone(), path, body.clone())
                .await;
        }
        assert!(
            (200..300).contains(&status),
            "OpenBao {path}: status {status}: {answer}"
        );
        answer
    }

    /// Creates a child namespace of this handle's namespace.
    pub async fn create_namespace(&self, name: &str) {
        self.call(Method::POST, &format!("sys/namespaces/{name}"), None)
            .await;
    }

    /// Enables a fresh KV version 2 engine; returns its mount name.
    pub async fn kv_mount(&self) -> String {
        let mount = unique("kv");
        self.enable_kv_at(&mount).await;
        mount
    }

    /// Enables a KV version 2 engine at `mount`.
    pub async fn enable_kv_at(&self, mount: &str) {
        let body = json!({ "type": "kv", "options": { "version": "2" } });
        self.call(Method::POST, &format!("sys/mounts/{mount}"), Some(body))
            .await;
    }

    /// Writes a new version of the entry at `mount`/`path` (without the
    /// `data/` infix); returns the version number.
    pub async fn put(&self, mount: &str, path: &str, data: Value) -> u64 {
        let answer = self
            .call(
                Method::POST,
                &format!("{mount}/data/{path}"),
                Some(json!({ "data": data })),
            )
            .await;
        answer["data"]["version"].as_u64().expect("a KV v2 version")
    }

    /// Creates or replaces a policy.
    pub async fn policy(&self, name: &str, hcl: &str) {
        self.call(
            Method::PUT,
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": hcl })),
        )
        .await;
    }

    /// A fresh policy allowing `read` on the KV v2 entries under
    /// `mount`/`prefix` (a glob: `prod/*`); returns its name.
    pub async fn read_policy(&self, mount: &str, prefix: &str) -> String {
        let name = unique("read");
        self.policy(
            &name,
            &format!("path \"{mount}/data/{prefix}\" {{ capabilities = [\"read\"] }}"),
        )
        .await;
        name
    }

    /// A new token with `policies` (and `default`, which lets it look
    /// itself up and revoke itself).
    pub async fn token(&self, policies: &[&str]) -> String {
        let answer = self
            .call(
                Method::POST,
                "auth/token/create",
                Some(json!({ "policies": policies, "ttl": "1h" })),
            )
            .await;
        answer["auth"]["client_token"]
            .as_str()
            .expect("a client token")
            .to_owned()
    }

    /// Revokes `token` (and its children) now.
    pub async fn revoke(&self, token: &str) {
        self.call(
            Method::POST,
            "auth/token/revoke",
            Some(json!({ "token": token })),
        )
        .await;
    }

    /// Enables AppRole at a fresh mount with one role whose tokens carry
    /// `policies`, and issues a secret id.
    pub async fn approle(&self, policies: &[&str]) -> AppRole {
        self.approle_with_uses(policies, 0).await
    }

    /// As [`OpenBao::approle`], the secret id good for `uses` logins (0:
    /// unlimited).
    pub async fn approle_with_uses(&self, policies: &[&str], uses: u32) -> AppRole {
        let mount = unique("approle");
        self.call(
            Method::POST,
            &format!("sys/auth/{mount}"),
            Some(json!({ "type": "approle" })),
        )
        .await;
        let role = format!("auth/{mount}/role/gantry");
        self.call(
            Method::POST,
            &role,
            Some(json!({
                "token_policies": policies,
                "token_ttl": "1h",
                "secret_id_num_uses": uses,
            })),
        )
        .await;
        let role_id = self
            .call(Method::GET, &format!("{role}/role-id"), None)
            .await;
        let secret_id = self
            .call(Method::POST, &format!("{role}/secret-id"), None)
            .await;
        AppRole {
            mount,
            role_id: role_id["data"]["role_id"].as_str().unwrap().to_owned(),
            secret_id: secret_id["data"]["secret_id"].as_str().unwrap().to_owned(),
        }
    }

    /// Revokes every token AppRole at `mount` has issued (as if they had
    /// expired), without knowing them.
    pub async fn revoke_approle_tokens(&self, mount: &str) {
        self.call(
            Method::PUT,
            &format!("sys/leases/revoke-prefix/auth/{mount}/login"),
            None,
        )
        .await;
    }

    /// Provider settings for this server with `auth` (no namespace, mount
    /// override or CA; a 5 s timeout).
    pub fn settings(&self, auth: VaultAuth) -> VaultSettings {
        VaultSettings {
            addr: self.addr.clone(),
            auth,
            namespace: self.namespace.clone(),
            ca_cert: None,
            timeout: Duration::from_secs(5),
            mount: None,
        }
    }
}

/// Writes `secret` (a token, a secret id) to `dir/name` with a trailing
/// newline, as `echo` would; returns the path.
pub fn secret_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    path
}

/// A second OpenBao dev server with TLS (`-dev-tls`: a generated CA and a
/// certificate for 127.0.0.1), started by the test and killed on drop.
pub struct TlsOpenBao {
    pub bao: OpenBao,
    /// The generated CA certificate (PEM).
    pub ca_cert: PathBuf,
    _dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl TlsOpenBao {
    /// Starts it with the harness's binary (`GANTRY_TEST_BAO`) on a free
    /// port and waits until it answers over TLS.
    pub async fn start() -> Self {
        let binary = std::env::var("GANTRY_TEST_BAO")
            .expect("GANTRY_TEST_BAO is not set: run the tests under scripts/with-openbao.sh");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root_token = unique("root");
        let child = tokio::process::Command::new(binary)
            .args(["server", "-dev", "-dev-tls", "-dev-no-store-token"])
            .arg(format!("-dev-tls-cert-dir={}", dir.path().display()))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env("BAO_DEV_ROOT_TOKEN_ID", &root_token)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start bao");
        let ca_cert = dir.path().join("vault-ca.pem");
        let addr = format!("https://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = loop {
            if let Some(http) = answering(&addr, &ca_cert).await {
                break http;
            }
            assert!(
                Instant::now() < deadline,
                "bao -dev-tls did not answer on {addr} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Self {
            bao: OpenBao {
                addr,
                root_token,
                namespace: None,
                http,
            },
            ca_cert,
            _dir: dir,
            _child: child,
        }
    }
}

/// A client trusting the generated CA, once the CA exists and the server
/// answers with a certificate it signed.
async fn answering(addr: &str, ca_cert: &Path) -> Option<Client> {
    let pem = std::fs::read(ca_cert).ok()?;
    let ca = reqwest::Certificate::from_pem(&pem).ok()?;
    let http = Client::builder().add_root_certificate(ca).build().ok()?;
    let health = http
        .get(format!("{addr}/v1/sys/health"))
        .send()
        .await
        .ok()?;
    health.status().is_success().then_some(http)
}
