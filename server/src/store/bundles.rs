//! Versions registered from a signed bundle, with where they came from.
//! Both adapters implement it from `portable/bundles.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::bundle::{ImportedVersion, VerifiedBundle, VersionClash};

/// A verified bundle to register, and who does it.
pub struct NewImport<'a> {
    pub bundle: &'a VerifiedBundle,
    pub imported_by: &'a str,
    /// The person behind `imported_by` (the versions' author here, for four
    /// eyes).
    pub imported_by_person: Option<&'a str>,
}

#[async_trait]
pub trait BundleStore: Send + Sync + 'static {
    /// Registers every version of the bundle in one transaction, active
    /// nowhere, with a `bundle_imports` row each; content already here is
    /// reported as present. A version number holding other content
    /// rolls everything back and answers the clash. The audit event is
    /// appended in the same transaction, with the versions' outcome.
    async fn import_versions(
        &self,
        new: NewImport<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Result<Vec<ImportedVersion>, VersionClash>>;
}
