//! The people half of the store: accounts, their role grants and display
//! preferences. Both adapters implement it from `portable_users.rs`.

use super::{SeedUser, StoreResult, UserRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::{Preferences, RoleGrant, UserId};

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates or refreshes a seeded account and replaces its seeded grants,
    /// in one transaction.
    async fn upsert_seed_user(&self, seed: &SeedUser, now: DateTime<Utc>) -> StoreResult<UserId>;

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>>;

    async fn grants_for(&self, id: &UserId) -> StoreResult<Vec<RoleGrant>>;

    /// Returns false when the user does not exist.
    async fn set_preferences(
        &self,
        id: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
}
