//! Four-eyes approvals: the requests a trigger files where a workflow needs
//! a second person, and deciding them.

use super::RequestContext;
use crate::approval::{ApprovalDecided, ApprovalDecision, ApprovalRequest};
use crate::error::PortError;

/// Reading and deciding approval requests.
#[async_trait::async_trait]
pub trait ApprovalPort: Send + Sync {
    /// Approval requests, newest first; `pending` narrows to the inbox
    /// (`Some(true)`) or the history (`Some(false)`).
    async fn list_approvals(
        &self,
        ctx: &RequestContext,
        pending: Option<bool>,
    ) -> Result<Vec<ApprovalRequest>, PortError>;

    async fn approval(&self, ctx: &RequestContext, id: &str) -> Result<ApprovalRequest, PortError>;

    /// Approves (starting the run, as the requester) or rejects a pending
    /// request. The requester can't decide their own (four eyes).
    async fn decide_approval(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: ApprovalDecision,
    ) -> Result<ApprovalDecided, PortError>;
}
