//! The control-plane port: the one async interface that the dashboard's server
//! functions, the REST API and the CLI all call. Its implementation (in
//! `server`) authenticates nothing itself (callers arrive with a
//! [`RequestContext`]) but authorizes and audits every method, so no edge can
//! skip either.
//!
//! It is split by capability, like the store: one trait per capability in
//! its own file, combined by [`ControlPlane`]. A new capability adds a trait
//! here and a file implementing it in `server/src/plane/`. Callers holding a
//! [`SharedControlPlane`] call every method without importing anything;
//! callers holding the implementation itself `use` [`prelude`].

mod alerts;
mod approvals;
mod audit;
mod bundles;
mod canaries;
mod dead_letters;
mod delegations;
mod execution;
mod freezes;
mod identity;
mod passkeys;
mod promotions;
mod rate_limits;
mod retention;
mod runs;
mod scim;
mod secrets;
mod slo;
mod tokens;
mod users;
mod webhooks;
mod workflows;

pub use alerts::AlertPort;
pub use approvals::ApprovalPort;
pub use audit::AuditPort;
pub use bundles::BundlePort;
pub use canaries::{CanaryFilter, CanaryPort};
pub use dead_letters::DeadLetterPort;
pub use delegations::DelegationPort;
pub use execution::{ExecutionPort, SharedExecutionPort};
pub use freezes::FreezePort;
pub use identity::IdentityPort;
pub use passkeys::PasskeyPort;
pub use promotions::PromotionPort;
pub use rate_limits::RateLimitPort;
pub use retention::RetentionPort;
pub use runs::RunPort;
pub use scim::ScimPort;
pub use secrets::SecretPort;
pub use slo::SloPort;
pub use tokens::TokenPort;
pub use users::UserPort;
pub use webhooks::WebhookPort;
pub use workflows::WorkflowPort;

use crate::error::PortError;
use crate::identity::Principal;
use std::sync::Arc;

/// Who is calling and from where, as established by the edge (session
/// cookie, bearer token, CLI) before any port method runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `None` for anonymous callers; methods that need a caller return
    /// [`PortError::Unauthenticated`].
    pub principal: Option<Principal>,
    /// Correlates logs, traces and audit records of one request.
    pub request_id: String,
    /// The W3C trace id the caller sent (`traceparent`), if any.
    pub trace_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The caller, or `Unauthenticated`.
    pub fn require_principal(&self) -> Result<&Principal, PortError> {
        self.principal.as_ref().ok_or(PortError::Unauthenticated)
    }
}

/// Every capability the dashboard, the REST API and the CLI call. Implement
/// the capability traits; this one follows.
pub trait ControlPlane:
    IdentityPort
    + WorkflowPort
    + RunPort
    + ApprovalPort
    + TokenPort
    + UserPort
    + ScimPort
    + AuditPort
    + PromotionPort
    + DelegationPort
    + SecretPort
    + AlertPort
    + SloPort
    + FreezePort
    + CanaryPort
    + BundlePort
    + WebhookPort
    + RateLimitPort
    + DeadLetterPort
    + RetentionPort
    + PasskeyPort
    + Send
    + Sync
    + 'static
{
}

impl<T> ControlPlane for T where
    T: IdentityPort
        + WorkflowPort
        + RunPort
        + ApprovalPort
        + TokenPort
        + UserPort
        + ScimPort
        + AuditPort
        + PromotionPort
        + DelegationPort
        + SecretPort
        + AlertPort
        + SloPort
        + FreezePort
        + CanaryPort
        + BundlePort
        + WebhookPort
        + RateLimitPort
        + DeadLetterPort
        + RetentionPort
        + PasskeyPort
        + Send
        + Sync
        + 'static
        + ?Sized
{
}

/// How the port travels through axum state and Leptos context.
pub type SharedControlPlane = Arc<dyn ControlPlane>;

/// Every port trait, for calling methods on the implementation itself
/// (rather than through [`SharedControlPlane`]).
pub mod prelude {
    pub use super::{
        AlertPort, ApprovalPort, AuditPort, BundlePort, CanaryPort, ControlPlane, DeadLetterPort,
        DelegationPort, ExecutionPort, FreezePort, IdentityPort, PasskeyPort, PromotionPort,
        RateLimitPort, RunPort, ScimPort, SecretPort, SloPort, TokenPort, UserPort, WebhookPort,
        WorkflowPort,
    };
}
