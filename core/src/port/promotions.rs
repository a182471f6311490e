//! Promotion: moving versions dev → stage → prod under each environment's
//! policy, rolling back, the deployment ledger, and the policies.

use super::RequestContext;
use crate::error::PortError;
use crate::promotion::EnvironmentPolicy;
use crate::promotion::diff::SpecDiff;
use crate::promotion::ledger::Deployment;
use crate::promotion::request::PromotionRequest;
use crate::promotion::verification::Verification;
use crate::promotion::view::{
    ChecklistMark, DeploymentFilter, PolicyView, PromotionAsk, PromotionBoard, PromotionDecision,
    PromotionDetail, PromotionFilter, PromotionOutcome, RollbackAsk, RollbackOutcome,
    VerificationFilter,
};

/// Promotion requests, rollbacks, the ledger and environment policies.
#[async_trait::async_trait]
pub trait PromotionPort: Send + Sync {
    /// Asks to move a version into the next environment. With nothing
    /// required by the target's policy it is promoted at once.
    async fn request_promotion(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: PromotionAsk,
    ) -> Result<PromotionOutcome, PortError>;

    /// Requests, newest first, narrowed by the filter and to the
    /// environments the caller may see.
    async fn list_promotions(
        &self,
        ctx: &RequestContext,
        filter: PromotionFilter,
    ) -> Result<Vec<PromotionRequest>, PortError>;

    async fn promotion(&self, ctx: &RequestContext, id: &str)
    -> Result<PromotionDetail, PortError>;

    /// Approves, rejects or cancels a pending request. An approval that
    /// completes the gate promotes at once.
    async fn decide_promotion(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: PromotionDecision,
        comment: Option<String>,
    ) -> Result<PromotionDetail, PortError>;

    /// Ticks or unticks a manual checklist item (or acknowledges what a
    /// diff adds). May complete the gate and promote.
    async fn mark_checklist_item(
        &self,
        ctx: &RequestContext,
        id: &str,
        item: &str,
        mark: ChecklistMark,
    ) -> Result<PromotionDetail, PortError>;

    /// Moves an environment back to a version that was active there
    /// before, without a new approval.
    async fn roll_back(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: RollbackAsk,
    ) -> Result<RollbackOutcome, PortError>;

    /// The ledger, newest first; with `at`, the rows in force then.
    async fn list_deployments(
        &self,
        ctx: &RequestContext,
        filter: DeploymentFilter,
    ) -> Result<Vec<Deployment>, PortError>;

    /// Verifications after promotions and rollbacks, newest first.
    async fn list_verifications(
        &self,
        ctx: &RequestContext,
        filter: VerificationFilter,
    ) -> Result<Vec<Verification>, PortError>;

    /// What changes from version `from` to version `to`.
    async fn workflow_diff(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        from: u32,
        to: u32,
    ) -> Result<SpecDiff, PortError>;

    /// The Promotions page's matrix.
    async fn promotion_board(&self, ctx: &RequestContext) -> Result<PromotionBoard, PortError>;

    /// Every environment's policy, in environment order.
    async fn environment_policies(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<PolicyView>, PortError>;

    /// Replaces an environment's policy (admins of that environment).
    async fn set_environment_policy(
        &self,
        ctx: &RequestContext,
        environment: &str,
        policy: EnvironmentPolicy,
    ) -> Result<PolicyView, PortError>;
}
