//! Reading runs, their steps, attempts and logs, for both databases;
//! compiled once per adapter like the rest of `portable/`.

use super::run_rows::{
    RUN_COLUMNS, SUMMARY_COLUMNS, corrupt, push_environment_filter, run_head, run_summary,
    step_status, u32_of,
};
use super::{ATTENTION_INDEX, Adapter, Db};
use crate::store::StoreResult;
use crate::store::run_views::RunViewStore;
use crate::store::versions::VersionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::overview::ATTENTION_COUNTED;
use gantry_core::overview::health::RunCount;
use gantry_core::run::attention::{Attention, RerunMode};
use gantry_core::run::{
    AttemptStatus, AttemptView, LogLine, LogPage, LogQuery, LogStream, RunDetail, RunFailure,
    RunFilter, RunPage, RunStatus, RunSummary, StepRun,
};
use gantry_core::spec::StepKind;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::BTreeMap;

impl Adapter {
    /// Where each failed or timed-out run of `runs` failed: its first
    /// failed (or timed-out) step by position, with that step's last error.
    async fn failures_of(&self, runs: &[RunSummary]) -> StoreResult<BTreeMap<String, RunFailure>> {
        let failed: Vec<&str> = runs
            .iter()
            .filter(|r| matches!(r.status, RunStatus::Failed | RunStatus::TimedOut))
            .map(|r| r.id.as_str())
            .collect();
        let mut out = BTreeMap::new();
        if failed.is_empty() {
            return Ok(out);
        }
        let mut q = QueryBuilder::<Db>::new(
            "SELECT s.run_id, s.step_id,
                    (SELECT a.error FROM step_attempts a
                     WHERE a.run_id = s.run_id AND a.step_id = s.step_id
                     ORDER BY a.attempt DESC LIMIT 1) AS error
             FROM run_steps s
             WHERE s.status IN ('failed', 'timed_out') AND s.run_id IN (",
        );
        let mut ids = q.separated(", ");
        for id in &failed {
            ids.push_bind(*id);
        }
        q.push(") ORDER BY s.run_id, s.position");
        for row in q.build().fetch_all(&self.pool).await? {
            let run: String = row.try_get("run_id")?;
            out.entry(run).or_insert(RunFailure {
                step: row.try_get("step_id")?,
                error: row.try_get("error")?,
            });
        }
        Ok(out)
    }

    async fn summaries(&self, sql: &str, bind: Option<&str>) -> StoreResult<Vec<RunSummary>> {
        let mut q = sqlx::query(sql);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(run_summary).collect()
    }
}

#[async_trait]
impl RunViewStore for Adapter {
    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<RunPage> {
        let limit = filter.effective_limit();
        let mut q =
            QueryBuilder::<Db>::new(format!("SELECT {SUMMARY_COLUMNS} FROM runs WHERE 1 = 1"));
        if let Some(w) = &filter.workflow {
            q.push(" AND workflow_name = ").push_bind(w.clone());
        }
        if let Some(e) = &filter.environment {
            q.push(" AND environment = ").push_bind(e.clone());
        }
        if let Some(visible) = &filter.visible_environments {
            push_environment_filter(&mut q, visible);
        }
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if filter.attention {
            q.push(" AND status IN ('failed', 'timed_out') AND attention_closed_at IS NULL");
        }
        if let Some(b) = &filter.before {
            q.push(" AND id < ").push_bind(b.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut runs = rows
            .iter()
            .map(run_summary)
            .collect::<StoreResult<Vec<_>>>()?;
        let more = runs.len() > limit as usize;
        runs.truncate(limit as usize);
        let next_before = if more {
            runs.last().map(|r| r.id.clone())
        } else {
            None
        };
        let failures = self.failures_of(&runs).await?;
        Ok(RunPage {
            runs,
            next_before,
            failures,
        })
    }

    async fn run_summary(&self, id: &str) -> StoreResult<Option<RunSummary>> {
        Ok(self
            .summaries(
                &format!("SELECT {SUMMARY_COLUMNS} FROM runs WHERE id = $1"),
                Some(id),
            )
            .await?
            .into_iter()
            .next())
    }

    async fn run_detail(&self, id: &str) -> StoreResult<Option<RunDetail>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS}, inputs, rerun_of, rerun_mode, attention_closed_at,
                    attention_closed_by, attention_note, attention_rerun, logs_purged_at
             FROM runs WHERE id = $1"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let head = run_head(&row)?;
        let Json(inputs): Json<BTreeMap<String, Value>> = row.try_get("inputs")?;
        let rerun_mode: Option<String> = row.try_get("rerun_mode")?;
        let closed_at: Option<DateTime<Utc>> = row.try_get("attention_closed_at")?;
        let attention = matches!(head.summary.status, RunStatus::Failed | RunStatus::TimedOut)
            .then(|| -> StoreResult<Attention> {
                Ok(Attention {
                    open: closed_at.is_none(),
                    closed_by: row.try_get("attention_closed_by")?,
                    closed_at,
                    note: row.try_get("attention_note")?,
                    rerun: row.try_get("attention_rerun")?,
                })
            })
            .transpose()?;
        let spec = self
            .version_spec(&head.workflow_id, head.summary.version)
            .await?;
        let step_rows = sqlx::query(
            "SELECT step_id, status, outputs, started_at, finished_at, reused_from FROM run_steps
             WHERE run_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let attempt_rows = sqlx::query(
            "SELECT step_id, attempt, status, worker, started_at, finished_at, exit_code, error
             FROM step_attempts WHERE run_id = $1 ORDER BY step_id, attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut attempts: BTreeMap<String, Vec<AttemptView>> = BTreeMap::new();
        for r in &attempt_rows {
            let status: String = r.try_get("status")?;
            attempts
                .entry(r.try_get("step_id")?)
                .or_default()
                .push(AttemptView {
                    number: u32_of(r.try_get("attempt")?, "attempt")?,
                    status: AttemptStatus::parse(&status)
                        .ok_or_else(|| corrupt(format!("attempt status {status:?}")))?,
                    worker: r.try_get("worker")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    exit_code: r.try_get("exit_code")?,
                    error: r.try_get("error")?,
                });
        }
        let mut steps = Vec::with_capacity(step_rows.len());
        for r in &step_rows {
            let step_id: String = r.try_get("step_id")?;
            let status: String = r.try_get("status")?;
            let Json(outputs): Json<BTreeMap<String, String>> = r.try_get("outputs")?;
            let spec_step = spec.step(&step_id);
            steps.push(StepRun {
                name: spec_step.and_then(|s| s.name.clone()),
                kind: match spec_step.map(|s| s.kind()) {
                    Some(StepKind::Http(_)) => "http".into(),
                    _ => "shell".into(),
                },
                needs: spec_step.map(|s| s.needs.clone()).unwrap_or_default(),
                status: step_status(&status)?,
                attempts: attempts.remove(&step_id).unwrap_or_default(),
                outputs,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                reused_from: r.try_get("reused_from")?,
                id: step_id,
            });
        }
        let trace_id = head
            .traceparent
            .as_deref()
            .and_then(crate::runtime::telemetry::context::trace_id_of)
            .map(|t| t.to_string());
        Ok(Some(RunDetail {
            trace_id,
            trace_url: None,
            rerun_of: row.try_get("rerun_of")?,
            rerun_mode: rerun_mode.as_deref().and_then(RerunMode::parse),
            attention,
            logs_purged_at: row.try_get("logs_purged_at")?,
            inputs,
            error: head.error.clone(),
            deadline: head.deadline,
            steps,
            summary: head.summary,
        }))
    }

    async fn run_logs(&self, id: &str, query: &LogQuery) -> StoreResult<Option<LogPage>> {
        let Some(run) = self.run_summary(id).await? else {
            return Ok(None);
        };
        let limit = query.effective_limit();
        // The cursor packs (attempt, line): lines sort by attempt, then line.
        let after = query.after.unwrap_or(-1);
        let (after_attempt, after_line) = if after < 0 {
            (-1, -1)
        } else {
            (after >> 32, after & 0xFFFF_FFFF)
        };
        let mut q = QueryBuilder::<Db>::new(
            "SELECT step_id, attempt, line, stream, at, text FROM step_logs WHERE run_id = ",
        );
        q.push_bind(id.to_owned());
        if let Some(step) = &query.step {
            q.push(" AND step_id = ").push_bind(step.clone());
            q.push(" AND (attempt > ")
                .push_bind(after_attempt)
                .push(" OR (attempt = ")
                .push_bind(after_attempt)
                .push(" AND line > ")
                .push_bind(after_line)
                .push("))");
            q.push(" ORDER BY attempt, line");
        } else {
            q.push(" ORDER BY step_id, attempt, line");
        }
        q.push(" LIMIT ").push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for r in &rows {
            let attempt: i32 = r.try_get("attempt")?;
            let line: i32 = r.try_get("line")?;
            let stream: String = r.try_get("stream")?;
            lines.push(LogLine {
                seq: (i64::from(attempt) << 32) | i64::from(line),
                step: r.try_get("step_id")?,
                attempt: u32_of(attempt, "attempt")?,
                stream: LogStream::parse(&stream)
                    .ok_or_else(|| corrupt(format!("stream {stream:?}")))?,
                at: r.try_get("at")?,
                text: r.try_get("text")?,
            });
        }
        let last_seq = lines.last().map(|l| l.seq).or(query.after);
        Ok(Some(LogPage {
            lines,
            last_seq,
            complete: run.status.is_terminal(),
        }))
    }

    async fn needs_attention_counts(&self) -> StoreResult<Vec<(String, u32)>> {
        // Per environment, and no further than one past what the Overview
        // shows (`ATTENTION_COUNTED`): a bounded read of the partial index
        // however many failures pile up.
        let environments: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT environment FROM workflow_environments")
                .fetch_all(&self.pool)
                .await?;
        let mut counts = Vec::with_capacity(environments.len());
        for environment in environments {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM runs{ATTENTION_INDEX}
                 WHERE environment = $1 AND status IN ('failed', 'timed_out')
                   AND attention_closed_at IS NULL
                 LIMIT $2) AS counted"
            ))
            .bind(&environment)
            .bind(i64::from(ATTENTION_COUNTED) + 1)
            .fetch_one(&self.pool)
            .await?;
            if n > 0 {
                counts.push((environment, u32::try_from(n).unwrap_or(u32::MAX)));
            }
        }
        Ok(counts)
    }

    async fn run_counts_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<RunCount>> {
        let rows = sqlx::query(
            "SELECT environment, status, COUNT(*) AS n FROM runs WHERE created_at >= $1
             GROUP BY environment, status ORDER BY environment, status",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let n: i64 = r.try_get("n")?;
                Ok(RunCount {
                    environment: r.try_get("environment")?,
                    status: RunStatus::parse(&status)
                        .ok_or_else(|| corrupt(format!("run status {status:?}")))?,
                    count: u32::try_from(n).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn last_finished_runs(&self) -> StoreResult<Vec<RunSummary>> {
        // Run ids are UUIDv7, so the greatest is the newest: per workflow
        // and environment, walked down `runs_workflow_env_id` from the
        // newest to the first finished one (not every run grouped).
        self.summaries(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM runs WHERE id IN (
                     SELECT (SELECT r.id FROM runs r
                             WHERE r.workflow_id = e.workflow_id AND r.environment = e.environment
                               AND r.finished_at IS NOT NULL
                             ORDER BY r.id DESC LIMIT 1)
                     FROM workflow_environments e)
                 ORDER BY workflow_name, environment"
            ),
            None,
        )
        .await
    }
}
