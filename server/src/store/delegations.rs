//! Approvers' delegations in the store: an approver's rights in an
//! environment lent to a named person for a while. Each write appends its
//! audit record in the same transaction.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::Delegation;

/// A delegation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDelegation {
    pub id: String,
    pub delegation: Delegation,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which delegations to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct DelegationQuery<'a> {
    pub environment: Option<&'a str>,
    /// Only delegations in these environments; `None`: every one.
    pub visible: Option<&'a [String]>,
    pub limit: u32,
}

/// What revoking a delegation did.
#[derive(Debug, Clone, PartialEq)]
pub enum Revoked {
    Done(Box<StoredDelegation>),
    /// It was revoked already (at that moment): nothing changed.
    Already(DateTime<Utc>),
    NotFound,
}

#[async_trait]
pub trait DelegationStore: Send + Sync + 'static {
    /// Delegations in force in `environment` at `at`.
    async fn delegations(
        &self,
        environment: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Delegation>>;

    /// Stores a new delegation with its audit record.
    async fn create_delegation(
        &self,
        delegation: &StoredDelegation,
        audit: AuditEvent,
    ) -> StoreResult<()>;

    async fn delegation(&self, id: &str) -> StoreResult<Option<StoredDelegation>>;

    /// Delegations whatever their state, newest first.
    async fn delegation_list(
        &self,
        query: DelegationQuery<'_>,
    ) -> StoreResult<Vec<StoredDelegation>>;

    /// Revokes a delegation at `at` with its audit record, unless it was
    /// revoked already.
    async fn revoke_delegation(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Revoked>;
}
