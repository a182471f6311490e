//! The control-plane port: the one async interface that the dashboard's server
//! functions, the REST API and the CLI all call. Its implementation (in
//! `server`) authenticates nothing itself (callers arrive with a
//! [`RequestContext`]) but authorizes and audits every method, so no edge can
//! skip either.

use crate::error::PortError;
use crate::identity::Principal;
use crate::overview::{Overview, ShellInfo, SignInOptions};
use crate::preferences::Preferences;
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
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The caller, or `Unauthenticated`.
    pub fn require_principal(&self) -> Result<&Principal, PortError> {
        self.principal.as_ref().ok_or(PortError::Unauthenticated)
    }
}

#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + 'static {
    /// The frame around every page. Works for anonymous callers.
    async fn shell(&self, ctx: &RequestContext) -> Result<ShellInfo, PortError>;

    /// How one can sign in here. Works for anonymous callers.
    async fn sign_in_options(&self, ctx: &RequestContext) -> Result<SignInOptions, PortError>;

    /// Signs in as a seeded demo user. Only in dev mode; `NotFound` otherwise,
    /// so production servers don't even admit the feature exists.
    async fn dev_sign_in(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<Principal, PortError>;

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError>;

    async fn preferences(&self, ctx: &RequestContext) -> Result<Preferences, PortError>;

    async fn update_preferences(
        &self,
        ctx: &RequestContext,
        preferences: Preferences,
    ) -> Result<Preferences, PortError>;
}

/// How the port travels through axum state and Leptos context.
pub type SharedControlPlane = Arc<dyn ControlPlane>;
