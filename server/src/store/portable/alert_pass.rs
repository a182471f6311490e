//! Alert evaluation's inbox and commit, and the notification outbox, for
//! both databases. A pass reads (inbox, history, instances) without locks,
//! decides in `alerting::evaluator`, and commits here in one transaction
//! that holds only if nothing it read moved: the inbox rows it judged are
//! still there and every instance is at the version it read. Notifications
//! are written in that same transaction, so a transition and its notices
//! exist together or not at all.

use super::alerts::{INSTANCE_COLUMNS, RULE_COLUMNS, instance_from_row, rule_from_row};
use super::{Db, FOR_UPDATE, SKIP_LOCKED, begin_write};
use crate::store::alerts::{
    AlertPass, ClaimedNotification, DeliveryRecord, HistoryRun, InboxRun, NewNotification,
    PassCommit, SpecRuleChanges, StoredRule, Withdrawal,
};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use gantry_core::alert::notification::Withdrawn;
use sqlx::Row;

type Pool = sqlx::Pool<Db>;
type Writer = crate::store::write_turn::Writer<Db>;
type Tx = crate::store::write_turn::WriteTx<Db>;

/// Statuses a rule judges; a cancelled run says nothing about health.
const JUDGED: &str = "('succeeded', 'failed', 'timed_out')";

pub(super) async fn inbox(pool: &Pool, limit: u32) -> StoreResult<Vec<InboxRun>> {
    let rows = sqlx::query(
        "SELECT i.run_id, r.workflow_name, r.environment, r.status, r.finished_at
         FROM alert_run_inbox i LEFT JOIN runs r ON r.id = i.run_id
         ORDER BY r.finished_at, i.run_id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let status: Option<String> = row.try_get("status")?;
            let finished_at: Option<DateTime<Utc>> = row.try_get("finished_at")?;
            Ok(InboxRun {
                run_id: row.try_get("run_id")?,
                workflow: row
                    .try_get::<Option<String>, _>("workflow_name")?
                    .unwrap_or_default(),
                environment: row
                    .try_get::<Option<String>, _>("environment")?
                    .unwrap_or_default(),
                succeeded: match status.as_deref() {
                    Some("succeeded") => Some(true),
                    Some("failed" | "timed_out") => Some(false),
                    _ => None,
                },
                finished_at: finished_at.unwrap_or(DateTime::<Utc>::MIN_UTC),
            })
        })
        .collect()
}

pub(super) async fn history(
    pool: &Pool,
    workflow: &str,
    environment: &str,
    until: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> StoreResult<Vec<HistoryRun>> {
    let since_clause = if since.is_some() {
        " AND finished_at > $5"
    } else {
        ""
    };
    let sql = format!(
        "SELECT finished_at, status FROM runs
         WHERE workflow_name = $1 AND environment = $2 AND status IN {JUDGED}
           AND finished_at <= $3{since_clause}
         ORDER BY finished_at DESC, id DESC LIMIT $4"
    );
    let mut q = sqlx::query(&sql)
        .bind(workflow)
        .bind(environment)
        .bind(until)
        .bind(i64::from(limit));
    if let Some(since) = since {
        q = q.bind(since);
    }
    let mut runs = q
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(HistoryRun {
                finished_at: row.try_get("finished_at")?,
                succeeded: status == "succeeded",
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    runs.reverse();
    Ok(runs)
}

pub(super) async fn pairs_since(
    pool: &Pool,
    since: DateTime<Utc>,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT DISTINCT workflow_name, environment FROM runs
         WHERE finished_at > $1 AND status IN {JUDGED}
         ORDER BY workflow_name, environment"
    ))
    .bind(since)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn commit(pool: &Writer, pass: AlertPass) -> StoreResult<PassCommit> {
    let mut tx = begin_write(pool).await?;
    // Passes in several processes take turns here.
    sqlx::query(&format!(
        "SELECT id FROM alert_evaluator WHERE id = 1{FOR_UPDATE}"
    ))
    .fetch_optional(&mut *tx)
    .await?;
    for run_id in &pass.judged_runs {
        let gone = sqlx::query("DELETE FROM alert_run_inbox WHERE run_id = $1")
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            // Another pass judged it: dropping `tx` rolls back.
            return Ok(PassCommit::Stale);
        }
    }
    if let Some(cursor) = pass.audit_cursor {
        let read = cursor
            .read
            .map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX));
        let moved = sqlx::query(
            "UPDATE alert_evaluator SET audit_seq = $1 WHERE id = 1 AND COALESCE(audit_seq, -1) = $2",
        )
        .bind(i64::try_from(cursor.to).unwrap_or(i64::MAX))
        .bind(read)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            // Another pass judged those records.
            return Ok(PassCommit::Stale);
        }
    }
    for (instance, read_version) in &pass.instances {
        let state = serde_json::to_string(&instance.state)
            .map_err(|e| StoreError::Corrupt(format!("alert instance: {e}")))?;
        let moved = match read_version {
            Some(version) => sqlx::query(
                "UPDATE alert_instances SET phase = $2, state = $3, summary = $4,
                            last_run_id = $5, version = version + 1, updated_at = $6
                     WHERE fingerprint = $1 AND version = $7",
            )
            .bind(&instance.fingerprint)
            .bind(instance.state.phase.as_str())
            .bind(&state)
            .bind(&instance.summary)
            .bind(&instance.last_run_id)
            .bind(pass.at)
            .bind(i32::try_from(*version).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => {
                let exists: Option<String> = sqlx::query_scalar(
                    "SELECT fingerprint FROM alert_instances WHERE fingerprint = $1",
                )
                .bind(&instance.fingerprint)
                .fetch_optional(&mut *tx)
                .await?;
                let rule: Option<String> =
                    sqlx::query_scalar("SELECT id FROM alert_rules WHERE id = $1")
                        .bind(&instance.rule_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_some() || rule.is_none() {
                    0
                } else {
                    sqlx::query(
                        "INSERT INTO alert_instances (fingerprint, rule_id, workflow, environment,
                                phase, state, summary, last_run_id, version, updated_at, subject)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
                    )
                    .bind(&instance.fingerprint)
                    .bind(&instance.rule_id)
                    .bind(&instance.workflow)
                    .bind(&instance.environment)
                    .bind(instance.state.phase.as_str())
                    .bind(&state)
                    .bind(&instance.summary)
                    .bind(&instance.last_run_id)
                    .bind(pass.at)
                    .bind(&instance.subject)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                }
            }
        };
        if moved == 0 {
            return Ok(PassCommit::Stale);
        }
    }
    for t in &pass.transitions {
        sqlx::query(
            "INSERT INTO alert_transitions (id, fingerprint, rule_id, rule_name, workflow,
                    environment, from_phase, to_phase, silenced, run_id, summary, at, subject)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&t.id)
        .bind(&t.fingerprint)
        .bind(&t.rule_id)
        .bind(&t.rule_name)
        .bind(&t.workflow)
        .bind(&t.environment)
        .bind(t.from.as_str())
        .bind(t.to.as_str())
        .bind(t.silenced)
        .bind(&t.run_id)
        .bind(&t.summary)
        .bind(t.at)
        .bind(&t.subject)
        .execute(&mut *tx)
        .await?;
    }
    for n in &pass.notifications {
        enqueue_in(&mut tx, n).await?;
    }
    sqlx::query("UPDATE alert_evaluator SET last_pass = $1 WHERE id = 1")
        .bind(pass.at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(PassCommit::Done)
}

/// Drops a rule's instances, queueing the resolve each one announced
/// firing is owed (`why` says what happened to the rule).
pub(super) async fn withdraw_in(
    tx: &mut Tx,
    rule: &StoredRule,
    why: &str,
    w: &Withdrawal,
) -> StoreResult<()> {
    let firing = sqlx::query(&format!(
        "SELECT {INSTANCE_COLUMNS} FROM alert_instances WHERE rule_id = $1 AND phase = 'firing'"
    ))
    .bind(&rule.id)
    .fetch_all(&mut **tx)
    .await?;
    for row in &firing {
        let i = instance_from_row(row)?;
        let gone = Withdrawn {
            rule: &rule.spec,
            fingerprint: &i.fingerprint,
            workflow: &i.workflow,
            environment: &i.environment,
            state: &i.state,
            last_run_id: i.last_run_id.as_deref(),
            why,
        };
        for (channel, notification) in
            gone.resolves(&w.links, w.at, || uuid::Uuid::now_v7().to_string())
        {
            enqueue_in(
                tx,
                &NewNotification {
                    channel,
                    notification,
                    at: w.at,
                },
            )
            .await?;
        }
    }
    sqlx::query("DELETE FROM alert_instances WHERE rule_id = $1")
        .bind(&rule.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn sync_spec_rules(
    pool: &Writer,
    changes: &SpecRuleChanges,
    w: &Withdrawal,
) -> StoreResult<()> {
    let mut tx = begin_write(pool).await?;
    for rule in &changes.insert {
        let spec = serde_json::to_string(&rule.spec)
            .map_err(|e| StoreError::Corrupt(format!("alert rule: {e}")))?;
        sqlx::query(
            "INSERT INTO alert_rules (id, name, spec, origin, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&rule.id)
        .bind(&rule.spec.name)
        .bind(spec)
        .bind(&rule.origin)
        .bind(&rule.created_by)
        .bind(rule.created_at)
        .execute(&mut *tx)
        .await?;
    }
    for (rule, reset) in &changes.update {
        let spec = serde_json::to_string(&rule.spec)
            .map_err(|e| StoreError::Corrupt(format!("alert rule: {e}")))?;
        let old = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(&rule.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old.as_ref().map(rule_from_row).transpose()? else {
            continue;
        };
        if *reset {
            withdraw_in(&mut tx, &old, "the rule changed what it watches", w).await?;
        }
        sqlx::query(
            "UPDATE alert_rules SET spec = $2, created_by = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(&rule.id)
        .bind(spec)
        .bind(&rule.created_by)
        .bind(rule.updated_at)
        .execute(&mut *tx)
        .await?;
    }
    for id in &changes.delete {
        let old = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old.as_ref().map(rule_from_row).transpose()? else {
            continue;
        };
        withdraw_in(
            &mut tx,
            &old,
            "the workflow's active version no longer has the rule",
            w,
        )
        .await?;
        sqlx::query("DELETE FROM alert_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn enqueue_in(tx: &mut Tx, n: &NewNotification) -> StoreResult<()> {
    let body = serde_json::to_string(&n.notification)
        .map_err(|e| StoreError::Corrupt(format!("notification: {e}")))?;
    sqlx::query(
        "INSERT INTO alert_notifications (id, fingerprint, rule_name, environment, channel, notice,
                body, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
    )
    .bind(&n.notification.id)
    .bind(&n.notification.fingerprint)
    .bind(&n.notification.rule)
    .bind(&n.notification.environment)
    .bind(&n.channel)
    .bind(n.notification.notice.as_str())
    .bind(body)
    .bind(n.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn claim(
    pool: &Writer,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> StoreResult<Option<ClaimedNotification>> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
    let mut tx = begin_write(pool).await?;
    // A claim lapses at `claimed_until`: a sender killed mid-delivery
    // leaves the notification to the next one (the receiver may then see
    // it twice, with the same Idempotency-Key; never not at all).
    let row = sqlx::query(&format!(
        "SELECT id, channel, body, attempts, created_at FROM alert_notifications
         WHERE status = 'pending' AND next_attempt_at <= $1
           AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY next_attempt_at, id LIMIT 1{SKIP_LOCKED}"
    ))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    sqlx::query("UPDATE alert_notifications SET claimed_until = $2 WHERE id = $1")
        .bind(&id)
        .bind(until)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let body: String = row.try_get("body")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(Some(ClaimedNotification {
        id,
        channel: row.try_get("channel")?,
        notification: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("notification: {e}")))?,
        attempts: attempts.max(0) as u32,
        created_at: row.try_get("created_at")?,
    }))
}

pub(super) async fn record(pool: &Writer, id: &str, r: &DeliveryRecord) -> StoreResult<()> {
    use gantry_core::alert::view::DeliveryStatus;
    let request = r.request.as_ref().map(ToString::to_string);
    let finished = (r.status != DeliveryStatus::Pending).then_some(r.at);
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "UPDATE alert_notifications SET status = $2, attempts = attempts + 1, last_status = $3,
                last_error = $4, request = COALESCE($5, request), next_attempt_at = $6,
                claimed_until = NULL, finished_at = $7
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(r.status.as_str())
    .bind(r.http_status.map(i32::from))
    .bind(&r.error)
    .bind(request)
    .bind(r.next_attempt_at)
    .bind(finished)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn next_due(pool: &Pool) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM alert_notifications WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?)
}
