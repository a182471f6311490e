//! One person's data as one JSON document (`GET /api/v1/users/{user}/export`).

use crate::audit::AuditRecord;
use crate::user::UserSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The document's format, so a reader can tell versions apart.
pub const EXPORT_FORMAT: &str = "gantry-person-export/v1";

/// Everything Gantry holds about one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonExport {
    pub format: String,
    pub exported_at: DateTime<Utc>,
    /// The account with every role it holds and what granted each.
    pub account: UserSummary,
    /// The SCIM resource the identity provider keeps here, as it stores it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub scim_resource: Option<Value>,
    /// Rows about the person, by table: sessions (their expiry, never the
    /// session id), tokens they made, approvals and promotions they asked
    /// for or decided, runs they triggered, delegations, freezes, … each
    /// row's columns as text.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub records: BTreeMap<String, Vec<Map<String, Value>>>,
    /// Audit records in which the person acted or which hold their
    /// personal fields, oldest first (at most [`PersonExport::AUDIT_LIMIT`];
    /// `audit_truncated` says when there were more).
    pub audit_records: Vec<AuditRecord>,
    pub audit_truncated: bool,
}

impl PersonExport {
    /// Audit records in one export: enough for years of one person's
    /// activity; beyond it the Audit page's actor filter pages through.
    pub const AUDIT_LIMIT: usize = 50_000;
}
