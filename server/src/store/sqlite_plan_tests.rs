//! Query plans SQLite must keep for reads that run on every trigger: left
//! to choose, its planner can pick an index that skips a sort and walks a
//! workflow's whole history instead (admission did, until migration 0029),
//! which no functional test notices and every trigger pays for.

use super::portable::runs::{LANE_QUEUED, LANE_RUNNING};
use super::{MIGRATOR, open_sqlite_pool};
use sqlx::SqliteConnection;

/// SQLite's `EXPLAIN QUERY PLAN` for `sql`, its `detail` lines joined.
async fn plan(conn: &mut SqliteConnection, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .bind("w")
        .bind("prod")
        .fetch_all(conn)
        .await
        .unwrap();
    rows.into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect::<Vec<_>>()
        .join("; ")
}

async fn assert_lane_reads_are_one_range(conn: &mut SqliteConnection, when: &str) {
    for sql in [LANE_RUNNING, LANE_QUEUED] {
        let plan = plan(conn, sql).await;
        assert_eq!(
            plan,
            "SEARCH runs USING COVERING INDEX runs_lane (workflow_id=? AND environment=? AND status=?)",
            "{when}: {sql}"
        );
    }
}

#[tokio::test]
async fn admission_reads_one_range_of_the_lane_index_whatever_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let pool = open_sqlite_pool(&url, 1).await.unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    // As the store runs: no statistics gathered.
    assert_lane_reads_are_one_range(&mut conn, "fresh schema").await;

    // A history the planner knows about: 3,000 finished runs of one
    // workflow in one environment and ANALYZE run over them, as an
    // operator's `PRAGMA optimize` would.
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO runs (id, workflow_id, workflow_name, version, environment, status,
                           trigger_kind, triggered_by, triggered_by_id, inputs, created_at)
         SELECT printf('%012d', i), 'w', 'w', 1, 'prod', 'succeeded', 'manual', 'x', 'x', '{}',
                '2026-12-07T00:00:00Z'
         FROM n",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    assert_lane_reads_are_one_range(&mut conn, "3,000 runs, analyzed").await;
}
