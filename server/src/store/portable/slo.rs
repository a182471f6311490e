//! SLOs' SQL for both databases: exact tallies of a workflow's runs in an
//! environment over the SLO window and every burn window (one query, a sum
//! per window and part), per hour for the chart, and the runs that spent
//! budget. All of them range over the `runs_finished` index (workflow,
//! environment, finished_at).
//!
//! What counts is `gantry_core::slo::counts` (`verdict`, `RunTally`): a run
//! counts in the window its end falls in; succeeded, failed and timed out
//! runs count, cancelled and unfinished ones do not; it is in time when it
//! succeeded, has a start, and ran at most `within`. [`COUNTED`] and
//! [`in_time`] say exactly that in SQL; the duration is measured by the
//! adapter's `RAN_MICROS` (to the microsecond on PostgreSQL, to the
//! millisecond on SQLite, whose date functions read no finer).

use super::run_rows::{corrupt, u32_of};
use super::{Adapter, FINISHED_HOUR, RAN_MICROS};
use crate::store::StoreResult;
use crate::store::slo::{ActiveSlo, SloQuery, SloStore};
use crate::store::versions::VersionStore;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use gantry_core::run::RunStatus;
use gantry_core::slo::view::{BadRun, HourTally, SloTallies};
use gantry_core::slo::{BurnWindow, FinishedRun, RunTally, Verdict, verdict};
use sqlx::Row;
use std::time::Duration;

/// The runs an objective counts at all ([`gantry_core::slo::verdict`]).
const COUNTED: &str = "status IN ('succeeded', 'failed', 'timed_out')";

/// A counted run that is good for the duration objective whose limit in
/// microseconds is bound at `$param` (-1 without one: nothing is).
fn in_time(param: usize) -> String {
    format!("status = 'succeeded' AND started_at IS NOT NULL AND {RAN_MICROS} <= ${param}")
}

/// The duration objective's limit in microseconds, or -1 without one.
fn within_micros(within: Option<Duration>) -> i64 {
    within.map_or(-1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn since(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

#[async_trait]
impl SloStore for Adapter {
    async fn active_slos(&self) -> StoreResult<Vec<ActiveSlo>> {
        let rows: Vec<(String, String, String, i32)> = sqlx::query_as(
            "SELECT w.id, w.name, e.environment, e.version
             FROM workflow_environments e JOIN workflows w ON w.id = e.workflow_id
             ORDER BY w.name, e.environment",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for (workflow_id, workflow, environment, version) in rows {
            let version = u32_of(version, "version")?;
            // Cached: versions are immutable, so this reads each spec once.
            let spec = self.version_spec(&workflow_id, version).await?;
            if let Some(slo) = spec.slo.get(&environment) {
                found.push(ActiveSlo {
                    workflow,
                    environment,
                    version,
                    slo: slo.clone(),
                });
            }
        }
        Ok(found)
    }

    async fn slo_tallies(&self, query: SloQuery<'_>) -> StoreResult<SloTallies> {
        // $1 workflow, $2 environment, $3 now, $4 the limit in µs, $5 the
        // earliest start; then each window's start: the SLO window's at $6,
        // the burn windows' from $7 in `BurnWindow::ALL`'s order.
        let starts: Vec<DateTime<Utc>> = std::iter::once(query.window())
            .chain(BurnWindow::ALL.iter().map(|w| w.duration()))
            .map(|d| since(query.now, d))
            .collect();
        let earliest = starts.iter().min().copied().unwrap_or(query.now);
        let good_in_time = in_time(4);
        let sums: Vec<String> = (0..starts.len())
            .map(|i| {
                let p = i + 6;
                format!(
                    "COALESCE(SUM(CASE WHEN finished_at > ${p} THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN finished_at > ${p} AND status = 'succeeded' THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN finished_at > ${p} AND {good_in_time} THEN 1 ELSE 0 END), 0)"
                )
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM runs
             WHERE workflow_name = $1 AND environment = $2 AND {COUNTED}
               AND finished_at <= $3 AND finished_at > $5",
            sums.join(",\n")
        );
        let mut q = sqlx::query(&sql)
            .bind(query.workflow)
            .bind(query.environment)
            .bind(query.now)
            .bind(within_micros(query.within()))
            .bind(earliest);
        for start in &starts {
            q = q.bind(*start);
        }
        let row = q.fetch_one(&self.pool).await?;
        let tally = |i: usize| -> StoreResult<RunTally> {
            Ok(RunTally {
                counted: count(row.try_get(3 * i)?),
                succeeded: count(row.try_get(3 * i + 1)?),
                in_time: count(row.try_get(3 * i + 2)?),
            })
        };
        let mut tallies = SloTallies {
            window: tally(0)?,
            ..SloTallies::default()
        };
        for (i, slot) in tallies.burn.iter_mut().enumerate() {
            *slot = tally(i + 1)?;
        }
        Ok(tallies)
    }

    async fn slo_hours(
        &self,
        query: SloQuery<'_>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<HourTally>> {
        let sql = format!(
            "SELECT {FINISHED_HOUR} AS finished_hour, COUNT(*) AS counted,
                    COALESCE(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded,
                    COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS in_time
             FROM runs
             WHERE workflow_name = $1 AND environment = $2 AND {COUNTED}
               AND finished_at >= $3 AND finished_at <= $4
             GROUP BY finished_hour ORDER BY finished_hour",
            in_time(5)
        );
        let rows = sqlx::query(&sql)
            .bind(query.workflow)
            .bind(query.environment)
            .bind(since)
            .bind(query.now)
            .bind(within_micros(query.within()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let text: String = row.try_get("finished_hour")?;
                let hour =
                    NaiveDateTime::parse_from_str(&format!("{text}:00:00"), "%Y-%m-%dT%H:%M:%S")
                        .map_err(|e| corrupt(format!("an hour {text:?}: {e}")))?
                        .and_utc();
                Ok(HourTally {
                    hour,
                    tally: RunTally {
                        counted: count(row.try_get("counted")?),
                        succeeded: count(row.try_get("succeeded")?),
                        in_time: count(row.try_get("in_time")?),
                    },
                })
            })
            .collect()
    }

    async fn slo_bad_runs(&self, query: SloQuery<'_>, limit: u32) -> StoreResult<Vec<BadRun>> {
        // Bad for some objective: failed or timed out (bad for both), or a
        // success that was not in time where there is a duration objective.
        let sql = format!(
            "SELECT id, status, started_at, finished_at FROM runs
             WHERE workflow_name = $1 AND environment = $2
               AND finished_at > $3 AND finished_at <= $4
               AND (status IN ('failed', 'timed_out')
                    OR ($5 >= 0 AND status = 'succeeded'
                        AND (started_at IS NULL OR {RAN_MICROS} > $5)))
             ORDER BY finished_at DESC, id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(query.workflow)
            .bind(query.environment)
            .bind(since(query.now, query.window()))
            .bind(query.now)
            .bind(within_micros(query.within()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let status = RunStatus::parse(&status)
                    .ok_or_else(|| corrupt(format!("a run status {status:?}")))?;
                let started_at: Option<DateTime<Utc>> = row.try_get("started_at")?;
                let finished_at: DateTime<Utc> = row.try_get("finished_at")?;
                let ran_for = started_at.and_then(|s| (finished_at - s).to_std().ok());
                let run = FinishedRun { status, ran_for };
                let spent = query
                    .slo
                    .objectives()
                    .into_iter()
                    .filter(|(objective, _)| {
                        verdict(query.slo, *objective, run) == Some(Verdict::Bad)
                    })
                    .map(|(objective, _)| objective)
                    .collect();
                Ok(BadRun {
                    id: row.try_get("id")?,
                    status,
                    started_at,
                    finished_at,
                    duration_ms: ran_for.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    spent,
                })
            })
            .collect()
    }
}
