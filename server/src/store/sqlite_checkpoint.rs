//! WAL checkpoints off the write path. SQLite copies its write-ahead log
//! back into the database file (a checkpoint) by itself when a commit
//! leaves the log at 1,000 pages or more, and does it inside that commit:
//! the writer waits for the copy and its fsync, and here so does every
//! writer queued behind its turn (`write_turn.rs`). With a run writing some
//! 30 pages, one trigger in about 30 paid it: trigger → first step start
//! took 6–8 ms instead of 2 (the p98 and up of `make bench`'s samples).
//!
//! So a task with a connection of its own checkpoints every [`EVERY`],
//! without waiting for readers or writers (`PASSIVE`: what it can't copy
//! now it copies next time). The log starts over from its beginning when
//! a writer finds all of it copied; writes that come back to back never
//! do (one always lands during the copy), so commits still checkpoint by
//! themselves once the log reaches [`FALLBACK_PAGES`]: under sustained
//! writes, and should the task fail (a full disk). By then the task has
//! copied most of it. The log file is cut back to [`WAL_LIMIT_BYTES`]
//! when it starts over (it only grows otherwise: a burst of writes left
//! it at 29 MiB in the soak, against 4 MiB before). The task ends with
//! the store.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::time::Duration;
use tokio_util::sync::{CancellationToken, DropGuard};

/// The log's size, in pages, at which a commit checkpoints by itself (about
/// 40 MB at 4 KiB pages; SQLite's default is 1,000). Measured against
/// 1,000 and 4,000 with the task: sustained writes (a sequential workflow,
/// shell steps on 4 slots) went fastest here.
pub const FALLBACK_PAGES: u32 = 10_000;

/// The log file's size it is cut back to when it starts over
/// (`journal_size_limit`).
pub const WAL_LIMIT_BYTES: u64 = 4 * 1024 * 1024;

/// How often the task checkpoints: within the pause between an idle
/// system's triggers, so the next one finds the log copied and starts it
/// over.
const EVERY: Duration = Duration::from_millis(250);

/// The checkpointing task; dropping this stops it.
pub struct Checkpointer {
    _stop: DropGuard,
}

impl Checkpointer {
    /// Checkpoints the database `options` opens, on a connection of its
    /// own (opened at the first checkpoint, again after an error).
    pub fn spawn(options: SqliteConnectOptions) -> Self {
        let stop = CancellationToken::new();
        tokio::spawn(run(options, stop.clone()));
        Self {
            _stop: stop.drop_guard(),
        }
    }
}

async fn run(options: SqliteConnectOptions, stop: CancellationToken) {
    let mut conn = None;
    let mut failing = false;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        match checkpoint(&mut conn, &options).await {
            Ok(()) if failing => {
                tracing::info!("WAL checkpoints work again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                conn = None;
                // Once per failing stretch: a full disk fails every tick.
                if !failing {
                    tracing::warn!(
                        error = %e,
                        "WAL checkpoint failed; commits checkpoint by themselves meanwhile"
                    );
                    failing = true;
                }
            }
        }
    }
    if let Some(conn) = conn {
        let _ = conn.close().await;
    }
}

async fn checkpoint(
    conn: &mut Option<SqliteConnection>,
    options: &SqliteConnectOptions,
) -> Result<(), sqlx::Error> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(options.connect().await?),
    };
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page size plus a frame header: one page in the log.
    const FRAME: u64 = 4096 + 24;

    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Reads only file sizes: asking SQLite (`PRAGMA wal_checkpoint`)
    /// would checkpoint.
    #[tokio::test]
    async fn commits_leave_the_log_to_the_task_which_copies_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let wal = dir.path().join("c.db-wal");
        let url = format!("sqlite://{}", db.display());
        // Open throughout: closing the last connection checkpoints.
        let pool = crate::store::open_sqlite_pool(&url, 1).await.unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        // Some 2,000 pages of commits: past SQLite's own 1,000, under ours.
        for _ in 0..500 {
            sqlx::query("INSERT INTO t VALUES (zeroblob(16000))")
                .execute(&pool)
                .await
                .unwrap();
        }
        // A checkpoint at 1,000 pages would have restarted the log from
        // its beginning, and copied pages into the database file.
        assert!(size(&wal) >= 2000 * FRAME, "log {} bytes", size(&wal));
        assert!(size(&db) < 1000 * 4096, "database {} bytes", size(&db));

        let task = Checkpointer::spawn(crate::store::sqlite::connect_options(&url).unwrap());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while size(&db) < 2000 * 4096 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not copied back: database {} bytes",
                size(&db)
            );
            tokio::time::sleep(EVERY / 5).await;
        }
        drop(task);
        // All of it copied and no one reading: the next commit starts the
        // log over, and cuts the file back.
        sqlx::query("INSERT INTO t VALUES (x'00')")
            .execute(&pool)
            .await
            .unwrap();
        assert!(size(&wal) <= WAL_LIMIT_BYTES, "log {} bytes", size(&wal));
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 501);
    }
}
