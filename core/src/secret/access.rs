//! The record of one secret fetch, as the audit log and the run page show
//! it: which reference an attempt asked for and what came of it, never the
//! value.

use serde::{Deserialize, Serialize};

/// One fetch of one reference for one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretAccess {
    /// The name the step gave the secret (`DB_PASSWORD`).
    pub name: String,
    /// The reference with its placeholders filled in
    /// (`vault:kv/data/prod/db#password`).
    pub reference: String,
    /// The provider as configured (`vault`, `env`, `file`, …).
    pub provider: String,
    /// `ok`, or why not: `not_found`, `denied`, `unreachable`, `unusable`,
    /// `timeout`, `not_configured`, `error`.
    pub outcome: String,
    /// The version read, for providers that keep versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// A dynamic credential's lease id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
    /// What went wrong, when it did (never a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the fetch took, in milliseconds.
    pub millis: u64,
}

impl SecretAccess {
    pub fn succeeded(&self) -> bool {
        self.outcome == "ok"
    }
}
