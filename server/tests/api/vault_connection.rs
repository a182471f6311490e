//! The OpenBao/Vault provider's connection: settings refused at start with
//! the flag to fix, a server that is down or silent (a clear error within
//! the timeout, never a hang), TLS with a custom CA, namespaces, health, and
//! no value or token in any error or `Debug` text.

use crate::openbao::{OpenBao, TlsOpenBao, secret_file, unique};
use crate::vault_provider::{fetch, provider, with_token};
use gantry_core::secret::{FetchError, SecretProvider};
use gantry_server::secrets::vault::{VaultAuth, VaultProvider, VaultSettings};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Settings for `addr` with a token file that exists (for cases that never
/// reach a server).
fn offline(addr: &str, dir: &tempfile::TempDir) -> VaultSettings {
    VaultSettings {
        addr: addr.into(),
        auth: VaultAuth::TokenFile(secret_file(dir.path(), "token", "offline-token")),
        namespace: None,
        ca_cert: None,
        timeout: Duration::from_secs(5),
        mount: None,
    }
}

/// A port nothing listens on: 1 is privileged and never bound here. (A port
/// bound and freed by a test could be taken at once by another test's
/// server, which then answers.)
fn closed_port() -> u16 {
    1
}

#[tokio::test]
async fn bad_settings_are_refused_at_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let base = offline("http://127.0.0.1:8200", &dir);
    let missing = dir.path().join("missing");
    let empty = secret_file(dir.path(), "empty", "");
    let not_pem = secret_file(dir.path(), "not-pem", "just text");
    let cases: Vec<(VaultSettings, &str)> = vec![
        (
            VaultSettings {
                addr: "vault:8200".into(),
                ..base.clone()
            },
            "--vault-addr",
        ),
        (
            VaultSettings {
                addr: "http://vault.example:8200".into(),
                ..base.clone()
            },
            "--vault-addr",
        ),
        (
            VaultSettings {
                auth: VaultAuth::TokenFile(missing.clone()),
                ..base.clone()
            },
            "--vault-token-file",
        ),
        (
            VaultSettings {
                auth: VaultAuth::TokenFile(empty.clone()),
                ..base.clone()
            },
            "--vault-token-file",
        ),
        (
            VaultSettings {
                auth: VaultAuth::AppRole {
                    role_id: "role".into(),
                    secret_id_file: missing.clone(),
                    mount: "approle".into(),
                },
                ..base.clone()
            },
            "--vault-secret-id-file",
        ),
        (
            VaultSettings {
                ca_cert: Some(missing.clone()),
                ..base.clone()
            },
            "--vault-ca-cert",
        ),
        (
            VaultSettings {
                ca_cert: Some(not_pem),
                ..base.clone()
            },
            "--vault-ca-cert",
        ),
        (
            VaultSettings {
                namespace: Some("bad\nns".into()),
                ..base.clone()
            },
            "--vault-namespace",
        ),
    ];
    for (settings, flag) in cases {
        let err = VaultProvider::connect(settings.clone()).await.unwrap_err();
        assert!(err.starts_with(flag), "{settings:?}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[tokio::test]
async fn a_closed_port_fails_fetches_at_once_and_health_says_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    // Connecting sends nothing, so a server that is down does not stop Gantry.
    let vault = provider(offline(
        &format!("http://127.0.0.1:{}", closed_port()),
        &dir,
    ))
    .await;

    let started = Instant::now();
    let fetched = fetch(&vault, "kv/data/prod/db", "password").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match fetched {
        Err(FetchError::Unreachable(text)) => {
            assert!(text.starts_with("kv/data/prod/db#password"), "{text}");
            assert!(text.to_lowercase().contains("refused"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let health = vault.health().await;
    assert!(!health.reachable && !health.authenticated, "{health:?}");
    assert!(health.error.is_some_and(|e| e.contains("refused")));
}

/// A server that accepts connections and never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_silent_server_fails_fetches_logins_and_health_within_the_timeout() {
    let (addr, task) = silent_server().await;
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(500);
    let token = VaultSettings {
        timeout,
        ..offline(&addr, &dir)
    };
    let approle = VaultSettings {
        auth: VaultAuth::AppRole {
            role_id: "role".into(),
            secret_id_file: secret_file(dir.path(), "secret-id", "offline-secret-id"),
            mount: "approle".into(),
        },
        ..token.clone()
    };
    // Bounded, not hanging; the margin covers a loaded test machine.
    let bound = timeout + Duration::from_millis(1500);
    for settings in [token, approle] {
        let vault = provider(settings).await;
        let started = Instant::now();
        let fetched = fetch(&vault, "kv/data/slow", "key").await;
        let elapsed = started.elapsed();
        assert!(
            elapsed >= timeout - Duration::from_millis(50) && elapsed < bound,
            "{elapsed:?}"
        );
        match fetched {
            Err(FetchError::Unreachable(text)) => {
                assert!(
                    text.contains("kv/data/slow#key") && text.contains("no answer within 500 ms"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        let started = Instant::now();
        let health = vault.health().await;
        assert!(started.elapsed() < bound && !health.reachable, "{health:?}");
    }
    task.abort();
}

#[tokio::test]
async fn tls_with_the_servers_ca_reads_and_without_it_is_refused() {
    let tls = TlsOpenBao::start().await;
    let mount = tls.bao.kv_mount().await;
    tls.bao
        .put(&mount, "db", json!({"password": "over-tls-4410"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "token", &tls.bao.root_token);
    let trusting = VaultSettings {
        ca_cert: Some(tls.ca_cert.clone()),
        ..tls.bao.settings(VaultAuth::TokenFile(file.clone()))
    };
    let vault = provider(trusting).await;
    let fetched = fetch(&vault, &format!("{mount}/data/db"), "password")
        .await
        .unwrap();
    assert_eq!(fetched.value.expose(), "over-tls-4410");
    assert!(vault.health().await.authenticated);

    let untrusting = provider(tls.bao.settings(VaultAuth::TokenFile(file))).await;
    match fetch(&untrusting, &format!("{mount}/data/db"), "password").await {
        Err(FetchError::Unreachable(text)) => assert!(text.contains("certificate"), "{text}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_namespace_scopes_every_request() {
    let bao = OpenBao::from_env();
    let namespace = unique("team");
    bao.create_namespace(&namespace).await;
    let inside = bao.in_namespace(&namespace);
    let mount = inside.kv_mount().await;
    inside
        .put(&mount, "db", json!({"password": "namespaced-pw-3310"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "token", &bao.root_token);

    let scoped = provider(inside.settings(VaultAuth::TokenFile(file.clone()))).await;
    let fetched = fetch(&scoped, &format!("{mount}/data/db"), "password")
        .await
        .unwrap();
    assert_eq!(fetched.value.expose(), "namespaced-pw-3310");
    // sys/health lives in the root namespace only; health still works.
    let health = scoped.health().await;
    assert!(health.reachable && health.authenticated, "{health:?}");

    let root = provider(bao.settings(VaultAuth::TokenFile(file))).await;
    let outside = fetch(&root, &format!("{mount}/data/db"), "password").await;
    assert!(
        matches!(outside, Err(FetchError::NotFound(_))),
        "{outside:?}"
    );
}

#[tokio::test]
async fn health_says_whether_the_token_is_accepted() {
    let bao = OpenBao::from_env();
    let dir = tempfile::tempdir().unwrap();
    let healthy = with_token(&bao, &dir, &bao.root_token).await.health().await;
    assert!(
        healthy.reachable && healthy.authenticated && healthy.error.is_none(),
        "{healthy:?}"
    );

    let token = bao.token(&[]).await;
    let vault = with_token(&bao, &dir, &token).await;
    bao.revoke(&token).await;
    let revoked = vault.health().await;
    assert!(revoked.reachable && !revoked.authenticated, "{revoked:?}");
    assert!(revoked.error.is_some_and(|e| !e.contains(&token)));
}

#[tokio::test]
async fn no_error_or_debug_text_shows_a_value_a_token_or_a_secret_id() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    let value = "leak-canary-value-8812";
    bao.put(&mount, "db", json!({"password": value, "port": 8675309}))
        .await;
    let policy = bao.read_policy(&mount, "other/*").await;
    let token = bao.token(&[&policy]).await;
    let role = bao.approle(&[&policy]).await;
    let dir = tempfile::tempdir().unwrap();
    let limited = with_token(&bao, &dir, &token).await;
    let root = with_token(&bao, &dir, &bao.root_token).await;
    let wrong_secret_id: PathBuf = secret_file(dir.path(), "secret-id", "wrong-secret-id-6623");
    let approle = provider(bao.settings(VaultAuth::AppRole {
        role_id: role.role_id.clone(),
        secret_id_file: wrong_secret_id,
        mount: role.mount.clone(),
    }))
    .await;

    let mut texts = vec![format!("{root:?}"), format!("{approle:?}")];
    let db = format!("{mount}/data/db");
    texts.push(format!("{:?}", fetch(&root, &db, "password").await));
    for (vault, key) in [
        (&limited, "password"),
        (&root, "port"),
        (&root, "nope"),
        (&approle, "password"),
    ] {
        let err = fetch(vault, &db, key).await.unwrap_err();
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    texts.push(format!("{:?}", approle.health().await));
    assert!(
        texts.iter().any(|t| t.contains("invalid")),
        "the AppRole refusal says why: {texts:#?}"
    );
    for text in &texts {
        assert!(!text.contains('\n'), "one line: {text:?}");
        for secret in [
            value,
            "8675309",
            &token,
            &bao.root_token,
            &role.secret_id,
            "wrong-secret-id-6623",
        ] {
            assert!(!text.contains(secret), "{text:?} shows a secret");
        }
    }
}
