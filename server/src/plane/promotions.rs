//! Promotion in the port. Being built (issue 14): until it lands every
//! method answers 503 naming what is missing, so no edge half-works.

use crate::plane::GantryPlane;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::port::{PromotionPort, RequestContext};
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::diff::SpecDiff;
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::PromotionRequest;
use gantry_core::promotion::view::{
    ChecklistMark, DeploymentFilter, PolicyView, PromotionAsk, PromotionBoard, PromotionDecision,
    PromotionDetail, PromotionFilter, PromotionOutcome, RollbackAsk, RollbackOutcome,
};

fn not_yet() -> PortError {
    PortError::Unavailable {
        message: "promotion is not available in this build yet".into(),
    }
}

#[async_trait]
impl PromotionPort for GantryPlane {
    async fn request_promotion(
        &self,
        _ctx: &RequestContext,
        _workflow: &str,
        _ask: PromotionAsk,
    ) -> Result<PromotionOutcome, PortError> {
        Err(not_yet())
    }

    async fn list_promotions(
        &self,
        _ctx: &RequestContext,
        _filter: PromotionFilter,
    ) -> Result<Vec<PromotionRequest>, PortError> {
        Err(not_yet())
    }

    async fn promotion(
        &self,
        _ctx: &RequestContext,
        _id: &str,
    ) -> Result<PromotionDetail, PortError> {
        Err(not_yet())
    }

    async fn decide_promotion(
        &self,
        _ctx: &RequestContext,
        _id: &str,
        _decision: PromotionDecision,
        _comment: Option<String>,
    ) -> Result<PromotionDetail, PortError> {
        Err(not_yet())
    }

    async fn mark_checklist_item(
        &self,
        _ctx: &RequestContext,
        _id: &str,
        _item: &str,
        _mark: ChecklistMark,
    ) -> Result<PromotionDetail, PortError> {
        Err(not_yet())
    }

    async fn roll_back(
        &self,
        _ctx: &RequestContext,
        _workflow: &str,
        _ask: RollbackAsk,
    ) -> Result<RollbackOutcome, PortError> {
        Err(not_yet())
    }

    async fn list_deployments(
        &self,
        _ctx: &RequestContext,
        _filter: DeploymentFilter,
    ) -> Result<Vec<Deployment>, PortError> {
        Err(not_yet())
    }

    async fn workflow_diff(
        &self,
        _ctx: &RequestContext,
        _workflow: &str,
        _from: u32,
        _to: u32,
    ) -> Result<SpecDiff, PortError> {
        Err(not_yet())
    }

    async fn promotion_board(&self, _ctx: &RequestContext) -> Result<PromotionBoard, PortError> {
        Err(not_yet())
    }

    async fn environment_policies(
        &self,
        _ctx: &RequestContext,
    ) -> Result<Vec<PolicyView>, PortError> {
        Err(not_yet())
    }

    async fn set_environment_policy(
        &self,
        _ctx: &RequestContext,
        _environment: &str,
        _policy: EnvironmentPolicy,
    ) -> Result<PolicyView, PortError> {
        Err(not_yet())
    }
}
