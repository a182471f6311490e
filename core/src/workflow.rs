//! What every edge sees of registered workflows and their versions.

use crate::run::RunSummary;
use crate::spec::WorkflowSpec;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which version runs in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveVersion {
    pub environment: String,
    pub version: u32,
    /// Whether the cron schedule fires here (only if the version has one).
    pub schedule_enabled: bool,
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// One row of the workflows list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowSummary {
    pub name: String,
    pub description: Option<String>,
    pub latest_version: u32,
    /// In the configured environment order; environments without an active
    /// version are absent.
    pub active: Vec<ActiveVersion>,
    pub schedule: Option<String>,
    /// The newest run in an environment the reader may see.
    pub last_run: Option<RunSummary>,
}

/// One immutable version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    pub version: u32,
    /// SHA-256 of the canonical spec.
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A workflow with its versions and the spec of one of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// Newest first.
    pub versions: Vec<VersionInfo>,
    /// The version shown: the latest unless one was asked for.
    pub shown: VersionInfo,
    pub spec: WorkflowSpec,
    /// The text as it was applied (comments kept).
    pub source: String,
    /// The newest runs (up to 20) in environments the reader may see.
    pub recent_runs: Vec<RunSummary>,
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyOutcome {
    pub workflow: String,
    pub version: u32,
    pub content_hash: String,
    /// False when an identical spec was already registered (a no-op).
    pub created: bool,
    /// The environment where the new version became active.
    pub activated_in: Option<String>,
}

impl ApplyOutcome {
    /// One line for humans (CLI, flash messages).
    pub fn describe(&self) -> String {
        if self.created {
            match &self.activated_in {
                Some(env) => format!(
                    "{}: created version {} (active in {env})",
                    self.workflow, self.version
                ),
                None => format!("{}: created version {}", self.workflow, self.version),
            }
        } else if let Some(env) = &self.activated_in {
            // An imported version (never active here) applied: activated.
            format!(
                "{}: version {} (identical, imported) is now active in {env}",
                self.workflow, self.version
            )
        } else {
            format!(
                "{}: unchanged (identical to version {})",
                self.workflow, self.version
            )
        }
    }
}
