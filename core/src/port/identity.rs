//! Who is calling: the page frame, how to sign in, dev and single sign-on
//! sign-in, sign-out, the caller's own roles and preferences, and the
//! overview every signed-in person sees.

use super::RequestContext;
use crate::error::PortError;
use crate::identity::{Me, Principal, VerifiedIdentity};
use crate::overview::{Overview, ShellInfo, SignInOptions};
use crate::preferences::Preferences;

/// Sign-in, sign-out and the caller's own view of themself.
#[async_trait::async_trait]
pub trait IdentityPort: Send + Sync {
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

    /// Signs in a person their identity provider vouched for: creates or
    /// refreshes their account (keyed by issuer and subject), replaces their
    /// group-derived grants from the role mapping, and records the sign-in,
    /// all in one transaction. `Forbidden` for a disabled account.
    async fn oidc_sign_in(
        &self,
        ctx: &RequestContext,
        identity: VerifiedIdentity,
    ) -> Result<Principal, PortError>;

    /// Records a single sign-on attempt the edge refused (bad state, a
    /// provider error, an invalid token), described by `reason`; never a
    /// token or code.
    async fn record_failed_sign_in(&self, ctx: &RequestContext, reason: &str);

    /// Records that the caller signs out (the edge then destroys the
    /// session). Works for anonymous callers, recording nothing.
    async fn sign_out(&self, ctx: &RequestContext) -> Result<(), PortError>;

    /// Records a credential the edge refused (an unknown, revoked or expired
    /// bearer token), described by `reason`; never the credential itself.
    async fn record_rejected_credential(&self, ctx: &RequestContext, reason: &str);

    /// Whether the caller may read `GET /metrics` on the main port (metrics
    /// tokens only); a refusal is on record.
    async fn authorize_metrics_scrape(&self, ctx: &RequestContext) -> Result<(), PortError>;

    /// The caller and every role they hold, with what granted it.
    async fn me(&self, ctx: &RequestContext) -> Result<Me, PortError>;

    async fn preferences(&self, ctx: &RequestContext) -> Result<Preferences, PortError>;

    async fn update_preferences(
        &self,
        ctx: &RequestContext,
        preferences: Preferences,
    ) -> Result<Preferences, PortError>;

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError>;
}
