//! Canary promotions: what runs, its evaluations, and the manual controls.
//! Canaries start from promotions (the promotion port) when the target's
//! policy has a canary plan.

use super::RequestContext;
use crate::canary::{Canary, CanaryAct, CanaryControl, CanaryDetail};
use crate::error::PortError;

/// Which canaries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CanaryFilter {
    pub workflow: Option<String>,
    pub environment: Option<String>,
    /// Only running or paused ones.
    #[serde(default)]
    pub live: bool,
}

#[async_trait::async_trait]
pub trait CanaryPort: Send + Sync {
    /// Newest first, in the environments the caller may see.
    async fn canaries(
        &self,
        ctx: &RequestContext,
        filter: CanaryFilter,
    ) -> Result<Vec<Canary>, PortError>;

    /// One canary with its evaluations, oldest first.
    async fn canary(&self, ctx: &RequestContext, id: &str) -> Result<CanaryDetail, PortError>;

    /// Pause, resume, promote now, abort, or clear a hold.
    async fn control_canary(
        &self,
        ctx: &RequestContext,
        id: &str,
        control: CanaryControl,
        act: CanaryAct,
    ) -> Result<Canary, PortError>;
}
