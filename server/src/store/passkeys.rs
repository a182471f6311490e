//! Break-glass passkeys in the store: the credentials (each registration
//! and revocation with its audit record in one transaction, the cap per
//! person held under the owner's row lock) and the WebAuthn ceremonies
//! between their two calls, each taken once.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::UserId;
use gantry_core::audit::AuditEvent;
use gantry_core::break_glass::PasskeyView;

/// A passkey to add.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    /// base64url, unique across accounts.
    pub credential_id: String,
    /// webauthn-rs's serialized passkey.
    pub credential: String,
    pub created_at: DateTime<Utc>,
}

/// A passkey with what verifying a sign-in needs.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub view: PasskeyView,
    pub credential_id: String,
    pub credential: String,
}

/// Why a passkey was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyRefused {
    /// The owner holds the most passkeys allowed already.
    AtCap,
    /// That credential is registered already (to anyone).
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    Register,
    SignIn,
}

impl CeremonyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyPurpose::Register => "register",
            CeremonyPurpose::SignIn => "sign_in",
        }
    }
}

/// A ceremony begun: webauthn-rs's state for its second half.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub id: String,
    pub purpose: CeremonyPurpose,
    /// Who registers, or whose passkeys may sign in.
    pub user_id: UserId,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// Everyone's passkeys, or one person's, newest first.
    async fn passkeys(&self, owner: Option<&UserId>) -> StoreResult<Vec<PasskeyView>>;

    /// One person's passkeys with their credentials.
    async fn passkey_credentials(&self, owner: &UserId) -> StoreResult<Vec<StoredPasskey>>;

    /// Keeps a ceremony until its finish (dropping ceremonies expired
    /// before `now` on the way).
    async fn begin_passkey_ceremony(
        &self,
        ceremony: &Ceremony,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Takes (deletes) a ceremony of `purpose`; `None` when there is none
    /// or it expired.
    async fn take_passkey_ceremony(
        &self,
        id: &str,
        purpose: CeremonyPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Ceremony>>;

    /// Adds a passkey unless its owner holds `cap` already or the
    /// credential is registered; the record appended in the same
    /// transaction.
    async fn add_passkey(
        &self,
        passkey: &NewPasskey,
        cap: u32,
        audit: AuditEvent,
    ) -> StoreResult<Result<PasskeyView, PasskeyRefused>>;

    async fn passkey(&self, id: &str) -> StoreResult<Option<PasskeyView>>;

    /// Deletes one, with its record; `None` when there was none.
    async fn revoke_passkey(&self, id: &str, audit: AuditEvent)
    -> StoreResult<Option<PasskeyView>>;

    /// A sign-in with it passed: its updated credential (the signature
    /// counter) and when, with the sign-in's record. `false` when it was
    /// revoked meanwhile (nothing written).
    async fn passkey_used(
        &self,
        id: &str,
        credential: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
}
