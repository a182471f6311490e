//! What the Vault provider's libraries log (vaultrs, rustify, reqwest,
//! hyper, rustls) at the most verbose level, for reads, refusals and an
//! AppRole login: never a value, a token or a secret id. An operator who
//! turns on `RUST_LOG=trace` to debug a fetch must not leak what it fetched.

use crate::openbao::{OpenBao, secret_file};
use crate::vault_provider::{fetch, provider, with_token};
use gantry_server::secrets::vault::VaultAuth;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything the process logs, kept for searching.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn trace_logs_of_fetches_and_logins_show_no_value_token_or_secret_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    // Global, and `log` records too (reqwest and rustls use `log`): nextest
    // runs each test in its own process, so nothing else shares it.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init()
        .expect("the only subscriber in this process");

    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    let value = "trace-canary-value-5150";
    bao.put(&mount, "db", json!({"password": value})).await;
    let policy = bao.read_policy(&mount, "*").await;
    let token = bao.token(&[&policy]).await;
    let role = bao.approle(&[&policy]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{mount}/data/db");

    let by_token = with_token(&bao, &dir, &token).await;
    assert_eq!(
        fetch(&by_token, &db, "password")
            .await
            .unwrap()
            .value
            .expose(),
        value
    );
    assert!(
        fetch(&by_token, &format!("{mount}/data/none"), "password")
            .await
            .is_err()
    );
    let by_role = provider(bao.settings(VaultAuth::AppRole {
        role_id: role.role_id.clone(),
        secret_id_file: secret_file(dir.path(), "secret-id", &role.secret_id),
        mount: role.mount.clone(),
    }))
    .await;
    assert_eq!(
        fetch(&by_role, &db, "password")
            .await
            .unwrap()
            .value
            .expose(),
        value
    );
    // A revoked token: the lookup and the re-login are logged too.
    bao.revoke_approle_tokens(&role.mount).await;
    assert_eq!(
        fetch(&by_role, &db, "password")
            .await
            .unwrap()
            .value
            .expose(),
        value
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works: the HTTP layer's own lines are there.
    assert!(logs.contains("Executing endpoint"), "nothing captured");
    for secret in [value, &token, &role.secret_id, &bao.root_token] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}
