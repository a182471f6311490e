//! A person's data across the store, for exporting it and for erasing a
//! departed person (docs/privacy.md lists every place).

use super::StoreResult;
use async_trait::async_trait;
use gantry_core::UserId;
use gantry_core::audit::{AuditEvent, AuditRecord};
use gantry_core::privacy::ErasureReport;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Rows by table, each row's columns as JSON.
pub type PersonRows = BTreeMap<String, Vec<Map<String, Value>>>;

/// What an erasure came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erasure {
    Done(ErasureReport),
    /// Nothing changed: the account is enabled (again), or gone.
    StillEnabled,
    /// Nothing changed: this many of the person's audit records are still
    /// of format 1 (the conversion at start-up refused a chain that did not
    /// verify), so their fields could not be erased.
    Unconverted(u64),
}

#[async_trait]
pub trait PersonalDataStore: Send + Sync + 'static {
    /// Every row about `user` outside the account itself and the audit log:
    /// sessions (expiry only), tokens, approvals, promotions, runs, …
    async fn person_rows(&self, user: &UserId) -> StoreResult<PersonRows>;

    /// Audit records in which `user` acted or which hold their personal
    /// fields, oldest first, at most `limit`.
    async fn person_audit_records(
        &self,
        user: &UserId,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>>;

    /// Erases `user` in one transaction, `event` (`user.erase`) appended
    /// last with the counts: names, usernames and e-mails become
    /// `pseudonym` (where a column holds a name with no id beside it, only
    /// names no other account has now), words they wrote read "[erased]",
    /// their sessions and rate-limit buckets go, their SCIM resource keeps
    /// only that the account is not active, and their personal fields in
    /// the audit log are deleted.
    async fn erase_person(
        &self,
        user: &UserId,
        pseudonym: &str,
        event: AuditEvent,
    ) -> StoreResult<Erasure>;
}
