//! Dynamic database credentials from OpenBao's database secrets engine,
//! against the harness's real PostgreSQL: the role exists while the step
//! runs (and outlives its short TTL because the worker renews the lease),
//! and is gone once the attempt ends; when the worker is SIGKILLed midway,
//! the server's lease keeper revokes it after the attempt is reaped.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::openbao::{OpenBao, secret_file, unique};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_step_gets_a_database_login_that_is_renewed_and_revoked,
    a_killed_workers_credentials_are_revoked_by_the_server,
);

/// A database engine at a fresh mount, connected to the harness's
/// PostgreSQL, with one role whose logins live `ttl`; returns the mount,
/// the role name and a token allowed to use them.
async fn database_engine(bao: &OpenBao, ttl: &str) -> (String, String, String) {
    let admin = std::env::var("GANTRY_TEST_POSTGRES_URL").expect("run under with-postgres.sh");
    let hostport = admin
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let mount = unique("db");
    bao.call(
        Method::POST,
        &format!("sys/mounts/{mount}"),
        Some(json!({"type": "database"})),
    )
    .await;
    // Eight characters: usernames carry the role's name cut to eight, and
    // each test must find its own.
    let role = format!("r{}", &unique("x")[2..9]);
    bao.call(
        Method::POST,
        &format!("{mount}/config/pg"),
        Some(json!({
            "plugin_name": "postgresql-database-plugin",
            "allowed_roles": role,
            "connection_url": format!("postgresql://{{{{username}}}}:{{{{password}}}}@{hostport}/postgres?sslmode=disable"),
            "username": "gantry",
            "password": "trust-auth-ignores-it",
            "verify_connection": true,
        })),
    )
    .await;
    bao.call(
        Method::POST,
        &format!("{mount}/roles/{role}"),
        Some(json!({
            "db_name": "pg",
            "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
            "default_ttl": ttl,
            "max_ttl": "10m",
        })),
    )
    .await;
    let policy = unique("dyn");
    bao.policy(
        &policy,
        &format!(
            "path \"{mount}/creds/{role}\" {{ capabilities = [\"read\"] }}\n\
             path \"sys/leases/renew\" {{ capabilities = [\"update\"] }}\n\
             path \"sys/leases/revoke\" {{ capabilities = [\"update\"] }}"
        ),
    )
    .await;
    let token = bao.token(&[&policy]).await;
    (mount, role, token)
}

/// Login roles the engine made for `role` that still exist.
async fn live_roles(role: &str) -> i64 {
    let admin = std::env::var("GANTRY_TEST_POSTGRES_URL").unwrap();
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE strpos(rolname::text, $1) > 0")
            .bind(format!("-{role}-"))
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    n
}

/// Polls until `role` has no login left (bounded).
async fn wait_roles_gone(role: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while live_roles(role).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the credential was never revoked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn audit(app: &TestApp, action: &str, run: &str) -> Vec<Value> {
    let (_, page) = app
        .api_get(&format!("/audit?action={action}&resource=run/{run}"))
        .await;
    page["records"].as_array().unwrap().clone()
}

fn psql_step(mount: &str, role: &str, hostport: &str, middle: &str) -> String {
    format!(
        r#"name: dyn
steps:
  - id: use
    timeout: 60s
    secrets: {{ DB: "vault-db:{mount}/creds/{role}" }}
    run: |
      export PGPASSWORD="$DB"
      psql -h {host} -p {port} -U "$DB_USERNAME" -d postgres -Atc "select 'login ok as ' || current_user"
      {middle}
      psql -h {host} -p {port} -U "$DB_USERNAME" -d postgres -Atc "select 'still ok'"
"#,
        host = hostport.split(':').next().unwrap(),
        port = hostport.split(':').nth(1).unwrap(),
    )
}

fn pg_hostport() -> String {
    let admin = std::env::var("GANTRY_TEST_POSTGRES_URL").unwrap();
    admin
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned()
}

async fn a_step_gets_a_database_login_that_is_renewed_and_revoked(backend: Backend) {
    let bao = OpenBao::from_env();
    // Logins live 3 s: the step outlives that only if its lease is renewed.
    let (mount, role, token) = database_engine(&bao, "3s").await;
    let creds = tempfile::tempdir().unwrap();
    let token_file = secret_file(creds.path(), "token", &token);
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--vault-addr",
            &bao.addr,
            "--vault-token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    // The step's own work takes 5 s: past the login's first TTL.
    let spec = psql_step(&mount, &role, &pg_hostport(), "sleep 5");
    let id = app.apply_and_run(&spec, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
    let text = logs.to_string();
    assert!(
        text.contains("login ok as ***"),
        "the username is masked: {text}"
    );
    assert!(text.contains("still ok"), "renewed past its TTL: {text}");
    assert!(
        text.contains(&format!(
            "revoked the lease of vault-db:{mount}/creds/{role}"
        )),
        "{text}"
    );
    // Gone at once: the worker revoked it as the attempt ended.
    assert_eq!(live_roles(&role).await, 0);
    let fetches = audit(&app, "secret.fetch", &id).await;
    let lease_id = fetches[0]["details"]["lease_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        lease_id.starts_with(&format!("{mount}/creds/{role}/")),
        "{fetches:#?}"
    );
    assert_eq!(fetches[0]["details"]["lease_seconds"], 3);
    // The keeper confirms, once, in the audit log.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let revokes = audit(&app, "secret.revoke", &id).await;
        if let Some(r) = revokes.first() {
            assert_eq!(revokes.len(), 1);
            assert_eq!(r["details"]["lease_id"], lease_id.as_str());
            assert_eq!(r["actor"]["kind"], "system");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no secret.revoke record"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn a_killed_workers_credentials_are_revoked_by_the_server(backend: Backend) {
    let bao = OpenBao::from_env();
    let (mount, role, token) = database_engine(&bao, "5m").await;
    let creds = tempfile::tempdir().unwrap();
    let token_file = secret_file(creds.path(), "token", &token);
    let vault = [
        "--vault-addr",
        &bao.addr,
        "--vault-token-file",
        token_file.to_str().unwrap(),
    ];
    let mut flags = vec!["--dev", "--worker-slots", "0"];
    flags.extend_from_slice(&vault);
    let app = TestApp::spawn_on(backend, &flags).await;
    let worker_token = app.worker_token("doomed").await;
    let mut extra = vec!["--worker-lease", "2s"];
    extra.extend_from_slice(&vault);
    let mut worker = app.spawn_worker_process(&worker_token, "doomed", &extra);
    let spec = psql_step(&mount, &role, &pg_hostport(), "sleep 600");
    let id = app.apply_and_run(&spec, json!({})).await;
    // The login exists while the step runs…
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while live_roles(&role).await == 0 {
        if std::time::Instant::now() > deadline {
            let (_, run) = app.api_get(&format!("/runs/{id}")).await;
            let (_, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
            let admin = std::env::var("GANTRY_TEST_POSTGRES_URL").unwrap();
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            let roles: Vec<String> =
                sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'v-%'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            panic!("no login was issued: {roles:?} {run:#} {logs:#}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // …and is on record (a worker killed between Vault issuing a login and
    // Gantry recording it leaves it to its TTL: docs/secrets.md)…
    while audit(&app, "secret.fetch", &id).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the fetch was never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // …the worker dies without a word…
    worker.start_kill().unwrap();
    worker.wait().await.unwrap();
    // …the server reaps the attempt and its keeper revokes the login.
    // (A lost attempt is retried: the step waits for another worker.)
    app.wait_run(&id, |r| r["steps"][0]["attempts"][0]["status"] == "lost")
        .await;
    wait_roles_gone(&role).await;
    let revokes = audit(&app, "secret.revoke", &id).await;
    assert_eq!(revokes.len(), 1, "{revokes:#?}");
    assert_eq!(
        revokes[0]["details"]["reference"],
        format!("vault-db:{mount}/creds/{role}")
    );
}
