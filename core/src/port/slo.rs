//! Service level objectives: each workflow's `slo:` per environment, as
//! its active version there declares it, measured on exact run counts.

use super::RequestContext;
use crate::error::PortError;
use crate::slo::view::{SloStatus, SloSummary};

/// Reading SLOs. Nothing here changes anything: objectives change by
/// applying and promoting the workflow's spec.
#[async_trait::async_trait]
pub trait SloPort: Send + Sync {
    /// Every workflow × environment whose active version declares an SLO
    /// there, in environments the caller may see, by workflow then
    /// environment; only `workflow`'s when given.
    async fn list_slos(
        &self,
        ctx: &RequestContext,
        workflow: Option<&str>,
    ) -> Result<Vec<SloSummary>, PortError>;

    /// One SLO with its budget, burn rates, hourly burn history and the
    /// runs that spent budget. `Forbidden` without a role in the
    /// environment (before anything is looked up), `NotFound` when the
    /// workflow does not exist or its active version there declares no SLO.
    async fn slo_status(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
    ) -> Result<SloStatus, PortError>;
}
