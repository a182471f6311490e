//! Inbound webhooks' SQL for both databases.

use super::audit::append_in;
use super::run_rows::corrupt;
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::webhooks::{DeliveryRecorded, SecretsChange, StoredWebhook, WebhookStore};
use async_trait::async_trait;
use gantry_core::audit::AuditEvent;
use gantry_core::webhook::{DeliveryOutcome, DeliveryView, SignatureMode, WebhookView};
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

const HOOK_COLUMNS: &str = "name, environment, workflow, mode, inputs, events, sealed_secrets, \
    previous_active, created_by, created_at, rotated_at, retired_at";

const DELIVERY_COLUMNS: &str =
    "delivery_id, received_at, event, outcome, status, run_id, approval_id, error";

fn hook_from_row(row: &DbRow) -> StoreResult<StoredWebhook> {
    let mode: String = row.try_get("mode")?;
    let inputs: String = row.try_get("inputs")?;
    let events: String = row.try_get("events")?;
    Ok(StoredWebhook {
        view: WebhookView {
            name: row.try_get("name")?,
            environment: row.try_get("environment")?,
            workflow: row.try_get("workflow")?,
            mode: SignatureMode::parse(&mode)
                .ok_or_else(|| corrupt(format!("webhook mode {mode:?}")))?,
            inputs: serde_json::from_str(&inputs).map_err(corrupt)?,
            events: serde_json::from_str(&events).map_err(corrupt)?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            rotated_at: row.try_get("rotated_at")?,
            previous_active: row.try_get("previous_active")?,
            retired_at: row.try_get("retired_at")?,
        },
        sealed_secrets: row.try_get("sealed_secrets")?,
    })
}

fn delivery_from_row(row: &DbRow) -> StoreResult<DeliveryView> {
    let outcome: String = row.try_get("outcome")?;
    let status: i32 = row.try_get("status")?;
    Ok(DeliveryView {
        delivery_id: row.try_get("delivery_id")?,
        received_at: row.try_get("received_at")?,
        event: row.try_get("event")?,
        outcome: DeliveryOutcome::parse(&outcome)
            .ok_or_else(|| corrupt(format!("delivery outcome {outcome:?}")))?,
        status: u16::try_from(status).map_err(corrupt)?,
        run_id: row.try_get("run_id")?,
        approval_id: row.try_get("approval_id")?,
        error: row.try_get("error")?,
    })
}

#[async_trait]
impl WebhookStore for Adapter {
    async fn webhooks(&self, environments: Option<&[String]>) -> StoreResult<Vec<WebhookView>> {
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {HOOK_COLUMNS} FROM webhooks"));
        if let Some(envs) = environments {
            if envs.is_empty() {
                return Ok(Vec::new());
            }
            q.push(" WHERE environment IN (");
            let mut list = q.separated(", ");
            for env in envs {
                list.push_bind(env);
            }
            q.push(")");
        }
        q.push(" ORDER BY name");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| hook_from_row(row).map(|h| h.view))
            .collect()
    }

    async fn stored_webhook(&self, name: &str) -> StoreResult<Option<StoredWebhook>> {
        sqlx::query(&format!(
            "SELECT {HOOK_COLUMNS} FROM webhooks WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(hook_from_row)
        .transpose()
    }

    async fn insert_webhook(&self, hook: &StoredWebhook, audit: AuditEvent) -> StoreResult<bool> {
        let h = &hook.view;
        let mut tx = begin_write(&self.writes).await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO webhooks ({HOOK_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (name) DO NOTHING"
        ))
        .bind(&h.name)
        .bind(&h.environment)
        .bind(&h.workflow)
        .bind(h.mode.as_str())
        .bind(serde_json::to_string(&h.inputs).map_err(corrupt)?)
        .bind(serde_json::to_string(&h.events).map_err(corrupt)?)
        .bind(&hook.sealed_secrets)
        .bind(h.previous_active)
        .bind(&h.created_by)
        .bind(h.created_at)
        .bind(h.rotated_at)
        .bind(h.retired_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn change_webhook_secrets(
        &self,
        c: SecretsChange<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let done = sqlx::query(
            "UPDATE webhooks SET sealed_secrets = $3, previous_active = $4,
                 rotated_at = COALESCE($5, rotated_at), retired_at = COALESCE($6, retired_at)
             WHERE name = $1 AND sealed_secrets = $2",
        )
        .bind(c.name)
        .bind(c.before)
        .bind(c.sealed_secrets)
        .bind(c.previous_active)
        .bind(c.rotated_at)
        .bind(c.retired_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_webhook(&self, name: &str, audit: AuditEvent) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_webhook_delivery(
        &self,
        webhook: &str,
        d: &DeliveryView,
        audit: AuditEvent,
    ) -> StoreResult<DeliveryRecorded> {
        let mut tx = begin_write(&self.writes).await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO webhook_deliveries (webhook, {DELIVERY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (webhook, delivery_id) DO NOTHING"
        ))
        .bind(webhook)
        .bind(&d.delivery_id)
        .bind(d.received_at)
        .bind(&d.event)
        .bind(d.outcome.as_str())
        .bind(i32::from(d.status))
        .bind(&d.run_id)
        .bind(&d.approval_id)
        .bind(&d.error)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(DeliveryRecorded::Replay);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(DeliveryRecorded::Done)
    }

    async fn settle_webhook_delivery(&self, webhook: &str, d: &DeliveryView) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET outcome = $3, status = $4, run_id = $5,
                 approval_id = $6, error = $7
             WHERE webhook = $1 AND delivery_id = $2",
        )
        .bind(webhook)
        .bind(&d.delivery_id)
        .bind(d.outcome.as_str())
        .bind(i32::from(d.status))
        .bind(&d.run_id)
        .bind(&d.approval_id)
        .bind(&d.error)
        .execute(&mut *self.writes.connection().await?)
        .await?;
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        webhook: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryView>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook = $1
             ORDER BY received_at DESC, delivery_id DESC LIMIT $2"
        ))
        .bind(webhook)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}
