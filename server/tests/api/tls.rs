//! HTTPS served by Gantry itself (`--tls-cert`, `--tls-key`), certificate
//! rotation without a restart, and client certificates as credentials
//! (`--tls-client-ca`, `--client-cert-mapping`). Every certificate is made
//! here, by a certificate authority made here.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use reqwest::Client;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The name the server's certificates are for; clients resolve it to the
/// test server's address.
const HOST: &str = "gantry.test";

/// A certificate authority, and what it signs.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, as PEM.
struct Issued {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for [`HOST`], told apart by `label`.
    fn server(&self, label: &str) -> Issued {
        let mut params = CertificateParams::new(vec![HOST.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, label);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate with this common name (and optional SAN URI).
    fn client(&self, common_name: &str, uri: Option<&str>) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        if let Some(uri) = uri {
            params
                .subject_alt_names
                .push(rcgen::SanType::URI(uri.try_into().unwrap()));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    /// A client certificate that expired yesterday.
    fn expired_client(&self, common_name: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(30);
        params.not_after = now - time::Duration::days(1);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// The files a TLS server is started with.
struct Files {
    dir: TempDir,
}

impl Files {
    fn new(server: &Issued, client_ca: Option<&Authority>) -> Self {
        let files = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        files.install(server);
        if let Some(ca) = client_ca {
            std::fs::write(files.path("client-ca.pem"), ca.pem()).unwrap();
        }
        files
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// Replaces the served pair the way a certificate manager does: each
    /// file written aside, then renamed over the old one.
    fn install(&self, server: &Issued) {
        replace(&self.path("key.pem"), &server.key_pem);
        replace(&self.path("cert.pem"), &server.cert_pem);
    }
}

fn replace(path: &Path, text: &str) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// A server on `backend` serving HTTPS with `files`, plus `extra` flags.
async fn spawn(backend: Backend, files: &Files, extra: &[&str]) -> TestApp {
    let cert = files.arg("cert.pem");
    let key = files.arg("key.pem");
    let ca = files.arg("client-ca.pem");
    let mut flags = vec!["--tls-cert", &cert, "--tls-key", &key];
    if files.path("client-ca.pem").exists() {
        flags.extend(["--tls-client-ca", &ca]);
    }
    flags.extend_from_slice(extra);
    TestApp::spawn_on(backend, &flags).await
}

/// A fresh client (no pooled connection, no TLS session to resume) that
/// trusts `ca` and presents `identity`, if any.
fn client(app: &TestApp, ca: &Authority, identity: Option<&Issued>) -> Client {
    client_with(app, ca, identity, |b| b)
}

fn client_with(
    app: &TestApp,
    ca: &Authority,
    identity: Option<&Issued>,
    tweak: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Client {
    let mut builder = Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .resolve(HOST, app.addr)
        .tls_info(true)
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        let pem = format!("{}{}", id.cert_pem, id.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    tweak(builder).build().unwrap()
}

fn url(app: &TestApp, path: &str) -> String {
    format!("https://{HOST}:{}{path}", app.addr.port())
}

/// The certificate the server presented on a new connection.
async fn served_certificate(app: &TestApp, ca: &Authority) -> Vec<u8> {
    let resp = client(app, ca, None)
        .get(url(app, "/healthz"))
        .send()
        .await
        .expect("GET /healthz over TLS");
    assert_eq!(resp.status(), 200);
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("the server's certificate")
        .to_vec()
}

/// Polls (bounded) until the server presents `expected` on new connections.
async fn wait_until_served(app: &TestApp, ca: &Authority, expected: &[u8]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if served_certificate(app, ca).await == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rotated certificate was not served within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

#[tokio::test]
async fn the_api_and_pages_are_served_over_tls_with_secure_cookies() {
    let ca = Authority::new("Test CA");
    let files = Files::new(&ca.server("first"), None);
    let app = spawn(Backend::Sqlite, &files, &["--dev"]).await;
    let https = client(&app, &ca, None);
    let (status, me) = json(
        https
            .get(url(&app, "/api/v1/me"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "bootstrap");
    // Only https reaches the server: the session cookie is `__Host-` and
    // `Secure`.
    let resp = https
        .post(url(&app, "/auth/dev/sign-in"))
        .form(&[("username", "operator")])
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("gantry_session"))
        .unwrap_or_else(|| panic!("a session cookie: {resp:?}"))
        .to_owned();
    assert!(cookie.starts_with("__Host-gantry_session="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000",
        "browsers keep to https"
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", app.addr))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
}

#[tokio::test]
async fn tls_1_2_and_1_3_are_served_and_tls_1_1_is_refused() {
    let ca = Authority::new("Test CA");
    let files = Files::new(&ca.server("first"), None);
    let app = spawn(Backend::Sqlite, &files, &[]).await;
    for version in [
        reqwest::tls::Version::TLS_1_2,
        reqwest::tls::Version::TLS_1_3,
    ] {
        let pinned = client_with(&app, &ca, None, |b| {
            b.min_tls_version(version).max_tls_version(version)
        });
        let resp = pinned.get(url(&app, "/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{version:?}");
    }
    // A TLS 1.1 ClientHello (no supported_versions extension) is answered
    // with a fatal protocol_version alert (RFC 8446 §4.2.1, RFC 5246 §E.1).
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(&tls_1_1_client_hello()).await.unwrap();
    let mut answer = [0u8; 7];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut answer))
        .await
        .expect("an answer within 10 s")
        .expect("an alert record");
    assert_eq!(answer[0], 0x15, "an alert record: {answer:?}");
    assert_eq!(answer[5], 2, "fatal: {answer:?}");
    assert_eq!(answer[6], 70, "protocol_version: {answer:?}");
}

/// A minimal TLS 1.1 ClientHello offering TLS_RSA_WITH_AES_128_CBC_SHA and
/// TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA.
fn tls_1_1_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02];
    body.extend([7u8; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x04, 0x00, 0x2f, 0xc0, 0x13]);
    body.extend([0x01, 0x00]); // null compression only
    // signature_algorithms (ecdsa_secp256r1_sha256), without which rustls
    // stops before it looks at the version.
    body.extend([0x00, 0x08, 0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x02];
    record.extend(u16::try_from(handshake.len()).unwrap().to_be_bytes());
    record.extend(handshake);
    record
}

#[tokio::test]
async fn a_client_that_never_completes_the_handshake_is_disconnected() {
    let ca = Authority::new("Test CA");
    let files = Files::new(&ca.server("first"), None);
    let app = spawn(Backend::Sqlite, &files, &["--header-read-timeout", "300ms"]).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // Half a record header, then silence.
    stream.write_all(&[0x16, 0x03]).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("the server closes the connection within 10 s");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart_and_a_bad_one_is_skipped() {
    let ca = Authority::new("Test CA");
    let first = ca.server("first");
    let files = Files::new(&first, None);
    let app = spawn(
        Backend::Sqlite,
        &files,
        &[
            "--tls-reload-interval",
            "50ms",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    )
    .await;
    assert_eq!(served_certificate(&app, &ca).await, first.der);

    // A broken certificate file: logged and counted, the old pair stays.
    replace(&files.path("cert.pem"), "not a certificate");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while reload_failures(&app).await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bad file was not noticed within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(served_certificate(&app, &ca).await, first.der);

    // A good new pair is picked up by the running server.
    let second = ca.server("second");
    files.install(&second);
    wait_until_served(&app, &ca, &second.der).await;
    let resp = client(&app, &ca, None)
        .get(url(&app, "/api/v1/me"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn reload_failures(app: &TestApp) -> f64 {
    let text = crate::metrics::scrape(app).await;
    text.lines()
        .find_map(|l| l.strip_prefix("gantry_tls_reload_failures_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A server asking for client certificates from `clients`, mapping
/// `cn:deploy-bot` to operator in dev and a SPIFFE id to viewer.
async fn mtls_server(
    backend: Backend,
    server_ca: &Authority,
    clients: &Authority,
) -> (TestApp, Files) {
    let files = Files::new(&server_ca.server("server"), Some(clients));
    let app = spawn(
        backend,
        &files,
        &[
            "--client-cert-mapping",
            "cn:deploy-bot=operator@dev",
            "--client-cert-mapping",
            "uri:spiffe://example.org/ci=viewer@stage",
        ],
    )
    .await;
    (app, files)
}

const WORKFLOW: &str = "name: hello\nsteps:\n  - id: greet\n    run: \"true\"\n";

async fn mapped_certificate_acts_with_its_roles_and_is_audited_by_name(backend: Backend) {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(backend, &ca, &clients).await;
    let admin = client(&app, &ca, None);
    let resp = admin
        .post(url(&app, "/api/v1/workflows"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/yaml")
        .body(WORKFLOW)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    let bot = client(&app, &ca, Some(&clients.client("deploy-bot", None)));
    let (status, me) = json(bot.get(url(&app, "/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "cert:cn:deploy-bot");
    let roles = me["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1, "{me}");
    assert_eq!(roles[0]["role"], "operator");
    assert_eq!(roles[0]["environment"], "dev");

    // Its roles, no more: operator in dev triggers there, not in prod.
    let trigger = |env: &str| {
        bot.post(url(&app, "/api/v1/workflows/hello/runs"))
            .json(&serde_json::json!({ "environment": env }))
            .send()
    };
    let (status, run) = json(trigger("dev").await.unwrap()).await;
    assert_eq!(status, 201, "{run}");
    let (status, refused) = json(trigger("prod").await.unwrap()).await;
    assert_eq!(status, 403, "{refused}");
    let recorded = app
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'run.trigger' \
             AND actor_id = 'cert:cn:deploy-bot' AND actor_kind = 'service_token' \
             AND outcome = 'succeeded'",
        )
        .await;
    assert_eq!(
        recorded, 1,
        "the trigger is on the record under the certificate"
    );

    // Named by its SAN URI; holds only that rule's role.
    let ci = client(
        &app,
        &ca,
        Some(&clients.client("some-runner", Some("spiffe://example.org/ci"))),
    );
    let (status, me) = json(ci.get(url(&app, "/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "cert:uri:spiffe://example.org/ci");
    assert_eq!(me["roles"][0]["role"], "viewer");
}

async fn an_unmapped_certificate_is_refused_with_401_on_the_record(backend: Backend) {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(backend, &ca, &clients).await;
    let stranger = client(&app, &ca, Some(&clients.client("stranger", None)));
    let (status, body) = json(
        stranger
            .get(url(&app, "/api/v1/workflows"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("cn:stranger"), "{message}");
    assert!(message.contains("client_cert_mapping"), "{message}");
    let recorded = app
        .count_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'token.rejected' \
             AND outcome = 'denied' AND details LIKE '%cn:stranger%'",
        )
        .await;
    assert_eq!(recorded, 1);
    // Its holder can still reach the sign-in page (pages send there), and
    // a token still wins.
    let resp = stranger.get(url(&app, "/runs")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let resp = stranger.get(url(&app, "/sign-in")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = stranger
        .get(url(&app, "/api/v1/workflows"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

on_both_backends!(
    mapped_certificate_acts_with_its_roles_and_is_audited_by_name,
    an_unmapped_certificate_is_refused_with_401_on_the_record,
);

#[tokio::test]
async fn certificates_from_another_authority_or_expired_are_refused_at_the_handshake() {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(Backend::Sqlite, &ca, &clients).await;
    let get = |identity: Issued| {
        let c = client(&app, &ca, Some(&identity));
        let me = url(&app, "/api/v1/me");
        async move { c.get(me).send().await }
    };
    // The control: this authority's certificate for the same name is fine.
    assert_eq!(
        get(clients.client("deploy-bot", None))
            .await
            .unwrap()
            .status(),
        200
    );
    let other = Authority::new("Another CA");
    for (what, identity, alert) in [
        (
            "another authority",
            other.client("deploy-bot", None),
            "AlertReceived(UnknownCA)",
        ),
        (
            "expired",
            clients.expired_client("deploy-bot"),
            "AlertReceived(CertificateExpired)",
        ),
    ] {
        let err = get(identity).await.expect_err(what);
        // The server's TLS alert, not an HTTP answer.
        let chain = format!("{err:?}");
        assert!(chain.contains(alert), "{what}: {chain}");
    }
}

#[tokio::test]
async fn without_a_certificate_nothing_changes_for_anonymous_visitors_and_tokens() {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(Backend::Sqlite, &ca, &clients).await;
    let anonymous = client(&app, &ca, None);
    let (status, body) = json(
        anonymous
            .get(url(&app, "/api/v1/workflows"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{body}"
    );
    let resp = anonymous.get(url(&app, "/runs")).send().await.unwrap();
    assert_eq!(resp.status(), 303, "pages send visitors to sign in");
    let resp = anonymous.get(url(&app, "/sign-in")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = anonymous
        .get(url(&app, "/api/v1/me"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_browser_holding_a_mapped_certificate_cannot_be_made_to_write_cross_site() {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(Backend::Sqlite, &ca, &clients).await;
    let bot = client(&app, &ca, Some(&clients.client("deploy-bot", None)));
    let resp = bot
        .post(url(&app, "/api/v1/workflows/hello/runs"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example.com")
        .json(&serde_json::json!({ "environment": "dev" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.text().await.unwrap();
    assert!(body.contains("client certificate"), "{body}");
}

#[tokio::test]
async fn a_certificate_is_no_credential_on_scim_the_execution_api_or_metrics() {
    let ca = Authority::new("Test CA");
    let clients = Authority::new("Client CA");
    let (app, _files) = mtls_server(Backend::Sqlite, &ca, &clients).await;
    let bot = client(&app, &ca, Some(&clients.client("deploy-bot", None)));
    for (method, path) in [
        (reqwest::Method::GET, "/scim/v2/Users"),
        (reqwest::Method::POST, "/exec/v1/claim"),
        (reqwest::Method::GET, "/metrics"),
    ] {
        let resp = bot
            .request(method.clone(), url(&app, path))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path}");
    }
}

#[tokio::test]
async fn a_connection_still_in_its_handshake_holds_its_place_under_the_per_address_cap() {
    let ca = Authority::new("Test CA");
    let files = Files::new(&ca.server("first"), None);
    let app = spawn(
        Backend::Sqlite,
        &files,
        &["--max-connections-per-address", "1"],
    )
    .await;
    // Connected, no hello yet: it holds the address's one place.
    let idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let refused = client(&app, &ca, None)
        .get(url(&app, "/healthz"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a second connection is closed: {refused:?}"
    );
    drop(idle);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client(&app, &ca, None)
            .get(url(&app, "/healthz"))
            .send()
            .await
        {
            Ok(resp) => {
                assert_eq!(resp.status(), 200);
                break;
            }
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "the place was not freed within 20 s: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
