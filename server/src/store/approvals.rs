//! Four-eyes approval requests in the store. A decision and what it causes
//! (the run, on approval) and its audit record commit together.

use super::StoreResult;
use super::runs::NewRun;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::{ApprovalDecided, ApprovalRequest, ApprovalStatus, Person};
use gantry_core::audit::AuditEvent;
use serde_json::Value;
use std::collections::BTreeMap;

/// A request to store.
pub struct NewApproval<'a> {
    pub workflow_id: &'a str,
    pub workflow: &'a str,
    pub version: u32,
    pub environment: &'a str,
    pub inputs: &'a BTreeMap<String, Value>,
    pub reason: Option<&'a str>,
    pub requested_by: &'a Person,
    /// The person behind the requester's credential (four eyes).
    pub requester_person: &'a str,
}

/// A request as stored, with what its run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredApproval {
    pub request: ApprovalRequest,
    /// The person behind who asked (four eyes compares people).
    pub requester_person: String,
    /// The person behind who wrote the version that would run, where
    /// recorded.
    pub author_person: Option<String>,
    pub workflow_id: String,
    pub inputs: BTreeMap<String, Value>,
}

/// A decision to record.
pub struct StoreDecision<'a> {
    pub approve: bool,
    pub decider: &'a Person,
    pub comment: Option<&'a str>,
    /// The run an approval starts (ignored on rejection).
    pub run: Option<NewRun<'a>>,
}

/// What deciding did.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    Done(Box<ApprovalDecided>),
    /// Someone else decided first, or it expired meanwhile: nothing changed.
    NoLongerPending(ApprovalStatus),
    NotFound,
}

#[async_trait]
pub trait ApprovalStore: Send + Sync + 'static {
    async fn create_approval(
        &self,
        new: NewApproval<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApprovalRequest>;

    /// A request with the inputs its run would get.
    async fn approval(&self, id: &str) -> StoreResult<Option<StoredApproval>>;

    /// Newest first; `pending` narrows to undecided, unexpired ones.
    async fn list_approvals(
        &self,
        pending: Option<bool>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalRequest>>;

    /// Records the decision (and, on approval, creates its run) in one
    /// transaction, if the request is still pending at `now`.
    async fn decide_approval(
        &self,
        id: &str,
        decision: StoreDecision<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Decided>;
}
