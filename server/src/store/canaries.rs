//! Canaries in the store: starting one in place of a promotion, the live
//! canary a run's admission reads, the facts an evaluation judges, and the
//! changes of state, each with its ledger row and audit record in the
//! change's own transaction. Ending one (rollback or abort) moves its
//! queued runs to the stable version and, when the policy says so, stops
//! its running ones, in that same transaction.

use super::StoreResult;
use super::versions::ActiveSpec;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::canary::{Canary, CanaryEvaluation, CanaryPolicy, CanaryState, StepFacts};
use gantry_core::promotion::evaluation::ChecklistSnapshot;
use gantry_core::promotion::request::PromotionState;

/// A canary to start for a promotion request whose gate is green.
pub struct NewCanary<'a> {
    pub workflow_id: &'a str,
    pub workflow: &'a str,
    pub environment: &'a str,
    pub request_id: &'a str,
    pub stable_version: u32,
    pub canary_version: u32,
    pub policy: &'a CanaryPolicy,
    pub started_by: &'a Person,
    pub reason: &'a str,
    pub approvers: &'a [Person],
    pub checklist: &'a ChecklistSnapshot,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    Done(Box<Canary>),
    /// The pointer moved meanwhile: nothing changed.
    Stale {
        active: Option<u32>,
    },
    NotPending(PromotionState),
    /// Another canary of this workflow is live there.
    Busy,
}

/// A change of a live canary's state, applied only if it is still in
/// `expected` at `step` (compare-and-set: the pass and people racing
/// change it once).
pub struct CanaryChange<'a> {
    pub id: &'a str,
    pub expected: CanaryState,
    pub step: u32,
    pub at: DateTime<Utc>,
    pub what: ChangeKind<'a>,
}

pub enum ChangeKind<'a> {
    Advance {
        to_step: u32,
        weight: u8,
    },
    Pause {
        why: &'a str,
    },
    Resume,
    /// The canary becomes the active version (ledger: a promotion row).
    Promote {
        actor: &'a Person,
        reason: &'a str,
        next_fire_at: Option<DateTime<Utc>>,
    },
    /// Weight 0, the stable version stays (ledger: a rollback row).
    End {
        state: CanaryState,
        actor: &'a Person,
        why: &'a str,
        /// Hold later promotions of this workflow here (automatic
        /// rollbacks).
        hold: bool,
        cancel_running: bool,
        /// Where queued canary runs go.
        stable: &'a ActiveSpec,
    },
    ClearHold,
}

/// What a change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    Done {
        canary: Box<Canary>,
        /// Queued runs moved to the stable version, and running ones
        /// stopped, by an end.
        readmitted: Vec<String>,
        stopped: Vec<String>,
    },
    /// It was no longer in the expected state or step.
    Stale(Box<Canary>),
    NotFound,
}

/// Which canaries to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CanaryQuery<'a> {
    pub workflow: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub live_only: bool,
    /// Only canaries rolled back automatically whose hold nobody cleared.
    pub held_only: bool,
    /// Only these environments; `None`: every one.
    pub visible: Option<&'a [String]>,
    pub limit: u32,
}

#[async_trait]
pub trait CanaryStore: Send + Sync + 'static {
    /// Starts a canary: the request is marked promoted (its gate passed)
    /// and the ledger gets a canary row, while the pointer stays.
    async fn start_canary(&self, new: NewCanary<'_>, audit: AuditEvent) -> StoreResult<Started>;

    /// The live canary of a workflow in an environment (read at every
    /// admission there).
    async fn live_canary(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<Canary>>;

    async fn canary(&self, id: &str) -> StoreResult<Option<Canary>>;

    /// Newest first.
    async fn canaries(&self, query: CanaryQuery<'_>) -> StoreResult<Vec<Canary>>;

    /// Oldest first.
    async fn canary_evaluations(&self, id: &str) -> StoreResult<Vec<CanaryEvaluation>>;

    /// Whether a hold after an automatic rollback stops promotions of the
    /// workflow into the environment.
    async fn canary_hold(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<String>>;

    /// The runs admitted to either arm since `since`, finished and not
    /// pinned or cancelled (freeze left to the caller).
    async fn canary_facts(&self, canary: &Canary, since: DateTime<Utc>) -> StoreResult<StepFacts>;

    /// Stores a judgement as the canary's latest (and in its history).
    async fn record_evaluation(&self, id: &str, evaluation: &CanaryEvaluation) -> StoreResult<()>;

    async fn change_canary(
        &self,
        change: CanaryChange<'_>,
        audit: AuditEvent,
    ) -> StoreResult<Changed>;
}
