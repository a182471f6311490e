//! Freeze windows: spans of time in which promotions into an environment
//! wait (issue 15). One-off (`start..end`) or recurring (a cron expression
//! in an IANA time zone, each occurrence lasting `duration` of wall-clock
//! time). The types travel to the browser; the arithmetic (`window.rs`)
//! needs the cron parser and the time-zone database, so it is server-side.
//! See docs/ops/freezes.md.

use crate::approval::Person;
use crate::promotion::duration::PolicyDuration;
use crate::promotion::gate::{GateDecision, WaitReason};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod window;
#[cfg(feature = "ssr")]
pub use window::{Problem, active_at, active_until, next_start, validate};

/// Shortest recurring occurrence.
pub const MIN_DURATION: PolicyDuration = PolicyDuration::from_mins(1);
/// Longest recurring occurrence (and longest one-off window).
pub const MAX_DURATION: PolicyDuration = PolicyDuration::from_days(31);
/// Longest reason.
pub const MAX_REASON_CHARS: usize = 500;

/// When a window is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FreezeSchedule {
    /// From `start` (inclusive) to `end` (exclusive).
    OneOff {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// At every occurrence of `cron` (five fields) in `timezone`, for
    /// `duration` of wall-clock time in that zone.
    Recurring {
        cron: String,
        duration: PolicyDuration,
        timezone: String,
    },
}

/// What an admin asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeAsk {
    /// Why (people waiting read it); not blank, at most 500 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = "\\S")
    )]
    pub reason: String,
    #[serde(flatten)]
    pub schedule: FreezeSchedule,
}

/// A declared window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeWindow {
    pub id: String,
    pub environment: String,
    pub reason: String,
    #[serde(flatten)]
    pub schedule: FreezeSchedule,
    pub created_by: Person,
    pub created_at: DateTime<Utc>,
}

/// A freeze in force at some moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveFreeze {
    /// The window that holds it longest (whose end is `until`, or whose
    /// occurrence began the chain that ends there).
    pub window_id: String,
    pub reason: String,
    /// When no window is in force any more: overlapping and back-to-back
    /// windows are followed to the end of the chain.
    pub until: DateTime<Utc>,
}

impl ActiveFreeze {
    /// The sentence a refused or waiting promotion shows.
    pub fn describe(&self, environment: &str) -> String {
        format!(
            "{environment} is frozen until {}: {}",
            self.until.format("%Y-%m-%d %H:%M UTC"),
            self.reason
        )
    }
}

/// A window as listed: with when it next starts and whether it holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeView {
    #[serde(flatten)]
    pub window: FreezeWindow,
    /// In force now (until the end of this occurrence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<DateTime<Utc>>,
    /// The next start strictly after now; `None` when it never starts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_start: Option<DateTime<Utc>>,
}

/// One environment's windows and the freeze in force there now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentFreezes {
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveFreeze>,
    pub windows: Vec<FreezeView>,
    /// The caller may declare and delete windows here.
    #[serde(default)]
    pub can_manage: bool,
}

/// A promotion that went through a freeze: written by an admin of the
/// target with a reason, and open for review by another admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeBreak {
    pub id: String,
    pub environment: String,
    /// The window in force when it was broken.
    pub window_id: String,
    /// The freeze's reason then, and until when it held.
    pub freeze_reason: String,
    pub frozen_until: DateTime<Utc>,
    pub request_id: String,
    pub by: Person,
    pub reason: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_comment: Option<String>,
}

/// What a ledger row records of the freeze it went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerFreezeBreak {
    /// The [`FreezeBreak`]'s id.
    pub id: String,
    pub by: Person,
    pub reason: String,
    pub frozen_until: DateTime<Utc>,
}

/// The break-glass ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakAsk {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::text::reason_schema))]
    pub reason: String,
}

/// Reviewing a break.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewAsk {
    #[serde(default)]
    pub comment: Option<String>,
}

/// Every visible environment's freezes, and the breaks awaiting review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeOverview {
    pub environments: Vec<EnvironmentFreezes>,
    /// Broken freezes nobody reviewed yet, newest first.
    pub awaiting_review: Vec<FreezeBreak>,
}

/// A promotion request's freeze: the one in force in its target now, and
/// the break an admin recorded for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestFreeze {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveFreeze>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<FreezeBreak>,
}

impl RequestFreeze {
    /// The request must wait: a freeze holds and nobody broke it for it.
    pub fn holds(&self) -> bool {
        self.active.is_some() && self.broken.is_none()
    }

    /// The gate as the freeze leaves it: waiting while the freeze holds.
    pub fn apply_to(&self, environment: &str, gate: GateDecision) -> GateDecision {
        let Some(active) = self.active.as_ref().filter(|_| self.holds()) else {
            return gate;
        };
        let frozen = WaitReason::Frozen {
            environment: environment.to_owned(),
            until: active.until,
            reason: active.reason.clone(),
        };
        match gate {
            GateDecision::Ready => GateDecision::Waiting {
                reasons: vec![frozen],
            },
            GateDecision::Waiting { mut reasons } => {
                reasons.insert(0, frozen);
                GateDecision::Waiting { reasons }
            }
        }
    }
}
