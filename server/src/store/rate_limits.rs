//! Rate limits in the store: admins' overrides (each change with its audit
//! record in one transaction) and, for `--rate-limit-store database`, the
//! buckets every process shares: one atomic statement per check.

use super::StoreResult;
use async_trait::async_trait;
use gantry_core::audit::AuditEvent;
use gantry_core::ratelimit::{Quota, RateLimitOverride};

/// A bucket's answer: allowed or not, and its TAT (µs since the epoch)
/// after the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub allowed: bool,
    pub tat: i64,
}

#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// One request against `key`'s bucket at `now` (µs): the GCRA step of
    /// `gantry_core::ratelimit::admit`, atomic across processes.
    async fn take_rate_limit(&self, key: &str, quota: Quota, now: i64) -> StoreResult<Taken>;

    /// Drops buckets full again before `before` (µs).
    async fn purge_rate_limit_buckets(&self, before: i64) -> StoreResult<u64>;

    async fn rate_limit_overrides(&self) -> StoreResult<Vec<RateLimitOverride>>;

    /// Sets (or replaces, for the same subject and class) an override.
    async fn put_rate_limit_override(
        &self,
        rule: &RateLimitOverride,
        audit: AuditEvent,
    ) -> StoreResult<RateLimitOverride>;

    /// Deletes one; `None` when there was none.
    async fn delete_rate_limit_override(
        &self,
        id: &str,
        audit: AuditEvent,
    ) -> StoreResult<Option<RateLimitOverride>>;
}
