//! Inbound webhooks in the store: the hooks (their signing secrets sealed)
//! and the deliveries received, which also stop a delivery id from being
//! accepted twice.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::webhook::{DeliveryView, WebhookView};

/// A hook as stored: its view and its sealed secrets.
#[derive(Clone)]
pub struct StoredWebhook {
    pub view: WebhookView,
    pub sealed_secrets: String,
}

/// A change of a hook's secrets (rotation or retirement).
pub struct SecretsChange<'a> {
    pub name: &'a str,
    /// The secrets sealed in the store before the change: a concurrent
    /// change in between makes this one do nothing.
    pub before: &'a str,
    pub sealed_secrets: &'a str,
    pub previous_active: bool,
    pub rotated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// What recording a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryRecorded {
    Done,
    /// This hook accepted that delivery id before: a replay.
    Replay,
}

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Every hook, or those of `environments`, by name.
    async fn webhooks(&self, environments: Option<&[String]>) -> StoreResult<Vec<WebhookView>>;

    async fn stored_webhook(&self, name: &str) -> StoreResult<Option<StoredWebhook>>;

    /// `false`: the name is taken.
    async fn insert_webhook(&self, hook: &StoredWebhook, audit: AuditEvent) -> StoreResult<bool>;

    /// `false`: the hook is gone or its secrets changed meanwhile.
    async fn change_webhook_secrets(
        &self,
        change: SecretsChange<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// `false`: there is no such hook.
    async fn delete_webhook(&self, name: &str, audit: AuditEvent) -> StoreResult<bool>;

    /// Records a delivery with its record. A delivery id the hook has
    /// seen is a replay and records nothing.
    async fn record_webhook_delivery(
        &self,
        webhook: &str,
        delivery: &DeliveryView,
        audit: AuditEvent,
    ) -> StoreResult<DeliveryRecorded>;

    /// Sets what an accepted delivery went on to do.
    async fn settle_webhook_delivery(
        &self,
        webhook: &str,
        delivery: &DeliveryView,
    ) -> StoreResult<()>;

    /// A hook's most recent deliveries, newest first.
    async fn webhook_deliveries(&self, webhook: &str, limit: u32)
    -> StoreResult<Vec<DeliveryView>>;
}
