//! What the port takes and gives for webhooks. No view ever carries a
//! signing secret, except the one answer that makes it (`CreatedWebhook`).

use super::SignatureMode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A hook as shown: never its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub name: String,
    pub environment: String,
    pub workflow: String,
    pub mode: SignatureMode,
    pub inputs: BTreeMap<String, String>,
    pub events: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// When the secret was last rotated.
    pub rotated_at: Option<DateTime<Utc>>,
    /// The previous secret still verifies deliveries (after a rotation,
    /// until it is retired).
    pub previous_active: bool,
    /// When a previous secret was last retired.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A hook just made or rotated, with its new signing secret: shown this
/// once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    pub hook: WebhookView,
    pub secret: String,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// A run started.
    Started,
    /// The workflow needs four eyes there: an approval request was filed.
    AwaitingApproval,
    /// An event type the hook doesn't start runs for.
    Ignored,
    /// The signature was refused (wrong, stale, retired key, replay).
    Rejected,
    /// Signed correctly, but no run could start (bad inputs, no active
    /// version).
    Failed,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Started => "started",
            DeliveryOutcome::AwaitingApproval => "awaiting_approval",
            DeliveryOutcome::Ignored => "ignored",
            DeliveryOutcome::Rejected => "rejected",
            DeliveryOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryOutcome::Started,
            DeliveryOutcome::AwaitingApproval,
            DeliveryOutcome::Ignored,
            DeliveryOutcome::Rejected,
            DeliveryOutcome::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One delivery as the hook's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub delivery_id: String,
    pub received_at: DateTime<Utc>,
    pub event: Option<String>,
    pub outcome: DeliveryOutcome,
    /// The HTTP status the sender got.
    pub status: u16,
    pub run_id: Option<String>,
    pub approval_id: Option<String>,
    /// Why it was refused or failed (never a secret or the body).
    pub error: Option<String>,
}

/// A hook with its recent deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDetail {
    pub hook: WebhookView,
    pub deliveries: Vec<DeliveryView>,
}

/// A delivery as it arrived: the headers that matter and the raw body
/// (the signature covers its exact bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundDelivery {
    /// `X-Gantry-Signature`.
    pub gantry_signature: Option<String>,
    /// `X-Hub-Signature-256`.
    pub hub_signature: Option<String>,
    /// `X-Gantry-Event` or `X-GitHub-Event`, by the hook's mode.
    pub event: Option<String>,
    /// `X-Gantry-Delivery` or `X-GitHub-Delivery`, by the hook's mode.
    pub delivery_id: Option<String>,
    pub body: Vec<u8>,
}

/// What a delivery did, as the sender is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryAnswer {
    Started {
        run_id: String,
    },
    AwaitingApproval {
        approval_id: String,
    },
    /// Accepted and ignored: the event type is not one the hook runs for.
    Ignored {
        event: Option<String>,
    },
    /// The signature was refused: 401 with `reason`.
    Rejected {
        reason: String,
    },
}
