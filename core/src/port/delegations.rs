//! Delegating approvals: an approver going on leave lends their approval
//! right in one environment to a named person for a while. Promotion and
//! run approvals both honour delegations in force.

use super::RequestContext;
use crate::error::PortError;
use crate::promotion::delegation_view::{DelegationFilter, DelegationView, NewDelegation};

/// Making, listing and revoking delegations.
#[async_trait::async_trait]
pub trait DelegationPort: Send + Sync {
    /// Lends the caller's approvals in an environment (a person signed in
    /// recently, holding `approver` or `admin` there) to another person.
    async fn delegate_approvals(
        &self,
        ctx: &RequestContext,
        new: NewDelegation,
    ) -> Result<DelegationView, PortError>;

    /// Delegations, newest first, in the environments the caller may see:
    /// in force, scheduled, ended and revoked alike.
    async fn list_delegations(
        &self,
        ctx: &RequestContext,
        filter: DelegationFilter,
    ) -> Result<Vec<DelegationView>, PortError>;

    /// Ends a delegation now (its delegator, or an admin of its
    /// environment).
    async fn revoke_delegation(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<DelegationView, PortError>;
}
