//! Alerting's SQL for both databases: rules, channels, instances, history
//! and silences. The evaluation pass and the outbox are `alert_pass.rs`.

use super::alert_pass;
use super::audit::append_in;
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::alerts::{
    AlertPass, AlertStore, ClaimedNotification, DeliveryRecord, HistoryRun, InboxRun,
    NewNotification, PassCommit, SpecRuleChanges, StoredChannel, StoredInstance, StoredRule,
    Withdrawal,
};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::alert::view::{
    AlertFilter, DeliveryStatus, NotificationView, SilenceView, TransitionView,
};
use gantry_core::alert::{ChannelKind, Phase};
use gantry_core::audit::AuditEvent;
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(super) fn phase(s: &str) -> StoreResult<Phase> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| corrupt("alert phase", e))
}

pub(super) const RULE_COLUMNS: &str = "id, name, spec, origin, created_by, created_at, updated_at";

pub(super) fn rule_from_row(row: &DbRow) -> StoreResult<StoredRule> {
    let spec: String = row.try_get("spec")?;
    Ok(StoredRule {
        id: row.try_get("id")?,
        spec: serde_json::from_str(&spec).map_err(|e| corrupt("alert rule", e))?,
        origin: row.try_get("origin")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const CHANNEL_COLUMNS: &str =
    "name, kind, url, signing_key_ids, sealed, created_by, created_at, updated_at";

fn channel_from_row(row: &DbRow) -> StoreResult<StoredChannel> {
    let kind: String = row.try_get("kind")?;
    let ids: String = row.try_get("signing_key_ids")?;
    Ok(StoredChannel {
        name: row.try_get("name")?,
        kind: serde_json::from_value::<ChannelKind>(serde_json::Value::String(kind))
            .map_err(|e| corrupt("channel kind", e))?,
        url: row.try_get("url")?,
        signing_key_ids: serde_json::from_str(&ids).map_err(|e| corrupt("key ids", e))?,
        sealed: row.try_get("sealed")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) const INSTANCE_COLUMNS: &str =
    "fingerprint, rule_id, workflow, environment, subject, state, summary, last_run_id, version";

pub(super) fn instance_from_row(row: &DbRow) -> StoreResult<StoredInstance> {
    let state: String = row.try_get("state")?;
    let version: i32 = row.try_get("version")?;
    Ok(StoredInstance {
        fingerprint: row.try_get("fingerprint")?,
        rule_id: row.try_get("rule_id")?,
        workflow: row.try_get("workflow")?,
        environment: row.try_get("environment")?,
        subject: row.try_get("subject")?,
        state: serde_json::from_str(&state).map_err(|e| corrupt("alert instance", e))?,
        summary: row.try_get("summary")?,
        last_run_id: row.try_get("last_run_id")?,
        version: i64::from(version),
    })
}

const SILENCE_COLUMNS: &str = "id, rule, workflow, environment, starts_at, ends_at, cron, time_zone, \
     duration_secs, reason, created_by, created_at, expired_at";

fn silence_from_row(row: &DbRow) -> StoreResult<SilenceView> {
    let duration: Option<i64> = row
        .try_get::<Option<i32>, _>("duration_secs")?
        .map(i64::from);
    Ok(SilenceView {
        id: row.try_get("id")?,
        rule: row.try_get("rule")?,
        workflow: row.try_get("workflow")?,
        environment: row.try_get("environment")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        cron: row.try_get("cron")?,
        duration_secs: duration.map(|d| d.max(0) as u64),
        time_zone: row.try_get("time_zone")?,
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expired_at: row.try_get("expired_at")?,
        // The plane decides, knowing the time and the mute windows' clock.
        active: false,
    })
}

fn notification_from_row(row: &DbRow) -> StoreResult<NotificationView> {
    let status: String = row.try_get("status")?;
    let attempts: i32 = row.try_get("attempts")?;
    let last_status: Option<i32> = row.try_get("last_status")?;
    let request: Option<String> = row.try_get("request")?;
    let status =
        DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status", &status))?;
    Ok(NotificationView {
        id: row.try_get("id")?,
        fingerprint: row.try_get("fingerprint")?,
        rule: row.try_get("rule_name")?,
        channel: row.try_get("channel")?,
        notice: row.try_get("notice")?,
        status,
        attempts: attempts.max(0) as u32,
        last_status: last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.try_get("last_error")?,
        request: request.and_then(|r| serde_json::from_str(&r).ok()),
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        next_attempt_at: (status == DeliveryStatus::Pending)
            .then(|| row.try_get("next_attempt_at"))
            .transpose()?,
    })
}

/// Narrows a list to the environments the caller may see (`None`: all).
/// Channel tests (environment `''`) are seen by everyone.
fn push_visible(q: &mut QueryBuilder<'_, Db>, visible: Option<&[String]>) {
    if let Some(visible) = visible {
        q.push(" AND environment IN ('', ");
        let mut list = q.separated(", ");
        for env in visible {
            list.push_bind(env.clone());
        }
        if visible.is_empty() {
            list.push_bind(String::new());
        }
        q.push(")");
    }
}

fn to_json(value: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt("unwritable value", e))
}

#[async_trait]
impl AlertStore for Adapter {
    async fn alert_rules(&self) -> StoreResult<Vec<StoredRule>> {
        sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rule_from_row)
        .collect()
    }

    async fn alert_rule_named(&self, name: &str) -> StoreResult<Option<StoredRule>> {
        sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(rule_from_row)
        .transpose()
    }

    async fn insert_alert_rule(&self, rule: &StoredRule, audit: AuditEvent) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM alert_rules WHERE name = $1")
                .bind(&rule.spec.name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO alert_rules (id, name, spec, origin, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&rule.id)
        .bind(&rule.spec.name)
        .bind(to_json(&rule.spec)?)
        .bind(&rule.origin)
        .bind(&rule.created_by)
        .bind(rule.created_at)
        .bind(rule.updated_at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            // Someone took the name since the check above.
            let e = StoreError::from(e);
            return if e.is_unique_violation() {
                Ok(false)
            } else {
                Err(e)
            };
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn replace_alert_rule(
        &self,
        name: &str,
        rule: &StoredRule,
        reset: bool,
        audit: AuditEvent,
        withdrawal: &Withdrawal,
    ) -> StoreResult<Option<bool>> {
        let mut tx = begin_write(&self.writes).await?;
        let old = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE name = $1{FOR_UPDATE}"
        ))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old.as_ref().map(rule_from_row).transpose()? else {
            return Ok(None);
        };
        let id = old.id.clone();
        if rule.spec.name != name {
            let taken: Option<String> =
                sqlx::query_scalar("SELECT id FROM alert_rules WHERE name = $1")
                    .bind(&rule.spec.name)
                    .fetch_optional(&mut *tx)
                    .await?;
            if taken.is_some() {
                return Ok(Some(false));
            }
        }
        sqlx::query("UPDATE alert_rules SET name = $2, spec = $3, updated_at = $4 WHERE id = $1")
            .bind(&id)
            .bind(&rule.spec.name)
            .bind(to_json(&rule.spec)?)
            .bind(rule.updated_at)
            .execute(&mut *tx)
            .await?;
        if reset {
            alert_pass::withdraw_in(
                &mut tx,
                &old,
                "the rule changed what it watches",
                withdrawal,
            )
            .await?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(true))
    }

    async fn delete_alert_rule(
        &self,
        name: &str,
        audit: AuditEvent,
        withdrawal: &Withdrawal,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let rule = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE name = $1{FOR_UPDATE}"
        ))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(rule) = rule.as_ref().map(rule_from_row).transpose()? else {
            return Ok(false);
        };
        alert_pass::withdraw_in(&mut tx, &rule, "the rule was deleted", withdrawal).await?;
        sqlx::query("DELETE FROM alert_rules WHERE id = $1")
            .bind(&rule.id)
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn alert_channels(&self) -> StoreResult<Vec<StoredChannel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM alert_channels ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(channel_from_row)
        .collect()
    }

    async fn alert_channel(&self, name: &str) -> StoreResult<Option<StoredChannel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(channel_from_row)
        .transpose()
    }

    async fn insert_alert_channel(
        &self,
        channel: &StoredChannel,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT name FROM alert_channels WHERE name = $1")
                .bind(&channel.name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO alert_channels (name, kind, url, signing_key_ids, sealed, created_by,
                                         created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&channel.name)
        .bind(channel.kind.as_str())
        .bind(&channel.url)
        .bind(to_json(&channel.signing_key_ids)?)
        .bind(&channel.sealed)
        .bind(&channel.created_by)
        .bind(channel.created_at)
        .bind(channel.updated_at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn update_alert_channel(
        &self,
        channel: &StoredChannel,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query(
            "UPDATE alert_channels SET kind = $2, url = $3, signing_key_ids = $4, sealed = $5,
                    updated_at = $6 WHERE name = $1",
        )
        .bind(&channel.name)
        .bind(channel.kind.as_str())
        .bind(&channel.url)
        .bind(to_json(&channel.signing_key_ids)?)
        .bind(&channel.sealed)
        .bind(channel.updated_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_alert_channel(&self, name: &str, audit: AuditEvent) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query("DELETE FROM alert_channels WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn alert_instances(&self) -> StoreResult<Vec<StoredInstance>> {
        sqlx::query(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM alert_instances ORDER BY fingerprint"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(instance_from_row)
        .collect()
    }

    async fn alert_transitions(
        &self,
        filter: &AlertFilter,
        visible: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<TransitionView>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, fingerprint, rule_name, workflow, environment, subject, from_phase,
                    to_phase, silenced, run_id, summary, at
             FROM alert_transitions WHERE 1 = 1",
        );
        if let Some(r) = &filter.rule {
            q.push(" AND rule_name = ").push_bind(r.clone());
        }
        if let Some(w) = &filter.workflow {
            q.push(" AND workflow = ").push_bind(w.clone());
        }
        if let Some(e) = &filter.environment {
            q.push(" AND environment = ").push_bind(e.clone());
        }
        push_visible(&mut q, visible);
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit));
        q.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let from: String = row.try_get("from_phase")?;
                let to: String = row.try_get("to_phase")?;
                Ok(TransitionView {
                    id: row.try_get("id")?,
                    fingerprint: row.try_get("fingerprint")?,
                    rule: row.try_get("rule_name")?,
                    workflow: row.try_get("workflow")?,
                    environment: row.try_get("environment")?,
                    subject: row.try_get("subject")?,
                    from: phase(&from)?,
                    to: phase(&to)?,
                    silenced: row.try_get("silenced")?,
                    run_id: row.try_get("run_id")?,
                    summary: row.try_get("summary")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    async fn alert_notifications(
        &self,
        filter: &AlertFilter,
        visible: Option<&[String]>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationView>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, fingerprint, rule_name, channel, notice, status, attempts, last_status,
                    last_error, request, created_at, finished_at, next_attempt_at
             FROM alert_notifications WHERE 1 = 1",
        );
        if let Some(r) = &filter.rule {
            q.push(" AND rule_name = ").push_bind(r.clone());
        }
        if let Some(s) = &filter.state {
            q.push(" AND status = ").push_bind(s.clone());
        }
        if let Some(e) = &filter.environment {
            q.push(" AND environment = ").push_bind(e.clone());
        }
        push_visible(&mut q, visible);
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit));
        q.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(notification_from_row)
            .collect()
    }

    async fn insert_silence(&self, s: &SilenceView, audit: AuditEvent) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(
            "INSERT INTO alert_silences (id, rule, workflow, environment, starts_at, ends_at, cron,
                                         time_zone, duration_secs, reason, created_by, created_at,
                                         expired_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)",
        )
        .bind(&s.id)
        .bind(&s.rule)
        .bind(&s.workflow)
        .bind(&s.environment)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(&s.cron)
        .bind(&s.time_zone)
        .bind(
            s.duration_secs
                .map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
        )
        .bind(&s.reason)
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn silences(&self, recent_since: DateTime<Utc>) -> StoreResult<Vec<SilenceView>> {
        sqlx::query(&format!(
            "SELECT {SILENCE_COLUMNS} FROM alert_silences
             WHERE (expired_at IS NULL AND (ends_at IS NULL OR ends_at > $1))
                OR expired_at > $1 OR ends_at > $1
             ORDER BY starts_at DESC, id DESC"
        ))
        .bind(recent_since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(silence_from_row)
        .collect()
    }

    async fn silence(&self, id: &str) -> StoreResult<Option<SilenceView>> {
        sqlx::query(&format!(
            "SELECT {SILENCE_COLUMNS} FROM alert_silences WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(silence_from_row)
        .transpose()
    }

    async fn expire_silence(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<SilenceView>> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query(
            "UPDATE alert_silences SET expired_at = $2 WHERE id = $1 AND expired_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {SILENCE_COLUMNS} FROM alert_silences WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(silence) = row.as_ref().map(silence_from_row).transpose()? else {
            return Ok(None);
        };
        if done.rows_affected() > 0 {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(Some(silence))
    }

    async fn alert_inbox(&self, limit: u32) -> StoreResult<Vec<InboxRun>> {
        alert_pass::inbox(&self.pool, limit).await
    }

    async fn run_history(
        &self,
        workflow: &str,
        environment: &str,
        until: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<HistoryRun>> {
        alert_pass::history(&self.pool, workflow, environment, until, since, limit).await
    }

    async fn run_pairs_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(String, String)>> {
        alert_pass::pairs_since(&self.pool, since).await
    }

    async fn commit_alert_pass(&self, pass: AlertPass) -> StoreResult<PassCommit> {
        alert_pass::commit(&self.writes, pass).await
    }

    async fn sync_spec_rules(
        &self,
        changes: &SpecRuleChanges,
        withdrawal: &Withdrawal,
    ) -> StoreResult<()> {
        alert_pass::sync_spec_rules(&self.writes, changes, withdrawal).await
    }

    async fn enqueue_notifications(
        &self,
        notifications: &[NewNotification],
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.writes).await?;
        for n in notifications {
            alert_pass::enqueue_in(&mut tx, n).await?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_notification(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
    ) -> StoreResult<Option<ClaimedNotification>> {
        alert_pass::claim(&self.writes, now, lease).await
    }

    async fn record_delivery(&self, id: &str, record: &DeliveryRecord) -> StoreResult<()> {
        alert_pass::record(&self.writes, id, record).await
    }

    async fn next_notification_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        alert_pass::next_due(&self.pool).await
    }
}
