//! Verifications in the store: the row written with each verified ledger
//! row (`portable/promotions.rs`, in the pointer move's transaction, when
//! the environment's policy names a verification workflow), claimed by
//! the promotion pass when it starts the run, and finished once with its
//! outcome. Each change is a compare-and-set on the state, with its audit
//! record in the same transaction.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::verification::{Verification, VerificationState};

/// Which verifications to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct VerificationQuery<'a> {
    pub workflow: Option<&'a str>,
    pub environment: Option<&'a str>,
    /// Only these environments (the caller's visible ones); `None`: all.
    pub visible: Option<&'a [String]>,
    pub limit: u32,
}

/// A verification's outcome.
pub struct VerificationOutcome<'a> {
    pub id: &'a str,
    pub state: VerificationState,
    pub why: &'a str,
    /// The rollback its failure made.
    pub rollback_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait VerificationStore: Send + Sync + 'static {
    /// Pending and running verifications, oldest first.
    async fn open_verifications(&self, limit: u32) -> StoreResult<Vec<Verification>>;

    /// Marks a pending verification running, its run id its own, at `at`.
    /// `false`: someone else claimed it first.
    async fn claim_verification(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Records the outcome of an unfinished verification. `false`: it was
    /// finished already.
    async fn finish_verification(
        &self,
        outcome: VerificationOutcome<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    async fn verifications(&self, query: VerificationQuery<'_>) -> StoreResult<Vec<Verification>>;

    /// The latest verification of a ledger row the promotion request
    /// `request_id` made (its promotion, or its canary's at the end).
    async fn verification_for_request(&self, request_id: &str)
    -> StoreResult<Option<Verification>>;

    /// Failed verifications nothing has moved on from: the latest of their
    /// workflow in their environment, but for the rollback their own
    /// failure made (what the `rollout_attention` alert rules watch).
    async fn failed_last_verifications(&self, limit: u32) -> StoreResult<Vec<Verification>>;

    /// The latest verification of `workflow` in `environment`.
    async fn last_verification(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<Verification>>;
}
