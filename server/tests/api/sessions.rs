//! Sessions are stored hashed. As found, a step read a live session id out
//! of the SQLite file (the session table held the cookie's value) and used
//! it; now the database holds only the SHA-256 of each id, so reading it
//! yields nothing to present. And answers that hand out a secret (a new
//! token, a session cookie) carry `Cache-Control: no-store`.

use crate::helpers::{Backend, TestApp, session_cookie};
use crate::on_both_backends;
use gantry_server::store::{self, DatabaseUrl};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

on_both_backends!(
    the_database_never_holds_a_session_id,
    expired_sessions_are_deleted_and_live_ones_kept,
    answers_carrying_a_secret_are_not_stored_by_caches,
);

/// Every session row, each column as text.
async fn session_rows(app: &TestApp) -> Vec<String> {
    let sql = "SELECT id_hash || ' ' || data || ' ' || CAST(expiry_date AS TEXT) FROM sessions";
    match app.backend {
        Backend::Sqlite => sqlx::query_scalar(sql)
            .fetch_all(&app.db().await)
            .await
            .unwrap(),
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        }
    }
}

/// The SQLite database's files as bytes (the main file and its WAL).
fn sqlite_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = std::fs::read(&app.db_path).unwrap();
    let wal = app.db_path.with_extension("db-wal");
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn the_database_never_holds_a_session_id(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let resp = app.sign_in_as("admin").await;
    assert_eq!(resp.status(), 303);
    let cookie = session_cookie(&resp).expect("a session cookie");
    let id = cookie
        .trim_start_matches("gantry_session=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(id.len() >= 20, "{cookie}");
    // The session works…
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin", "{me}");

    // …yet its id is nowhere in the session table, only its hash.
    let rows = session_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(!rows[0].contains(&id), "the session id is stored: {rows:?}");
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    assert!(rows[0].starts_with(&hash), "{rows:?} vs {hash}");
    // Nor anywhere in the SQLite file, which is what a step read.
    if backend == Backend::Sqlite {
        assert!(
            !contains(&sqlite_bytes(&app), &id),
            "the database file holds the session id"
        );
    }

    // Presenting the stored hash as a cookie gets nobody in.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("gantry_session={hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // Signing out deletes the row.
    assert_eq!(app.sign_out().await.status(), 303);
    assert!(session_rows(&app).await.is_empty());
}

async fn expired_sessions_are_deleted_and_live_ones_kept(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let store = store::connect(&DatabaseUrl::parse(&app.db_url).unwrap(), 2)
        .await
        .unwrap();
    let sessions = store.sessions();
    let now = time::OffsetDateTime::now_utc();
    let mut live = Record {
        id: Id::default(),
        data: [("auth".to_owned(), json!({"user_id": "u1"}))].into(),
        expiry_date: now + time::Duration::hours(1),
    };
    let mut gone = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: now - time::Duration::seconds(1),
    };
    sessions.create(&mut live).await.unwrap();
    sessions.create(&mut gone).await.unwrap();
    assert_eq!(session_rows(&app).await.len(), 2);
    // An expired session doesn't load even before it is swept.
    assert!(sessions.load(&gone.id).await.unwrap().is_none());
    let loaded = sessions.load(&live.id).await.unwrap().expect("live");
    assert_eq!(loaded.data, live.data);
    assert_eq!(loaded.id, live.id);
    assert_eq!(
        loaded.expiry_date.unix_timestamp(),
        live.expiry_date.unix_timestamp()
    );

    sessions.delete_expired().await.unwrap();
    let rows = session_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(sessions.load(&live.id).await.unwrap().is_some());

    // Saving updates in place; deleting removes.
    live.data.insert("more".into(), json!(1));
    sessions.save(&live).await.unwrap();
    let loaded = sessions.load(&live.id).await.unwrap().expect("live");
    assert_eq!(loaded.data["more"], 1);
    sessions.delete(&live.id).await.unwrap();
    assert!(session_rows(&app).await.is_empty());
}

fn cache_control(resp: &reqwest::Response) -> &str {
    resp.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn answers_carrying_a_secret_are_not_stored_by_caches(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    // As found: POST /api/v1/tokens answered the secret without no-store.
    let resp = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(crate::helpers::TOKEN)
        .json(&json!({"name": "cached", "roles": ["viewer@dev"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(cache_control(&resp), "no-store");
    // A sign-in hands out the session id in its cookie.
    let resp = app.sign_in_as("viewer").await;
    assert!(session_cookie(&resp).is_some());
    assert_eq!(cache_control(&resp), "no-store");
}
