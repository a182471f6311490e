//! Inbound webhooks: admins of an environment create hooks that start one
//! workflow there, rotate and retire their signing secrets and read their
//! deliveries; senders deliver to them, authenticated by the signature
//! alone. See docs/webhooks.md.

use super::RequestContext;
use crate::error::PortError;
use crate::webhook::{
    CreatedWebhook, DeliveryAnswer, InboundDelivery, WebhookAsk, WebhookDetail, WebhookView,
};

#[async_trait::async_trait]
pub trait WebhookPort: Send + Sync {
    /// The hooks of the environments the caller administers.
    async fn webhooks(&self, ctx: &RequestContext) -> Result<Vec<WebhookView>, PortError>;

    /// One hook with its recent deliveries (admins of its environment).
    async fn webhook(&self, ctx: &RequestContext, name: &str) -> Result<WebhookDetail, PortError>;

    /// Creates a hook (admins of its environment; `webhook.create`); its
    /// signing secret is in the answer, and nowhere ever again.
    async fn create_webhook(
        &self,
        ctx: &RequestContext,
        ask: WebhookAsk,
    ) -> Result<CreatedWebhook, PortError>;

    /// Makes a new secret; the current one becomes the previous one and
    /// keeps verifying until retired (`webhook.rotate`).
    async fn rotate_webhook_secret(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<CreatedWebhook, PortError>;

    /// Stops the previous secret verifying (`webhook.retire`).
    async fn retire_previous_webhook_secret(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<WebhookView, PortError>;

    /// Deletes a hook and its deliveries (`webhook.delete`).
    async fn delete_webhook(&self, ctx: &RequestContext, name: &str) -> Result<(), PortError>;

    /// A delivery to `POST /hooks/{name}`: no principal, the signature is
    /// the credential. Refused signatures answer `Rejected` (and are on
    /// record); errors are for a good signature that started nothing.
    async fn deliver_webhook(
        &self,
        ctx: &RequestContext,
        name: &str,
        delivery: InboundDelivery,
    ) -> Result<DeliveryAnswer, PortError>;
}
