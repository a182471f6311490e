//! The secret provider port: what Gantry asks of a place secrets live
//! (OpenBao/Vault, the process environment, files). Adapters live in the
//! server (`server/src/secrets/`); the worker calls them through this trait
//! only, once per reference per attempt, and never keeps what they return
//! beyond the attempt.
//!
//! Errors carry what went wrong and where, never a value: a provider's
//! message is shown in the attempt's log and stored in its audit record.

use super::SecretValue;
use std::time::Duration;

/// One fetch: the reference's path with its placeholders filled in, and its
/// key when the provider stores several values under one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest<'a> {
    pub path: &'a str,
    pub key: Option<&'a str>,
}

/// What a provider handed back.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub value: SecretValue,
    /// The version read, for providers that keep versions (KV v2): recorded
    /// in the audit record so a rotation can be traced to the attempt that
    /// first used it.
    pub version: Option<u64>,
    /// A dynamic credential's lease, renewed while the attempt runs and
    /// revoked when it ends.
    pub lease: Option<SecretLease>,
    /// More values of the same credential, by suffix: the step gets each as
    /// `NAME_SUFFIX` (a database credential's `USERNAME`).
    pub also: Vec<(String, SecretValue)>,
}

/// A lease on a dynamic credential. The id names the lease; it is not a
/// credential (revoking it needs the provider's own authority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretLease {
    pub id: String,
    pub duration: Duration,
    pub renewable: bool,
}

/// Why a fetch failed; the text names the reference's path, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Nothing at the path, or the entry has no such key.
    #[error("not found: {0}")]
    NotFound(String),
    /// The provider refused Gantry's credentials for this path.
    #[error("permission denied: {0}")]
    Denied(String),
    /// The provider could not be reached or did not answer in time.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider answered, but the value can't be used (not text, too
    /// short to mask, …).
    #[error("unusable value: {0}")]
    Unusable(String),
    /// Anything else the provider reported.
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// The outcome word in audit records and metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            FetchError::NotFound(_) => "not_found",
            FetchError::Denied(_) => "denied",
            FetchError::Unreachable(_) => "unreachable",
            FetchError::Unusable(_) => "unusable",
            FetchError::Other(_) => "error",
        }
    }
}

/// A provider's state as the Admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderHealth {
    pub reachable: bool,
    pub authenticated: bool,
    /// The last error seen, if the provider is not healthy.
    pub error: Option<String>,
}

/// A place secrets are fetched from.
#[async_trait::async_trait]
pub trait SecretProvider: Send + Sync + 'static {
    /// Reads one value. Implementations bound their own network waits; the
    /// caller also bounds the whole fetch with the configured timeout.
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError>;

    /// Extends a dynamic credential's lease by about `increment`; returns
    /// the lease's new duration.
    async fn renew(
        &self,
        lease: &SecretLease,
        increment: Duration,
    ) -> Result<Duration, FetchError> {
        let _ = increment;
        Err(FetchError::Other(format!(
            "this provider does not renew leases ({})",
            lease.id
        )))
    }

    /// Ends a dynamic credential's lease now: the credential stops working.
    async fn revoke(&self, lease: &SecretLease) -> Result<(), FetchError> {
        Err(FetchError::Other(format!(
            "this provider does not revoke leases ({})",
            lease.id
        )))
    }

    /// Drops cached values: the one `target` names, or all of them; returns
    /// how many went. Providers without a cache have nothing to drop.
    async fn invalidate(&self, target: Option<FetchRequest<'_>>) -> usize {
        let _ = target;
        0
    }

    /// Whether the provider is reachable and accepts Gantry's credentials.
    async fn health(&self) -> ProviderHealth;
}
