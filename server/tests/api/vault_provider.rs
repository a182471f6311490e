//! The OpenBao/Vault provider against the real OpenBao of the harness:
//! reads, versions, errors, and logging in (token file, AppRole, again
//! after a revocation). Transport cases (unreachable, slow, TLS, namespaces,
//! health) are in `vault_connection.rs`.

use crate::openbao::{OpenBao, secret_file, unique};
use gantry_core::secret::{FetchError, FetchRequest, Fetched, SecretProvider};
use gantry_server::secrets::vault::{VaultAuth, VaultProvider, VaultSettings};
use serde_json::json;
use tempfile::TempDir;

/// A provider for `settings`; connect must accept them.
pub async fn provider(settings: VaultSettings) -> VaultProvider {
    VaultProvider::connect(settings)
        .await
        .expect("settings accepted")
}

/// A provider logging in with `token` from a file in `dir`.
pub async fn with_token(bao: &OpenBao, dir: &TempDir, token: &str) -> VaultProvider {
    let file = secret_file(dir.path(), &unique("token"), token);
    provider(bao.settings(VaultAuth::TokenFile(file))).await
}

pub async fn fetch(provider: &VaultProvider, path: &str, key: &str) -> Result<Fetched, FetchError> {
    provider
        .fetch(FetchRequest {
            path,
            key: Some(key),
        })
        .await
}

fn value(fetched: Result<Fetched, FetchError>) -> (String, Option<u64>) {
    let fetched = fetched.expect("fetched");
    (fetched.value.expose().to_owned(), fetched.version)
}

#[tokio::test]
async fn a_kv_v2_key_reads_with_or_without_the_data_infix() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(
        &mount,
        "prod/db",
        json!({"password": "pw-4471-first", "user": "app"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let vault = with_token(&bao, &dir, &bao.root_token).await;

    let api_form = fetch(&vault, &format!("{mount}/data/prod/db"), "password").await;
    assert_eq!(value(api_form), ("pw-4471-first".into(), Some(1)));
    let cli_form = fetch(&vault, &format!("{mount}/prod/db"), "password").await;
    assert_eq!(value(cli_form), ("pw-4471-first".into(), Some(1)));
}

#[tokio::test]
async fn a_rotated_value_is_read_by_the_next_fetch_with_its_version() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    let path = format!("{mount}/data/api");
    let dir = tempfile::tempdir().unwrap();
    let vault = with_token(&bao, &dir, &bao.root_token).await;

    bao.put(&mount, "api", json!({"token": "tok-version-one"}))
        .await;
    assert_eq!(
        value(fetch(&vault, &path, "token").await),
        ("tok-version-one".into(), Some(1))
    );
    let second = bao
        .put(&mount, "api", json!({"token": "tok-version-two"}))
        .await;
    assert_eq!(second, 2);
    assert_eq!(
        value(fetch(&vault, &path, "token").await),
        ("tok-version-two".into(), Some(2))
    );
}

#[tokio::test]
async fn a_missing_path_key_or_mount_is_not_found_and_named() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "prod/db", json!({"user": "app-user-1"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let vault = with_token(&bao, &dir, &bao.root_token).await;

    let cases = [
        (format!("{mount}/data/prod/nothing"), "password"),
        (format!("{mount}/data/prod/db"), "password"),
        (
            format!("{}/data/prod/db", unique("no-such-mount")),
            "password",
        ),
    ];
    for (path, key) in cases {
        match fetch(&vault, &path, key).await {
            Err(FetchError::NotFound(text)) => {
                assert!(text.starts_with(&format!("{path}#{key}")), "{text}");
                assert!(!text.contains("app-user-1"), "{text}");
            }
            other => panic!("{path}#{key}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_value_that_is_not_usable_text_is_refused_without_showing_it() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(
        &mount,
        "odd",
        json!({"port": 54321, "pin": "123", "nested": {"k": "inner-7731"}}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let vault = with_token(&bao, &dir, &bao.root_token).await;

    for key in ["port", "pin", "nested"] {
        match fetch(&vault, &format!("{mount}/odd"), key).await {
            Err(FetchError::Unusable(text)) => {
                assert!(text.starts_with(&format!("{mount}/odd#{key}")), "{text}");
                for shown in ["54321", "123", "inner-7731"] {
                    assert!(!text.contains(shown), "{text}");
                }
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let no_key = vault
        .fetch(FetchRequest {
            path: &format!("{mount}/odd"),
            key: None,
        })
        .await;
    assert!(
        matches!(&no_key, Err(FetchError::Unusable(t)) if t.contains("#password")),
        "{no_key:?}"
    );
}

#[tokio::test]
async fn a_token_whose_policy_lacks_the_path_is_denied() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "prod/db", json!({"password": "prod-pw-9913"}))
        .await;
    bao.put(&mount, "shared/api", json!({"token": "shared-tok-5521"}))
        .await;
    let policy = bao.read_policy(&mount, "prod/*").await;
    let token = bao.token(&[&policy]).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = with_token(&bao, &dir, &token).await;

    assert_eq!(
        value(fetch(&vault, &format!("{mount}/prod/db"), "password").await).0,
        "prod-pw-9913"
    );
    match fetch(&vault, &format!("{mount}/data/shared/api"), "token").await {
        Err(FetchError::Denied(text)) => {
            assert!(
                text.starts_with(&format!("{mount}/data/shared/api#token")),
                "{text}"
            );
            assert!(text.contains(&format!("{mount}/data/shared/api")), "{text}");
            assert!(
                !text.contains(&token) && !text.contains("shared-tok-5521"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_mount_override_replaces_the_references_mount() {
    let bao = OpenBao::from_env();
    let prod_mount = bao.kv_mount().await;
    bao.put(
        &prod_mount,
        "app/db",
        json!({"password": "from-the-prod-mount"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "token", &bao.root_token);
    let mut settings = bao.settings(VaultAuth::TokenFile(file));
    settings.mount = Some(prod_mount);
    let vault = provider(settings).await;

    let fetched = fetch(&vault, "kv/data/app/db", "password").await;
    assert_eq!(value(fetched).0, "from-the-prod-mount");
}

#[tokio::test]
async fn a_token_file_is_read_again_when_its_token_is_revoked() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "db", json!({"password": "pw-rotating-agent"}))
        .await;
    let path = format!("{mount}/db");
    let policy = bao.read_policy(&mount, "*").await;
    let first_with_policy = bao.token(&[&policy]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "token", &first_with_policy);
    let vault = provider(bao.settings(VaultAuth::TokenFile(file.clone()))).await;
    assert!(fetch(&vault, &path, "password").await.is_ok());

    // Revoked, and the file not yet rewritten: refused, and says why.
    bao.revoke(&first_with_policy).await;
    let refused = fetch(&vault, &path, "password").await;
    assert!(
        matches!(&refused, Err(FetchError::Denied(_))),
        "{refused:?}"
    );

    // An agent writes a fresh token: the next fetch picks it up.
    let second = bao.token(&[&policy]).await;
    secret_file(dir.path(), "token", &second);
    assert_eq!(
        value(fetch(&vault, &path, "password").await).0,
        "pw-rotating-agent"
    );
}

#[tokio::test]
async fn approle_logs_in_from_files_and_once_again_after_a_revocation() {
    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "app", json!({"key": "approle-read-value"}))
        .await;
    let policy = bao.read_policy(&mount, "*").await;
    // Two logins in all: the first fetch's, and one for every fetch that
    // finds the token revoked. A third would be refused.
    let role = bao.approle_with_uses(&[&policy], 2).await;
    let dir = tempfile::tempdir().unwrap();
    let auth = VaultAuth::AppRole {
        role_id: role.role_id.clone(),
        secret_id_file: secret_file(dir.path(), "secret-id", &role.secret_id),
        mount: role.mount.clone(),
    };
    let vault = std::sync::Arc::new(provider(bao.settings(auth)).await);
    let path = format!("{mount}/data/app");
    assert_eq!(
        value(fetch(&vault, &path, "key").await).0,
        "approle-read-value"
    );

    bao.revoke_approle_tokens(&role.mount).await;
    let fetches = (0..6).map(|_| {
        let (vault, path) = (vault.clone(), path.clone());
        tokio::spawn(async move { fetch(&vault, &path, "key").await })
    });
    for fetched in futures_collect(fetches).await {
        assert_eq!(value(fetched).0, "approle-read-value");
    }
}

async fn futures_collect<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await.unwrap());
    }
    results
}
