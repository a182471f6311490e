//! Gantry's own secrets as references: the audit sink's token is read from
//! OpenBao at start, and again on SIGHUP after it was rotated there, with
//! no restart (a real `gantry serve` process).

use crate::audit_processes::{apply_many, serve};
use crate::helpers::{Backend, fresh_postgres_database};
use crate::on_both_backends;
use crate::openbao::{OpenBao, secret_file};
use axum::http::HeaderMap;
use serde_json::json;
use std::sync::{Arc, Mutex};

on_both_backends!(a_sink_token_rotated_in_vault_is_used_after_sighup);

async fn a_sink_token_rotated_in_vault_is_used_after_sighup(backend: Backend) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = seen.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!("http://{}/ingest", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/ingest",
        axum::routing::post(move |headers: HeaderMap| {
            let keep = keep.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                keep.lock().unwrap().push(auth);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });

    let bao = OpenBao::from_env();
    let mount = bao.kv_mount().await;
    bao.put(&mount, "gantry/siem", json!({"token": "first-token-value"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let vault_token = bao
        .token(&[&bao.read_policy(&mount, "gantry/*").await])
        .await;
    let token_file = secret_file(dir.path(), "vault-token", &vault_token);
    let reference = format!("vault:{mount}/data/gantry/siem#token");
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("gantry.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let flags = [
        "--audit-sink-url",
        &sink_url,
        "--audit-sink-token-ref",
        &reference,
        "--vault-addr",
        &bao.addr,
        "--vault-token-file",
        token_file.to_str().unwrap(),
    ];
    let (server, addr) = serve(&db_url, &dir.path().join("p"), &flags).await;
    let saw = |token: &str| {
        let wanted = format!("Bearer {token}");
        seen.lock().unwrap().contains(&wanted)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !saw("first-token-value") {
        assert!(std::time::Instant::now() < deadline, "nothing delivered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Rotated in Vault; the server is told to read it again.
    bao.put(
        &mount,
        "gantry/siem",
        json!({"token": "second-token-value"}),
    )
    .await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let mut round = 0;
    while !saw("second-token-value") {
        assert!(
            std::time::Instant::now() < deadline,
            "the rotated token was never used: {:?}",
            seen.lock().unwrap()
        );
        // New records to deliver, so the sink calls again.
        round += 1;
        apply_many(addr, &format!("r{round}"), 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The process lived through it: SIGHUP reloads, it doesn't stop.
    assert_eq!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}
