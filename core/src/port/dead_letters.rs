//! Dead letters: failed runs waiting on the Needs attention list (listed
//! through `RunPort::list_runs` with `attention`), re-run or dismissed in
//! bulk. Each run of a bulk action is authorized and audited on its own
//! (`run.rerun`, `run.dismiss`) and succeeds or fails alone.

use super::RequestContext;
use crate::error::PortError;
use crate::run::attention::{BulkResult, DismissAsk, RerunAsk};

#[async_trait::async_trait]
pub trait DeadLetterPort: Send + Sync {
    /// Re-runs failed runs (the trigger role in each run's environment);
    /// each re-run links to its original, which leaves the list.
    async fn rerun_runs(
        &self,
        ctx: &RequestContext,
        ask: RerunAsk,
    ) -> Result<Vec<BulkResult>, PortError>;

    /// Takes failed runs off the list with a note (the cancel role in each
    /// run's environment).
    async fn dismiss_runs(
        &self,
        ctx: &RequestContext,
        ask: DismissAsk,
    ) -> Result<Vec<BulkResult>, PortError>;
}
