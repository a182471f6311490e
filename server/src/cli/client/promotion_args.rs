//! The promotion commands' arguments (`promote`, `promotions`, `promotion
//! …`, `rollback`, `deployments`) and the request bodies and queries they
//! turn into. Values the server would refuse for their form alone (an
//! environment name, a timestamp, a duration) are refused here, before any
//! call, with clap's exit code 2.

use super::Connection;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use gantry_core::Environment;
use gantry_core::promotion::PromotionState;
use gantry_core::promotion::view::{ChecklistMark, PromotionAsk, RollbackAsk};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Workflow name.
    pub workflow: String,
    /// The environment to promote into: the one after where the version is active.
    #[arg(long = "to", value_name = "ENV", value_parser = environment)]
    pub to_environment: String,
    /// The version to promote [default: the one active in the environment before ENV].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub version: Option<u32>,
    /// Why (kept in the deployment ledger, read at 3 a.m.).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Promote a version that was rolled back in ENV after all.
    #[arg(long)]
    pub confirm_rolled_back: bool,
    /// Wait until the request is promoted or decided; exit non-zero unless promoted.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this long (exit 3, the request stays pending).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = timeout)]
    pub timeout: Duration,
}

impl PromoteArgs {
    pub(super) fn ask(&self) -> PromotionAsk {
        PromotionAsk {
            to_environment: self.to_environment.clone(),
            version: self.version,
            reason: self.reason.clone(),
            confirm_rolled_back: self.confirm_rolled_back,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct PromotionsArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Only requests still waiting (same as --state pending).
    #[arg(long, conflicts_with = "state")]
    pub pending: bool,
    /// Only requests in this state: pending, promoted, rejected, cancelled, expired, superseded.
    #[arg(long, value_name = "STATE", value_parser = state)]
    pub state: Option<PromotionState>,
    /// Only requests for this workflow.
    #[arg(long, value_name = "NAME")]
    pub workflow: Option<String>,
    /// Only requests into this environment.
    #[arg(long = "env", value_name = "ENV", value_parser = environment)]
    pub environment: Option<String>,
}

impl PromotionsArgs {
    /// `GET /api/v1/promotions?…`.
    pub(super) fn path(&self) -> String {
        let state = if self.pending {
            Some(PromotionState::Pending)
        } else {
            self.state
        };
        with_query(
            "/api/v1/promotions",
            &[
                ("workflow", self.workflow.clone()),
                ("environment", self.environment.clone()),
                ("state", state.map(|s| s.as_str().to_owned())),
            ],
        )
    }
}

/// `gantry promotion …`: one request.
#[derive(Debug, Clone, Subcommand)]
pub enum PromotionCommand {
    /// A request's checklist (live), approvals, gate and diff.
    Show(PromotionIdArgs),
    /// Approve a request someone else made; the approval that completes the gate promotes.
    Approve(PromotionDecideArgs),
    /// Reject a request someone else made.
    Reject(PromotionDecideArgs),
    /// Withdraw your own request (admins of the target: anyone's).
    Cancel(PromotionDecideArgs),
    /// Tick (or --uncheck) a manual checklist item, or acknowledge the new hosts or secret
    /// references an item found.
    Check(CheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PromotionIdArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The request's id (from `gantry promotions`).
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct PromotionDecideArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The request's id (from `gantry promotions`).
    pub id: String,
    /// Kept with the decision and in the audit log.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The request's id.
    pub id: String,
    /// The checklist item's id (as `gantry promotion show` lists it).
    pub item: String,
    /// A link or a note saying how you checked.
    #[arg(long, value_name = "TEXT", conflicts_with = "uncheck")]
    pub evidence: Option<String>,
    /// Take a tick back.
    #[arg(long)]
    pub uncheck: bool,
}

impl CheckArgs {
    pub(super) fn mark(&self) -> ChecklistMark {
        ChecklistMark {
            checked: !self.uncheck,
            evidence: self.evidence.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Workflow name.
    pub workflow: String,
    /// The environment to roll back.
    #[arg(long = "env", value_name = "ENV", value_parser = environment)]
    pub environment: String,
    /// The version to return to [default: the one active before, skipping rolled-back ones].
    #[arg(long = "to", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub to_version: Option<u32>,
    /// Why (kept in the deployment ledger).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Also cancel the runs of the rolled-back version still going (they keep their version
    /// otherwise).
    #[arg(long)]
    pub cancel_running: bool,
}

impl RollbackArgs {
    pub(super) fn ask(&self) -> RollbackAsk {
        RollbackAsk {
            environment: self.environment.clone(),
            to_version: self.to_version,
            reason: self.reason.clone(),
            cancel_running: self.cancel_running,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DeploymentsArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Only this workflow.
    pub workflow: Option<String>,
    /// Only this environment.
    #[arg(long = "env", value_name = "ENV", value_parser = environment)]
    pub environment: Option<String>,
    /// Which version was active at this moment (RFC 3339, e.g. 2026-12-05T03:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub at: Option<DateTime<Utc>>,
}

impl DeploymentsArgs {
    /// `GET /api/v1/deployments?…`.
    pub(super) fn path(&self) -> String {
        with_query(
            "/api/v1/deployments",
            &[
                ("workflow", self.workflow.clone()),
                ("environment", self.environment.clone()),
                (
                    "at",
                    self.at
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                ),
            ],
        )
    }
}

/// `path?k=v&…` with the given pairs, leaving out the unset ones.
fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if let Some(v) = value {
            query.append_pair(key, v);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

fn environment(s: &str) -> Result<String, String> {
    Environment::parse(s)
        .map(String::from)
        .map_err(|e| e.to_string())
}

fn state(s: &str) -> Result<PromotionState, String> {
    PromotionState::parse(s).ok_or_else(|| {
        let all: Vec<&str> = PromotionState::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown state {s:?}; use one of {}", all.join(", "))
    })
}

fn instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "{s:?} is not an RFC 3339 time ({e}); write it like 2026-12-05T03:00:00Z or \
                 2026-12-05T04:00:00+01:00"
            )
        })
}

fn timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration ({e}); write it like 30s, 10m or 2h"))?;
    if d < Duration::from_secs(1) {
        return Err("wait at least 1s".to_owned());
    }
    Ok(d)
}

#[cfg(test)]
#[path = "promotion_args_tests.rs"]
mod tests;
