//! The deployment ledger: every move of a workflow's active-version pointer
//! in an environment (activation on apply, promotion, rollback, canary
//! later) as a row that is never updated or deleted. The functions here
//! answer from the rows of one workflow, passed in the order they were
//! written: which version was active when, what a rollback returns to, and
//! which versions were rolled back.

use super::evaluation::ChecklistSnapshot;
use crate::approval::Person;
use crate::error::PortError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the pointer moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    /// A new version applied, active in the first environment.
    Apply,
    Promotion,
    Rollback,
    /// A canary started: the version takes a share of the runs while the
    /// pointer stays (a promotion row follows when it passes, a rollback
    /// row when it fails).
    Canary,
}

impl DeploymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentKind::Apply => "apply",
            DeploymentKind::Promotion => "promotion",
            DeploymentKind::Rollback => "rollback",
            DeploymentKind::Canary => "canary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeploymentKind::Apply,
            DeploymentKind::Promotion,
            DeploymentKind::Rollback,
            DeploymentKind::Canary,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One move of the pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: String,
    pub workflow: String,
    pub environment: String,
    /// `None` for the first version ever active there.
    pub from_version: Option<u32>,
    pub to_version: u32,
    pub kind: DeploymentKind,
    pub actor: Person,
    pub at: DateTime<Utc>,
    /// Why (required for promotions and rollbacks; none on apply).
    pub reason: Option<String>,
    /// The promotion request it came from.
    pub request_id: Option<String>,
    /// The people whose approvals counted (empty when none were needed).
    pub approvers: Vec<Person>,
    /// The checklist as evaluated at the moment of promotion.
    pub checklist: Option<ChecklistSnapshot>,
    /// The freeze this promotion went through, broken by an admin
    /// (docs/ops/freezes.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_break: Option<crate::freeze::LedgerFreezeBreak>,
}

/// The rows that moved `environment`'s pointer: a canary's start row
/// records a share of runs, not a move, so it is left out of what was
/// active when.
fn in_env<'a>(
    rows: &'a [Deployment],
    environment: &'a str,
) -> impl DoubleEndedIterator<Item = &'a Deployment> {
    rows.iter()
        .filter(move |r| r.environment == environment && r.kind != DeploymentKind::Canary)
}

/// The last row that moved `environment`'s pointer.
pub fn last_move<'a>(rows: &'a [Deployment], environment: &'a str) -> Option<&'a Deployment> {
    in_env(rows, environment).next_back()
}

/// The version active in `environment` at `t`: the last row written for it
/// at or before `t`; `None` before the first.
pub fn active_at(rows: &[Deployment], environment: &str, t: DateTime<Utc>) -> Option<u32> {
    in_env(rows, environment)
        .rfind(|r| r.at <= t)
        .map(|r| r.to_version)
}

/// The version active in `environment` now: the last row written for it.
pub fn active_now(rows: &[Deployment], environment: &str) -> Option<u32> {
    in_env(rows, environment).next_back().map(|r| r.to_version)
}

/// A version rolled back in an environment: its last departure from there
/// was a rollback, and it isn't active there now. The Promotions page marks
/// it so nobody promotes it again by accident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolledBackVersion {
    pub version: u32,
    pub environment: String,
    pub at: DateTime<Utc>,
    pub by: Person,
    pub reason: Option<String>,
}

/// The versions rolled back in `environment`, by version number.
pub fn rolled_back_versions(rows: &[Deployment], environment: &str) -> Vec<RolledBackVersion> {
    let current = active_now(rows, environment);
    let mut departed: Vec<u32> = Vec::new();
    let mut out: Vec<RolledBackVersion> = Vec::new();
    // Newest first: the first departure of a version seen is its last.
    for row in in_env(rows, environment).rev() {
        let Some(version) = row.from_version else {
            continue;
        };
        if departed.contains(&version) {
            continue;
        }
        departed.push(version);
        if row.kind == DeploymentKind::Rollback && Some(version) != current {
            out.push(RolledBackVersion {
                version,
                environment: environment.to_owned(),
                at: row.at,
                by: row.actor.clone(),
                reason: row.reason.clone(),
            });
        }
    }
    out.sort_by_key(|r| r.version);
    out
}

/// A rollback the ledger allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackPlan {
    pub from: u32,
    pub to: u32,
}

/// Why there is nothing to roll back to (409s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RollbackRefusal {
    #[error("nothing is active in {environment}, so there is nothing to roll back")]
    NothingActive { environment: String },
    #[error(
        "nothing to roll back to in {environment}: no version was active there before version \
         {current}{}",
        if *all_rolled_back { " that wasn't rolled back itself; name one with to_version" } else { "" }
    )]
    NothingBefore {
        environment: String,
        current: u32,
        /// Earlier versions exist but were all rolled back.
        all_rolled_back: bool,
    },
    #[error("version {version} is already active in {environment}")]
    AlreadyActive { version: u32, environment: String },
    #[error(
        "version {version} was never active in {environment}, so it can't be rolled back to \
         (versions that were: {})",
        were.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    )]
    NeverActive {
        version: u32,
        environment: String,
        were: Vec<u32>,
    },
}

impl From<RollbackRefusal> for PortError {
    fn from(refusal: RollbackRefusal) -> Self {
        PortError::Conflict {
            message: refusal.to_string(),
        }
    }
}

/// Where a rollback in `environment` goes: to `to_version` if given (any
/// version that was active there before, rolled back or not: naming it is
/// the confirmation), else to the newest earlier version that wasn't
/// itself rolled back, so rolling back twice goes further back instead of
/// returning to what was just rolled back.
pub fn rollback_target(
    rows: &[Deployment],
    environment: &str,
    to_version: Option<u32>,
) -> Result<RollbackPlan, RollbackRefusal> {
    let Some(current) = active_now(rows, environment) else {
        return Err(RollbackRefusal::NothingActive {
            environment: environment.to_owned(),
        });
    };
    // Versions that were active here, newest first.
    let mut were: Vec<u32> = Vec::new();
    for row in in_env(rows, environment).rev() {
        for v in [Some(row.to_version), row.from_version]
            .into_iter()
            .flatten()
        {
            if !were.contains(&v) {
                were.push(v);
            }
        }
    }
    if let Some(version) = to_version {
        if version == current {
            return Err(RollbackRefusal::AlreadyActive {
                version,
                environment: environment.to_owned(),
            });
        }
        if !were.contains(&version) {
            let mut listed = were.clone();
            listed.sort_unstable();
            return Err(RollbackRefusal::NeverActive {
                version,
                environment: environment.to_owned(),
                were: listed,
            });
        }
        return Ok(RollbackPlan {
            from: current,
            to: version,
        });
    }
    let rolled_back: Vec<u32> = rolled_back_versions(rows, environment)
        .into_iter()
        .map(|r| r.version)
        .collect();
    let earlier: Vec<u32> = were.into_iter().filter(|v| *v != current).collect();
    match earlier.iter().find(|v| !rolled_back.contains(v)) {
        Some(to) => Ok(RollbackPlan {
            from: current,
            to: *to,
        }),
        None => Err(RollbackRefusal::NothingBefore {
            environment: environment.to_owned(),
            current,
            all_rolled_back: !earlier.is_empty(),
        }),
    }
}

/// One version's time as the active one, for the history picture (bands
/// along a time axis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivePeriod {
    pub version: u32,
    pub from: DateTime<Utc>,
    /// `None` while still active.
    pub until: Option<DateTime<Utc>>,
    /// How it became active.
    pub kind: DeploymentKind,
    /// How it stopped being active, if it did by a rollback.
    pub rolled_back: bool,
}

/// The versions active in `environment` one after another, oldest first.
pub fn active_periods(rows: &[Deployment], environment: &str) -> Vec<ActivePeriod> {
    let rows: Vec<&Deployment> = in_env(rows, environment).collect();
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let next = rows.get(i + 1);
            ActivePeriod {
                version: row.to_version,
                from: row.at,
                until: next.map(|n| n.at),
                kind: row.kind,
                // A failed canary's rollback row leaves the stable version
                // where it was: only a rollback *from* this version ends it
                // as rolled back.
                rolled_back: next.is_some_and(|n| {
                    n.kind == DeploymentKind::Rollback && n.from_version == Some(row.to_version)
                }),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
