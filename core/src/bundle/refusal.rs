//! Why a bundle is refused. Every message names what is wrong and where,
//! so whoever holds the file knows whether it was damaged, tampered with,
//! signed by someone this installation doesn't trust, or written by a
//! newer Gantry. Nothing is registered when any of them applies.

use crate::error::PortError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum BundleRefusal {
    #[error("the bundle is {bytes} bytes; the limit is {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
    #[error(
        "the bundle is truncated: its JSON ends early (line {line}, column {column}); \
         copy the whole file again"
    )]
    Truncated { line: usize, column: usize },
    #[error("the bundle is not valid JSON: {detail}")]
    NotJson { detail: String },
    #[error(
        "this is not a Gantry bundle: the top-level \"format\" field must be \"gantry-bundle\" \
         (found {found})"
    )]
    NotABundle { found: String },
    #[error(
        "bundle format version {found} is not supported: this Gantry reads version {supported}; \
         export it again with a matching Gantry"
    )]
    UnsupportedFormatVersion { found: String, supported: u32 },
    #[error("the bundle is malformed at {path}: {detail}")]
    Malformed { path: String, detail: String },
    #[error("the bundle holds no versions")]
    NoVersions,
    #[error("the bundle holds {count} versions; the limit is {limit}")]
    TooManyVersions { count: usize, limit: usize },
    #[error("the bundle lists version {version} of {workflow} twice")]
    DuplicateVersion { workflow: String, version: u32 },
    #[error(
        "version {version} in the bundle is a spec of workflow {found:?}, not {expected:?} \
         as the bundle says"
    )]
    WorkflowNameMismatch {
        version: u32,
        found: String,
        expected: String,
    },
    #[error(
        "ledger row {row} in the bundle is about workflow {found:?}, not {expected:?} as the \
         bundle says"
    )]
    LedgerWorkflowMismatch {
        row: usize,
        found: String,
        expected: String,
    },
    #[error(
        "ledger row {row} in the bundle moved {workflow} to version {version}, which the bundle \
         doesn't carry"
    )]
    LedgerVersionMissing {
        row: usize,
        workflow: String,
        version: u32,
    },
    #[error("version {version} of {workflow} in the bundle is not a valid spec: {detail}")]
    InvalidSource {
        workflow: String,
        version: u32,
        detail: String,
    },
    #[error(
        "hash mismatch in version {version} of {workflow}: the bundle says its content hash is \
         {stated}, but its source text hashes to {computed}; the bundle was changed or damaged"
    )]
    HashMismatch {
        workflow: String,
        version: u32,
        stated: String,
        computed: String,
    },
    #[error("the bundle's signature uses {found:?}; only \"ed25519\" is supported")]
    UnsupportedAlgorithm { found: String },
    #[error(
        "the bundle was signed by key {key_id}, which this installation doesn't trust \
         (trusted: {trusted}); if it should, add its public key with {how}"
    )]
    UnknownKey {
        key_id: String,
        trusted: String,
        /// Where trust is configured on this side (a flag, or `--public-key`).
        how: String,
    },
    #[error(
        "the bundle's signature does not verify with key {key_id}: its content (sources, \
         hashes, ledger rows or other fields) was changed after signing, or it was signed with \
         another key"
    )]
    BadSignature { key_id: String },
}

impl BundleRefusal {
    /// Where in the file the problem is, for the error's field.
    pub fn field(&self) -> &'static str {
        match self {
            BundleRefusal::TooLarge { .. }
            | BundleRefusal::Truncated { .. }
            | BundleRefusal::NotJson { .. } => "bundle",
            BundleRefusal::NotABundle { .. } => "format",
            BundleRefusal::UnsupportedFormatVersion { .. } => "format_version",
            BundleRefusal::Malformed { .. } => "bundle",
            BundleRefusal::NoVersions
            | BundleRefusal::TooManyVersions { .. }
            | BundleRefusal::DuplicateVersion { .. }
            | BundleRefusal::WorkflowNameMismatch { .. }
            | BundleRefusal::InvalidSource { .. } => "payload.versions",
            BundleRefusal::HashMismatch { .. } => "payload.versions.content_hash",
            BundleRefusal::LedgerWorkflowMismatch { .. }
            | BundleRefusal::LedgerVersionMissing { .. } => "payload.ledger",
            BundleRefusal::UnsupportedAlgorithm { .. }
            | BundleRefusal::UnknownKey { .. }
            | BundleRefusal::BadSignature { .. } => "signature",
        }
    }

    /// A short name for the audit record and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            BundleRefusal::TooLarge { .. } => "too_large",
            BundleRefusal::Truncated { .. } => "truncated",
            BundleRefusal::NotJson { .. } => "not_json",
            BundleRefusal::NotABundle { .. } => "not_a_bundle",
            BundleRefusal::UnsupportedFormatVersion { .. } => "unsupported_format_version",
            BundleRefusal::Malformed { .. } => "malformed",
            BundleRefusal::NoVersions => "no_versions",
            BundleRefusal::TooManyVersions { .. } => "too_many_versions",
            BundleRefusal::DuplicateVersion { .. } => "duplicate_version",
            BundleRefusal::WorkflowNameMismatch { .. } => "workflow_name_mismatch",
            BundleRefusal::LedgerWorkflowMismatch { .. } => "ledger_workflow_mismatch",
            BundleRefusal::LedgerVersionMissing { .. } => "ledger_version_missing",
            BundleRefusal::InvalidSource { .. } => "invalid_source",
            BundleRefusal::HashMismatch { .. } => "hash_mismatch",
            BundleRefusal::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            BundleRefusal::UnknownKey { .. } => "unknown_key",
            BundleRefusal::BadSignature { .. } => "bad_signature",
        }
    }
}

impl From<BundleRefusal> for PortError {
    fn from(refusal: BundleRefusal) -> Self {
        match refusal {
            BundleRefusal::TooLarge { .. } => PortError::TooLarge {
                message: refusal.to_string(),
            },
            other => PortError::invalid(other.field(), other.to_string()),
        }
    }
}
