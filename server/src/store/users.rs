//! The people half of the store: accounts, their role grants and display
//! preferences. Both adapters implement it from `portable/users.rs`.

use super::{SeedUser, StoreResult, UserRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::{Preferences, RoleGrant, UserId, VerifiedIdentity};

/// Builds a sign-in's audit record once the account's id is known.
pub type SignInRecord = Box<dyn FnOnce(&UserId) -> AuditEvent + Send>;

/// What became of a single sign-on sign-in at the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcUpsert {
    /// The account exists (created or refreshed) with the given grants, and
    /// the sign-in is on the record.
    SignedIn(UserId),
    /// The account is disabled: nothing changed.
    Disabled(UserId),
    /// Another account already has this username: nothing changed.
    UsernameTaken,
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates or refreshes a seeded account and replaces its seeded grants,
    /// in one transaction.
    async fn upsert_seed_user(&self, seed: &SeedUser, now: DateTime<Utc>) -> StoreResult<UserId>;

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>>;

    async fn grants_for(&self, id: &UserId) -> StoreResult<Vec<RoleGrant>>;

    /// The user and their grants (in [`Self::grants_for`]'s order), read
    /// together.
    async fn user_with_grants(
        &self,
        id: &UserId,
    ) -> StoreResult<Option<(UserRecord, Vec<RoleGrant>)>>;

    /// Creates or refreshes the account of a single sign-on identity (keyed
    /// by issuer and subject), replaces its group-derived grants (source
    /// `group:…`) with `grants`, and appends the record `audit` builds, in
    /// one transaction.
    async fn upsert_oidc_user(
        &self,
        identity: &VerifiedIdentity,
        grants: &[RoleGrant],
        now: DateTime<Utc>,
        audit: SignInRecord,
    ) -> StoreResult<OidcUpsert>;

    /// Returns false when the user does not exist.
    async fn set_preferences(
        &self,
        id: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Notes an interactive sign-in (its time, and the audit record) in one
    /// transaction. Returns false when the account is gone or disabled.
    async fn record_sign_in(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;

    /// Every account with its grants, by display name.
    async fn list_users(&self) -> StoreResult<Vec<(UserRecord, Vec<RoleGrant>)>>;

    /// Disables or re-enables an account with its audit record, in one
    /// transaction. Disabling also ends every session started so far.
    /// Returns false when the account does not exist.
    async fn set_user_disabled(
        &self,
        id: &UserId,
        disabled: bool,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
}
