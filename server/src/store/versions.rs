//! Workflows and their immutable versions: registering a version, which
//! version is active in which environment, and the workflow list and
//! detail views. Both adapters implement it from `portable/versions.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::spec::WorkflowSpec;
use gantry_core::workflow::{ApplyOutcome, WorkflowDetail, WorkflowSummary};
use std::sync::Arc;

/// A validated spec to register.
pub struct NewVersion<'a> {
    pub spec: &'a WorkflowSpec,
    pub source: &'a str,
    pub created_by: &'a str,
    /// The person behind `created_by`, for four eyes (`None`: unknown).
    pub created_by_person: Option<&'a str>,
    /// Where a newly created version becomes active (the first environment).
    pub activate_in: &'a str,
    /// First fire of its schedule there, if it has one.
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// The version active in one environment, with its spec.
#[derive(Debug, Clone)]
pub struct ActiveSpec {
    pub workflow_id: String,
    pub workflow: String,
    pub version: u32,
    pub spec: Arc<WorkflowSpec>,
}

/// How workflow reads are shaped for the one asking.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowView<'a> {
    /// The configured environments in promotion order (active versions are
    /// listed in it).
    pub environments: &'a [String],
    /// The environments whose runs the reader may see (`last_run` and
    /// `recent_runs` come only from them); `None`: every one.
    pub runs_in: Option<&'a [String]>,
}

#[async_trait]
pub trait VersionStore: Send + Sync + 'static {
    /// Registers a version (or finds the identical one) in one transaction.
    ///
    /// Every store write that takes an `audit` event appends it in the same
    /// transaction as the change (fail closed: no record, no change).
    async fn apply_version(
        &self,
        new: NewVersion<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApplyOutcome>;

    async fn active_spec(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<ActiveSpec>>;

    /// Whether a workflow of this name exists at all.
    async fn workflow_exists(&self, workflow: &str) -> StoreResult<bool>;

    /// An immutable version's spec (cached: versions never change).
    async fn version_spec(&self, workflow_id: &str, version: u32)
    -> StoreResult<Arc<WorkflowSpec>>;

    async fn list_workflows(&self, view: WorkflowView<'_>) -> StoreResult<Vec<WorkflowSummary>>;

    /// Every workflow's name, sorted.
    async fn workflow_names(&self) -> StoreResult<Vec<String>>;

    async fn workflow_detail(
        &self,
        workflow: &str,
        version: Option<u32>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Option<WorkflowDetail>>;
}
