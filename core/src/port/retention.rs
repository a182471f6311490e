//! Retention: what the settings keep, how big the database is, what the
//! next purge would remove, and a purge now (admins in every environment;
//! each purge's deletions audited in their own transactions). `serve`
//! purges on its own every `--retention-interval`.

use super::RequestContext;
use crate::error::PortError;
use crate::retention::{Purged, RetentionStatus};

#[async_trait::async_trait]
pub trait RetentionPort: Send + Sync {
    /// The settings, the database's size and what is due. Admins and
    /// auditors.
    async fn retention(&self, ctx: &RequestContext) -> Result<RetentionStatus, PortError>;

    /// Purges what is due now, in batches (`retention.purge`, one record
    /// per batch with its counts). Admin in every environment.
    async fn purge_now(&self, ctx: &RequestContext) -> Result<Purged, PortError>;
}
