//! What the Audit page, the REST API and the CLI ask of the log and get
//! back.

use super::event::AuditRecord;
use super::verify::Break;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Newest first. Every field narrows; `before` is the cursor (a sequence
/// number from the previous page's `next_before`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Matches the actor's id or name exactly.
    pub actor: Option<String>,
    /// A dotted action name (`run.trigger`), or a prefix ending in `.`
    /// (`run.`) for a family.
    pub action: Option<String>,
    /// A resource (`workflow/backup-verify`) or a prefix ending in `/`.
    pub resource: Option<String>,
    pub environment: Option<String>,
    /// `succeeded`, `denied` or `failed`.
    pub outcome: Option<String>,
    /// Records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Records before this time.
    pub until: Option<DateTime<Utc>>,
    pub before: Option<u64>,
    /// 1..=500, 50 by default.
    pub limit: Option<u32>,
}

impl AuditFilter {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<u64>,
}

/// The result of checking the whole chain just now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainStatus {
    pub checked_at: DateTime<Utc>,
    /// Records checked (those archived away are not).
    pub records: u64,
    /// First sequence number still in the database (after archiving).
    pub first_seq: Option<u64>,
    pub head_seq: u64,
    /// Signed checkpoints whose signature and hash both held.
    pub checkpoints: u64,
    /// Where the chain breaks; `None` when it verified.
    pub problem: Option<Break>,
}

impl ChainStatus {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}
