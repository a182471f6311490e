//! What the promotion port takes and answers: the bodies of the REST API,
//! the dashboard's server functions and the CLI alike.

use super::diff::SpecDiff;
use super::evaluation::ChecklistSnapshot;
use super::gate::GateDecision;
use super::ledger::{Deployment, DeploymentKind};
use super::policy::{EnvironmentPolicy, EnvironmentPosition};
use super::request::{PromotionRequest, PromotionState};
use crate::approval::Person;
use crate::run::RunStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/workflows/{name}/promotions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromotionAsk {
    /// The environment after the one the version is active in.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::Environment))]
    pub to_environment: String,
    /// Defaults to the version active in the environment before the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Why (kept in the deployment ledger); not blank.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::text::reason_schema))]
    pub reason: String,
    /// Promote a version that was rolled back in the target after all.
    #[serde(default)]
    pub confirm_rolled_back: bool,
}

/// A request's answer: promoted at once (nothing was required) or waiting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PromotionOutcome {
    Promoted { deployment: Box<Deployment> },
    Pending { promotion: Box<PromotionDetail> },
}

/// One request with everything its page shows, evaluated now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionDetail {
    pub request: PromotionRequest,
    /// The target's policy as it applies now.
    pub policy: EnvironmentPolicy,
    /// The checklist evaluated live (for a decided request: as stored
    /// with its deployment, or as last evaluated).
    pub checklist: ChecklistSnapshot,
    pub gate: GateDecision,
    /// The candidate against the version active in the target.
    pub diff: SpecDiff,
    /// The ledger row a promoted request made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Delegations in force in the target now (shown on the page).
    #[serde(default)]
    pub delegations: Vec<super::delegation::Delegation>,
    /// The freeze in force in the target, and a break recorded for this
    /// request (docs/ops/freezes.md).
    #[serde(default)]
    pub freeze: crate::freeze::RequestFreeze,
    /// The canary this request started, or the one a green request waits
    /// for (live, or holding promotions after an automatic rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::canary::Canary>,
    /// Why a request whose gate is green still waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// The verification of the promotion this request made (its canary's,
    /// for a canary), when the target's policy names a verification
    /// workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<super::verification::Verification>,
}

/// `GET /api/v1/promotions` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct PromotionFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PromotionState>,
}

/// What a person does to a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromotionDecision {
    Approve,
    Reject,
    Cancel,
}

/// `POST /api/v1/promotions/{id}/checklist/{item}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChecklistMark {
    pub checked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// `POST /api/v1/workflows/{name}/rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackAsk {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::Environment))]
    pub environment: String,
    /// Defaults to the version active before the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<u32>,
    /// Why (kept in the deployment ledger); not blank.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::text::reason_schema))]
    pub reason: String,
    /// Cancel the runs of the rolled-back version still going.
    #[serde(default)]
    pub cancel_running: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollbackOutcome {
    pub deployment: Deployment,
    /// Runs of the rolled-back version cancelled on request.
    pub cancelled_runs: Vec<String>,
}

/// `GET /api/v1/deployments` filters. With `at`, the answer is the row in
/// force at that moment for each workflow and environment: which version
/// was active then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct DeploymentFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/verifications` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct VerificationFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::Environment>))]
    pub environment: Option<String>,
}

/// An environment's policy as it applies, and whether an admin set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyView {
    pub environment: String,
    pub position: EnvironmentPosition,
    pub policy: EnvironmentPolicy,
    /// No admin saved one: the default for the environment's place.
    pub is_default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The Promotions page: workflows × environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionBoard {
    pub environments: Vec<String>,
    pub rows: Vec<BoardRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardRow {
    pub workflow: String,
    /// One per environment, in order.
    pub cells: Vec<BoardCell>,
}

/// One workflow in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardCell {
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveCell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRunCell>,
    /// The open request into this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingCell>,
    /// What a rollback without a version would return to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<u32>,
    /// Versions rolled back here (promote them again only on purpose).
    #[serde(default)]
    pub rolled_back: Vec<u32>,
    /// The version a promotion into the next environment would move
    /// (`None` in the last environment, or with nothing active here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotable: Option<u32>,
    /// The canary live here, or the one whose automatic rollback holds
    /// promotions (its bar on the Promotions page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::canary::Canary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveCell {
    pub version: u32,
    pub since: DateTime<Utc>,
    pub by: String,
    pub kind: DeploymentKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastRunCell {
    pub id: String,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingCell {
    pub id: String,
    pub version: u32,
    /// Checklist items green, of all.
    pub checklist_done: u32,
    pub checklist_total: u32,
    /// Approvals that count, of those required.
    pub approvals: u32,
    pub approvals_required: u32,
}
