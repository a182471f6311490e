//! The session store's SQL for both databases, compiled once per adapter
//! like the rest of `portable/`. Rows are keyed by the SHA-256 of the session id: the
//! id itself lives only in the browser's cookie, so someone who reads the
//! database (a backup, a step that reached the file) finds no session they
//! could use.

use super::Db;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error, ExpiredDeletion, SessionStore};

/// Sessions in the `sessions` table of this adapter's database.
#[derive(Debug, Clone)]
pub struct SessionTable {
    pool: sqlx::Pool<Db>,
    /// Saves and deletes take the store's turn (`store/write_turn.rs`).
    writes: crate::store::write_turn::Writer<Db>,
}

impl SessionTable {
    pub fn new(pool: sqlx::Pool<Db>, writes: crate::store::write_turn::Writer<Db>) -> Self {
        Self { pool, writes }
    }
}

/// What a row is keyed by: the hex SHA-256 of the id as the cookie carries
/// it. Session ids are 128 random bits, so a plain hash can't be reversed
/// by guessing.
fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: sqlx::Error) -> Error {
    Error::Backend(e.to_string())
}

/// Only the session's data is stored (not the record, which holds the id).
fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[async_trait]
impl SessionStore for SessionTable {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id that collides with a live one is drawn again (128
        // random bits: in practice never).
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id_hash, data, expiry_date) VALUES ($1, $2, $3)
                 ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(id_hash(&record.id))
            .bind(encode(record)?)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&mut *self.writes.connection().await.map_err(backend)?)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expiry_date) VALUES ($1, $2, $3)
             ON CONFLICT (id_hash) DO UPDATE SET
                data = excluded.data, expiry_date = excluded.expiry_date",
        )
        .bind(id_hash(&record.id))
        .bind(encode(record)?)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&mut *self.writes.connection().await.map_err(backend)?)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expiry_date FROM sessions WHERE id_hash = $1 AND expiry_date > $2",
        )
        .bind(id_hash(id))
        .bind(now_secs())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expiry)) = row else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(expiry)
                .map_err(|e| Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash(id))
            .execute(&mut *self.writes.connection().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SessionTable {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expiry_date <= $1")
            .bind(now_secs())
            .execute(&mut *self.writes.connection().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
