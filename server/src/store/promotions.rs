//! Promotion in the store: environment policies, promotion requests with
//! their approvals and checklist ticks, delegations, and the deployment
//! ledger. Every move of an environment's pointer writes its ledger row and
//! its audit record in the same transaction, after checking that the
//! pointer is still where the caller saw it (compare-and-set), so racing
//! promotions, rollbacks and applies never leave two versions active or a
//! row without its record.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::evaluation::{ChecklistSnapshot, ChecklistTick};
use gantry_core::promotion::ledger::{Deployment, DeploymentKind};
use gantry_core::promotion::request::{PromotionApproval, PromotionRequest, PromotionState};
use gantry_core::run::RunStatus;

/// A policy an admin saved.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    pub environment: String,
    pub policy: EnvironmentPolicy,
    pub updated_by: Person,
    pub updated_at: DateTime<Utc>,
}

/// A request to file. `supersede` names the pending request into the same
/// target it replaces (marked `superseded` in the same transaction).
pub struct NewPromotion<'a> {
    pub id: &'a str,
    pub workflow_id: &'a str,
    pub request: &'a PromotionRequest,
    pub supersede: Option<&'a str>,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPromotion {
    pub request: PromotionRequest,
    pub workflow_id: String,
    pub deployment_id: Option<String>,
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromotionQuery<'a> {
    pub workflow: Option<&'a str>,
    pub to_environment: Option<&'a str>,
    pub state: Option<PromotionState>,
    /// Only requests into these environments; `None`: every one.
    pub visible: Option<&'a [String]>,
    pub limit: u32,
}

/// Closing a pending request without promoting it.
pub struct PromotionClose<'a> {
    pub id: &'a str,
    pub state: PromotionState,
    pub by: Option<&'a Person>,
    pub comment: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Moving an environment's pointer, if it is still at `expected`.
pub struct PointerMove<'a> {
    pub workflow_id: &'a str,
    pub workflow: &'a str,
    pub environment: &'a str,
    /// The version the caller saw active there (`None`: none).
    pub expected: Option<u32>,
    pub to_version: u32,
    pub kind: DeploymentKind,
    pub actor: &'a Person,
    pub at: DateTime<Utc>,
    pub reason: Option<&'a str>,
    /// The request this move completes: it must still be pending, and is
    /// marked promoted in the same transaction.
    pub request: Option<&'a str>,
    pub approvers: &'a [Person],
    pub checklist: Option<&'a ChecklistSnapshot>,
    /// The schedule's next firing in this environment under the new
    /// version (`None`: no schedule).
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// What a pointer move did.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    Done(Box<Deployment>),
    /// The pointer moved meanwhile: nothing changed.
    Stale {
        active: Option<u32>,
    },
    /// The request was decided meanwhile: nothing changed.
    NotPending(PromotionState),
}

/// Runs of one version in one environment since a moment, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub finished: u32,
    pub succeeded: u32,
}

/// Which ledger rows to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerQuery<'a> {
    pub workflow: Option<&'a str>,
    pub environment: Option<&'a str>,
    /// Only rows at or before this moment.
    pub until: Option<DateTime<Utc>>,
    /// Only environments the reader may see; `None`: every one.
    pub visible: Option<&'a [String]>,
    pub limit: u32,
}

#[async_trait]
pub trait PromotionStore: Send + Sync + 'static {
    /// A workflow's id by name.
    async fn workflow_id(&self, workflow: &str) -> StoreResult<Option<String>>;

    async fn environment_policies(&self) -> StoreResult<Vec<StoredPolicy>>;

    async fn save_policy(&self, policy: &StoredPolicy, audit: AuditEvent) -> StoreResult<()>;

    /// Files a request (superseding the one named). A pending request into
    /// the same target that isn't the one superseded makes this a conflict.
    async fn file_promotion(&self, new: NewPromotion<'_>, audit: AuditEvent) -> StoreResult<()>;

    async fn promotion_request(&self, id: &str) -> StoreResult<Option<StoredPromotion>>;

    /// Requests, newest first.
    async fn promotion_requests(
        &self,
        query: PromotionQuery<'_>,
    ) -> StoreResult<Vec<StoredPromotion>>;

    /// Records an approval on a pending request (replacing that person's
    /// earlier one). `false`: the request is no longer pending.
    async fn record_promotion_approval(
        &self,
        id: &str,
        approval: &PromotionApproval,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Ticks (`Some`) or unticks (`None`) a checklist item of a pending
    /// request. `false`: the request is no longer pending.
    async fn mark_promotion_item(
        &self,
        id: &str,
        item: &str,
        tick: Option<&ChecklistTick>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Rejects, cancels or expires a pending request. `false`: it was no
    /// longer pending.
    async fn close_promotion(
        &self,
        close: PromotionClose<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Moves a pointer, writing its ledger row and audit record.
    async fn move_pointer(&self, change: PointerMove<'_>, audit: AuditEvent) -> StoreResult<Moved>;

    /// Ledger rows, newest first.
    async fn deployments(&self, query: LedgerQuery<'_>) -> StoreResult<Vec<Deployment>>;

    /// Every ledger row of one workflow in one environment, oldest first.
    async fn deployment_history(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Vec<Deployment>>;

    async fn deployment(&self, id: &str) -> StoreResult<Option<Deployment>>;

    /// Finished runs of `version` in `environment` created since `since`.
    async fn run_counts(
        &self,
        workflow_id: &str,
        environment: &str,
        version: u32,
        since: DateTime<Utc>,
    ) -> StoreResult<RunCounts>;

    /// The latest run of the workflow in `environment` that finished.
    async fn last_finished_run(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<(String, RunStatus)>>;

    /// Runs of `version` in `environment` not finished yet.
    async fn unfinished_runs(
        &self,
        workflow_id: &str,
        environment: &str,
        version: u32,
    ) -> StoreResult<Vec<String>>;

    /// The people who wrote a version (for four eyes), where recorded.
    async fn version_authors(&self, workflow_id: &str, version: u32) -> StoreResult<Vec<String>>;
}
