//! Inbound webhooks (issue 19): a hook lets GitHub, GitLab or a
//! Stripe-style sender start a workflow in one environment without a
//! bearer token, authenticated by an HMAC signature over the body. This
//! module is the pure half: the hook as an admin asks for it and its
//! validation (`hook.rs`), signature headers and their verification
//! (`signature.rs`), run inputs taken from the payload by JSON pointers
//! (`mapping.rs`) and the port's views (`view.rs`). See docs/webhooks.md.

pub mod hook;
pub mod mapping;
#[cfg(feature = "ssr")]
pub mod signature;
pub mod view;

pub use hook::{SignatureMode, WebhookAsk, validate};
pub use mapping::map_inputs;
pub use view::{
    CreatedWebhook, DeliveryAnswer, DeliveryOutcome, DeliveryView, InboundDelivery, WebhookDetail,
    WebhookView,
};

/// The largest body a hook accepts; bigger ones get 413 unread.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How far a Gantry-mode signature's timestamp may be from the server's
/// clock, either way: beyond it the delivery is stale (or from the future).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

/// How many recent deliveries a hook's page shows.
pub const SHOWN_DELIVERIES: u32 = 50;
