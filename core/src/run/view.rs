//! What the dashboard, the REST API and the CLI see of runs. Plain data,
//! shared with the browser.

use super::status::{AttemptStatus, RunStatus, StepStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Someone pressed Run (dashboard or CLI).
    Manual,
    /// The workflow's cron schedule.
    Schedule,
    /// A REST API call (CI, automation).
    Api,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Trigger::Manual),
            "schedule" => Some(Trigger::Schedule),
            "api" => Some(Trigger::Api),
            _ => None,
        }
    }
}

/// One row of the runs list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub id: String,
    pub workflow: String,
    pub version: u32,
    pub environment: String,
    pub status: RunStatus,
    pub trigger: Trigger,
    /// Display name of whoever (or whatever) started it.
    pub triggered_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Stop requested; running steps are being stopped.
    pub cancel_requested: bool,
}

impl RunSummary {
    /// Wall time so far (running) or in total (finished).
    pub fn duration_at(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }
}

/// One attempt of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub number: u32,
    pub status: AttemptStatus,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// Why it failed, in words (never a secret: built from exit codes,
    /// statuses and our own messages).
    pub error: Option<String>,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRun {
    pub id: String,
    pub name: Option<String>,
    /// "shell" or "http".
    pub kind: String,
    pub needs: Vec<String>,
    pub status: StepStatus,
    pub attempts: Vec<AttemptView>,
    pub outputs: BTreeMap<String, String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A re-run from the failed step kept this step's result (and
    /// outputs) from that run instead of running it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
}

/// A run with all its steps and attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// Why the run ended the way it did, when it wasn't simply its steps.
    pub error: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub steps: Vec<StepRun>,
    /// The OpenTelemetry trace the run is part of, when it was traced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Where that trace is shown (the server's `--trace-link-template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_url: Option<String>,
    /// The failed run this one re-runs, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_mode: Option<super::attention::RerunMode>,
    /// For a failed or timed-out run: whether it still needs attention,
    /// or who re-ran or dismissed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<super::attention::Attention>,
    /// When retention purged this run's step logs (`--retain-step-logs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_purged_at: Option<DateTime<Utc>>,
}

/// Where a failed run failed: its first failed step, and that step's last
/// error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunFailure {
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Filters of the runs list; all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    pub workflow: Option<String>,
    pub environment: Option<String>,
    pub status: Option<RunStatus>,
    /// Only runs that need attention: failed or timed out, and not yet
    /// re-run or dismissed.
    #[serde(default)]
    pub attention: bool,
    /// Return runs older than this run id (from the previous page).
    pub before: Option<String>,
    pub limit: Option<u32>,
    /// Set by the server: the environments the caller may see runs in
    /// (`None`: all). Never read from a request.
    #[serde(skip)]
    pub visible_environments: Option<Vec<String>>,
}

impl RunFilter {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// A page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<String>,
    /// Where each failed or timed-out run on the page failed, by run id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, RunFailure>,
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// Gantry's own notes (started, retrying, truncated, …).
    System,
}

impl LogStream {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stdout" => Some(LogStream::Stdout),
            "stderr" => Some(LogStream::Stderr),
            "system" => Some(LogStream::System),
            _ => None,
        }
    }
}

/// One line a step (or Gantry, about the step) wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// Increases within a step (it packs attempt and line number); pass the
    /// last one seen as `after`, with the same `step`, to tail that step.
    pub seq: i64,
    pub step: String,
    pub attempt: u32,
    pub stream: LogStream,
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct LogQuery {
    /// Only this step's lines (its id).
    pub step: Option<String>,
    /// Only lines after this `seq` (the previous page's `last_seq`).
    pub after: Option<i64>,
    /// Most lines to return: default 1000, at most 5000.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 5000))]
    pub limit: Option<u32>,
}

impl LogQuery {
    pub const DEFAULT_LIMIT: u32 = 1000;
    pub const MAX_LIMIT: u32 = 5000;

    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// A page of a run's log lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    /// Pass as `after` to continue; equal to the request's when nothing new.
    pub last_seq: Option<i64>,
    /// The run has finished: no more lines will come.
    pub complete: bool,
}

/// A request to start a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerRequest {
    pub workflow: String,
    pub environment: String,
    #[serde(default)]
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// Why, for the approver when the environment requires approval.
    #[serde(default)]
    pub reason: Option<String>,
    /// Run this version rather than the one admission picks: the active
    /// one, or a live canary's. Pinned runs are left out of the canary
    /// analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// What asking for a run did: started it, or (where the workflow requires
/// four eyes) filed a request for someone else to approve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TriggerOutcome {
    Started {
        run: RunSummary,
    },
    AwaitingApproval {
        approval: crate::approval::ApprovalRequest,
    },
}
