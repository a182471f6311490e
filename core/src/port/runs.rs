//! Runs: starting one, reading runs and their logs, cancelling.

use super::RequestContext;
use crate::error::PortError;
use crate::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerOutcome,
    TriggerRequest,
};

/// Starting, reading and cancelling runs.
#[async_trait::async_trait]
pub trait RunPort: Send + Sync {
    /// Starts a run of the environment's active version. `trigger` says which
    /// edge asked (manual from the dashboard/CLI, or API). Where the
    /// workflow requires approval in that environment, files a request for
    /// someone else to approve instead.
    async fn trigger_run(
        &self,
        ctx: &RequestContext,
        request: TriggerRequest,
        trigger: Trigger,
    ) -> Result<TriggerOutcome, PortError>;

    async fn list_runs(
        &self,
        ctx: &RequestContext,
        filter: RunFilter,
    ) -> Result<RunPage, PortError>;

    async fn run(&self, ctx: &RequestContext, id: &str) -> Result<RunDetail, PortError>;

    async fn run_logs(
        &self,
        ctx: &RequestContext,
        id: &str,
        query: LogQuery,
    ) -> Result<LogPage, PortError>;

    /// Stops a queued or running run: nothing new starts, running steps are
    /// killed. `Conflict` when it already finished.
    async fn cancel_run(&self, ctx: &RequestContext, id: &str) -> Result<RunSummary, PortError>;
}
