//! Writers taking turns. SQLite lets one writer into a database at a time;
//! a connection that finds it locked waits in SQLite's busy handler, which
//! sleeps 1, 2, 5, 10 … 100 ms between tries instead of being woken when
//! the lock frees (with 4 worker slots, inserts of a step's log lines took
//! 8–54 ms where they take 0.05 ms). So on SQLite every write of this
//! process (a transaction, or one statement on its own) first takes the
//! store's turn, a FIFO async mutex, and holds it until it commits: writers
//! queue in order and the next is woken the moment the lock is free. On
//! PostgreSQL writers wait for row locks, not for the database, and take no
//! turn. (One connection for every write was tried instead: sqlx pings a
//! connection on each release and acquire, 0.2 ms per transaction handed
//! from writer to writer.)

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a writer waits for its turn: the busy timeout SQLite's own
/// lock waits are bounded by.
const TURN_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a store's writes go: its pool, and on SQLite the turn.
pub struct Writer<DB: Database> {
    pool: Pool<DB>,
    turn: Option<Arc<Mutex<()>>>,
}

// By hand: a derive would ask for `DB: Clone`.
impl<DB: Database> Clone for Writer<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            turn: self.turn.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for Writer<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("takes_turns", &self.turn.is_some())
            .finish()
    }
}

impl<DB: Database> Writer<DB> {
    /// Writers on `pool` take turns (SQLite).
    pub fn taking_turns(pool: Pool<DB>) -> Self {
        Self {
            pool,
            turn: Some(Arc::new(Mutex::new(()))),
        }
    }

    /// Writers on `pool` go at once (PostgreSQL).
    pub fn concurrent(pool: Pool<DB>) -> Self {
        Self { pool, turn: None }
    }

    /// Waits for the turn as long as SQLite would wait for the lock (the
    /// busy timeout), and fails as it would after that.
    async fn take_turn(&self) -> Result<Option<OwnedMutexGuard<()>>, sqlx::Error> {
        let Some(turn) = &self.turn else {
            return Ok(None);
        };
        tokio::time::timeout(TURN_TIMEOUT, turn.clone().lock_owned())
            .await
            .map(Some)
            .map_err(|_| sqlx::Error::PoolTimedOut)
    }

    /// A transaction begun with `begin` (`BEGIN IMMEDIATE` on SQLite), in
    /// this writer's turn.
    pub async fn begin_with(&self, begin: &'static str) -> Result<WriteTx<DB>, sqlx::Error> {
        let turn = self.take_turn().await?;
        let tx = self.pool.begin_with(begin).await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    pub async fn begin(&self) -> Result<WriteTx<DB>, sqlx::Error> {
        let turn = self.take_turn().await?;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// A connection for one statement that writes on its own, in this
    /// writer's turn.
    pub async fn connection(&self) -> Result<WriteConnection<DB>, sqlx::Error> {
        let turn = self.take_turn().await?;
        let conn = self.pool.acquire().await?;
        Ok(WriteConnection { conn, _turn: turn })
    }
}

/// A write transaction holding its writer's turn until it commits or
/// rolls back (or is dropped, which rolls it back). Dereferences to the
/// connection, like `sqlx::Transaction`.
pub struct WriteTx<DB: Database> {
    tx: Transaction<'static, DB>,
    // Dropped after `tx`: the turn passes on once the transaction ended.
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A pooled connection holding its writer's turn while it lives.
pub struct WriteConnection<DB: Database> {
    conn: PoolConnection<DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> Deref for WriteConnection<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl<DB: Database> DerefMut for WriteConnection<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;

    #[tokio::test]
    async fn writers_take_turns_in_order_and_each_sees_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE n (v INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO n VALUES (0)")
            .execute(&pool)
            .await
            .unwrap();
        let writer = Writer::taking_turns(pool.clone());
        // Read-modify-write in each transaction: a lost update would show.
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.unwrap();
                    let v: i64 = sqlx::query_scalar("SELECT v FROM n")
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE n SET v = $1")
                        .bind(v + 1)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    let mut conn = writer.connection().await.unwrap();
                    sqlx::query("UPDATE n SET v = v + 1")
                        .execute(&mut *conn)
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // The turn is held exactly while a write is open.
        let turn = writer.turn.clone().unwrap();
        let tx = writer.begin_with("BEGIN IMMEDIATE").await.unwrap();
        assert!(turn.try_lock().is_err(), "held by the open transaction");
        tx.commit().await.unwrap();
        assert!(turn.try_lock().is_ok(), "passed on at commit");
        let conn = writer.connection().await.unwrap();
        assert!(turn.try_lock().is_err(), "held by the connection");
        drop(conn);
        assert!(turn.try_lock().is_ok());
        assert!(Writer::concurrent(pool.clone()).turn.is_none());
        let v: i64 = sqlx::query_scalar("SELECT v FROM n")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(v, 80);
    }
}
