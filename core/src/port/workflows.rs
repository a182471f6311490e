//! Workflows: specs applied as numbered versions, read back, and their
//! schedules switched per environment.

use super::RequestContext;
use crate::error::PortError;
use crate::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};

/// Workflow specs and their schedules.
#[async_trait::async_trait]
pub trait WorkflowPort: Send + Sync {
    /// Registers a workflow spec (YAML or JSON text). A new distinct spec
    /// becomes the next numbered version, active in the first environment;
    /// an identical one is a no-op that says so.
    async fn apply_workflow(
        &self,
        ctx: &RequestContext,
        source: &str,
    ) -> Result<ApplyOutcome, PortError>;

    async fn list_workflows(&self, ctx: &RequestContext)
    -> Result<Vec<WorkflowSummary>, PortError>;

    /// Every workflow's name, sorted: what a filter's choices need, without
    /// the specs, active versions and last runs a summary reads.
    async fn workflow_names(&self, ctx: &RequestContext) -> Result<Vec<String>, PortError>;

    /// A workflow with its versions; `version` picks the spec shown (latest
    /// when `None`).
    async fn workflow(
        &self,
        ctx: &RequestContext,
        name: &str,
        version: Option<u32>,
    ) -> Result<WorkflowDetail, PortError>;

    /// Turns the workflow's cron schedule on or off in one environment.
    /// Turning it on starts from the next slot after now (no catch-up).
    async fn set_schedule(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<ActiveVersion, PortError>;
}
