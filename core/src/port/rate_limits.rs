//! Rate limits: the defaults in force and admins' overrides per token or
//! group (admin in every environment; each change audited). Enforcing
//! them is the edge's (`server/src/ratelimit/`).

use super::RequestContext;
use crate::error::PortError;
use crate::ratelimit::{OverrideAsk, RateLimitOverride, RateLimits};

#[async_trait::async_trait]
pub trait RateLimitPort: Send + Sync {
    /// The defaults per class and every override.
    async fn rate_limits(&self, ctx: &RequestContext) -> Result<RateLimits, PortError>;

    /// Sets one subject's quota in one class (`rate_limit.set`), replacing
    /// an earlier one for the same subject and class.
    async fn set_rate_limit_override(
        &self,
        ctx: &RequestContext,
        ask: OverrideAsk,
    ) -> Result<RateLimitOverride, PortError>;

    /// Deletes one (`rate_limit.delete`): the default applies again.
    async fn delete_rate_limit_override(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<RateLimitOverride, PortError>;
}
