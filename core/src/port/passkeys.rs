//! Break-glass passkeys ([`crate::break_glass`]): registering one (admin
//! in every environment, step-up, a cap per person), listing and revoking,
//! and the two halves of a break-glass sign-in. The browser's WebAuthn
//! answers travel as the JSON `PublicKeyCredential.toJSON()` gives; the
//! server verifies them. The edge turns a sign-in that passed into a
//! session (`/auth/break-glass`).

use super::RequestContext;
use crate::break_glass::{BreakGlassSession, PasskeyCeremony, PasskeyView};
use crate::error::PortError;

#[async_trait::async_trait]
pub trait PasskeyPort: Send + Sync {
    /// Every passkey for admins and auditors (the Users page), one's own
    /// for anyone else.
    async fn passkeys(&self, ctx: &RequestContext) -> Result<Vec<PasskeyView>, PortError>;

    /// Begins registering a passkey for the caller: admin in every
    /// environment, a recent sign-in, not a break-glass session, fewer
    /// passkeys than the cap. The options exclude the caller's passkeys.
    async fn start_passkey_registration(
        &self,
        ctx: &RequestContext,
    ) -> Result<PasskeyCeremony, PortError>;

    /// Finishes it with the browser's answer (`passkey.register`): the
    /// ceremony is used up whatever the outcome.
    async fn finish_passkey_registration(
        &self,
        ctx: &RequestContext,
        ceremony: &str,
        name: &str,
        credential: serde_json::Value,
    ) -> Result<PasskeyView, PortError>;

    /// Revokes one (`passkey.revoke`): its owner, or an admin of every
    /// environment.
    async fn revoke_passkey(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<PasskeyView, PortError>;

    /// Begins a break-glass sign-in as `username` (anonymous callers):
    /// the options list that person's passkeys.
    async fn start_break_glass(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<PasskeyCeremony, PortError>;

    /// Finishes it (`auth.break_glass`, failed or succeeded): the passkey
    /// verifies, its owner's account is enabled and still admin in every
    /// environment. The ceremony is used up whatever the outcome.
    async fn finish_break_glass(
        &self,
        ctx: &RequestContext,
        ceremony: &str,
        credential: serde_json::Value,
    ) -> Result<BreakGlassSession, PortError>;
}
