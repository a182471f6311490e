//! Service tokens in the store: creation, listing and revocation, each
//! audited in its own transaction; looking a presented token up; and the
//! bootstrap token start-up writes. Both adapters implement it from
//! `portable/tokens.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::token::{ServiceToken, TokenKind};
use gantry_core::{Role, RoleGrant};

/// A token to store: its secret only as a hash.
pub struct NewTokenRecord<'a> {
    pub name: &'a str,
    pub token_hash: &'a str,
    pub hint: &'a str,
    /// `(role, "*" or environment)`.
    pub grants: &'a [(Role, String)],
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: &'a str,
    /// The person answerable for it (`None`: unknown, for a token made by
    /// a token whose own maker was never recorded).
    pub maker: Option<&'a Person>,
    pub can_create_tokens: bool,
    pub kind: TokenKind,
}

/// A token the system itself holds (the bootstrap token): made by and
/// acting for `system`, and allowed to make tokens. Its secret only as a
/// hash.
pub struct SystemToken<'a> {
    pub name: &'a str,
    pub token_hash: &'a str,
    pub hint: &'a str,
    /// `(role, "*" or environment)`.
    pub grants: &'a [(Role, String)],
}

/// An API token that matched.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub kind: TokenKind,
    pub grants: Vec<RoleGrant>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    Token(Box<ServiceToken>),
    /// Names are unique for good (revoked tokens keep theirs).
    NameTaken,
}

#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Creates or replaces the named system token's hash and grants.
    async fn upsert_token(
        &self,
        token: SystemToken<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<()>;

    /// Whether a token of this name was ever made (revoked ones count).
    async fn token_exists(&self, name: &str) -> StoreResult<bool>;

    /// The live (unrevoked, unexpired) token with this hash; records its use.
    async fn token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TokenRecord>>;

    async fn create_token(
        &self,
        new: NewTokenRecord<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Created>;

    /// Every token (service and SCIM), newest first, revoked and expired
    /// ones too.
    async fn list_tokens(&self) -> StoreResult<Vec<ServiceToken>>;

    /// By id or name.
    async fn find_token(&self, id_or_name: &str) -> StoreResult<Option<ServiceToken>>;

    /// Revokes the token (by id or name) at once; a second revocation
    /// changes nothing. `None` when there is no such token.
    async fn revoke_token(
        &self,
        id_or_name: &str,
        by: &str,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Option<ServiceToken>>;
}
