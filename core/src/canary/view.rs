//! A canary as the port answers it: where it stands, and each evaluation
//! with its counts, estimates and the sentence saying why.

use super::analysis::{Analysis, Decision, Estimate};
use super::durations::DurationComparison;
use super::policy::CanaryPolicy;
use crate::approval::Person;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CanaryState {
    /// Taking its share of runs and advancing on its own.
    Running,
    /// Still taking its share (and rolled back if it fails), but not
    /// advancing until a person resumes it: paused by hand, or a step ran
    /// out of time without a decision.
    Paused,
    /// Passed (or promoted by hand): the active version now.
    Promoted,
    /// Failed its analysis: weight 0, the stable version stays.
    RolledBack,
    /// Stopped by a person: weight 0, the stable version stays.
    Aborted,
}

impl CanaryState {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryState::Running => "running",
            CanaryState::Paused => "paused",
            CanaryState::Promoted => "promoted",
            CanaryState::RolledBack => "rolled_back",
            CanaryState::Aborted => "aborted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CanaryState::Running,
            CanaryState::Paused,
            CanaryState::Promoted,
            CanaryState::RolledBack,
            CanaryState::Aborted,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Still taking runs.
    pub fn is_live(self) -> bool {
        matches!(self, CanaryState::Running | CanaryState::Paused)
    }
}

/// Which version a run admitted during a canary got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    Canary,
    Stable,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Canary => "canary",
            Arm::Stable => "stable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "canary" => Some(Arm::Canary),
            "stable" => Some(Arm::Stable),
            _ => None,
        }
    }
}

/// What one evaluation concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CanaryDecision {
    Pass,
    Fail,
    Continue,
    /// The step ran out of time without a decision.
    Inconclusive,
}

impl From<Decision> for CanaryDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Pass => CanaryDecision::Pass,
            Decision::Fail => CanaryDecision::Fail,
            Decision::Continue => CanaryDecision::Continue,
        }
    }
}

/// Finished runs of one arm in the step's window (pinned and cancelled
/// runs left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArmCounts {
    pub runs: u64,
    pub failures: u64,
}

/// A failure rate's estimate, for the page and the stored record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateEstimate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

impl From<Estimate> for RateEstimate {
    fn from(e: Estimate) -> Self {
        RateEstimate {
            rate: e.rate,
            low: e.low,
            high: e.high,
        }
    }
}

/// One look at the canary, stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CanaryEvaluation {
    pub at: DateTime<Utc>,
    /// The plan step (0-based) and its weight in percent.
    pub step: u32,
    pub weight: u8,
    pub decision: CanaryDecision,
    pub canary: ArmCounts,
    pub stable: ArmCounts,
    pub canary_rate: RateEstimate,
    pub stable_rate: RateEstimate,
    /// P(the canary fails more often than stable allows).
    pub p_worse: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations: Option<DurationComparison>,
    /// One sentence saying why.
    pub why: String,
}

impl CanaryEvaluation {
    /// The same judgement as `other` (what is stored is each change, not
    /// every pass).
    pub fn same_as(&self, other: &CanaryEvaluation) -> bool {
        self.step == other.step
            && self.decision == other.decision
            && self.canary == other.canary
            && self.stable == other.stable
    }
}

/// A canary promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Canary {
    pub id: String,
    pub workflow: String,
    pub environment: String,
    pub stable_version: u32,
    pub canary_version: u32,
    /// The promotion request it carries out.
    pub request_id: String,
    /// The plan as it was when the canary started.
    pub policy: CanaryPolicy,
    /// The plan step (0-based).
    pub step: u32,
    /// The canary's share of admissions now, in percent (0 once rolled
    /// back or aborted, 100 once promoted).
    pub weight: u8,
    pub state: CanaryState,
    pub started_by: Person,
    pub started_at: DateTime<Utc>,
    /// Runs admitted since then count for this step.
    pub step_started_at: DateTime<Utc>,
    /// The step's time limit counts from here (reset by resume).
    pub step_clock_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it is paused or ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// After an automatic rollback, promotions of this workflow into this
    /// environment wait until a person clears the hold.
    pub held: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<CanaryEvaluation>,
}

/// `GET /api/v1/canaries/{id}`: the canary and its evaluations, oldest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CanaryDetail {
    pub canary: Canary,
    pub evaluations: Vec<CanaryEvaluation>,
}

/// `POST /api/v1/canaries/{id}/{act}` bodies: why (required for abort).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CanaryAct {
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a person may do to a canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CanaryControl {
    Pause,
    Resume,
    /// Make it the active version now (approver).
    Promote,
    /// Weight 0, stable stays (operator).
    Abort,
    /// Let promotions of this workflow here complete again after an
    /// automatic rollback.
    ClearHold,
}

impl CanaryControl {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryControl::Pause => "pause",
            CanaryControl::Resume => "resume",
            CanaryControl::Promote => "promote",
            CanaryControl::Abort => "abort",
            CanaryControl::ClearHold => "clear-hold",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CanaryControl::Pause,
            CanaryControl::Resume,
            CanaryControl::Promote,
            CanaryControl::Abort,
            CanaryControl::ClearHold,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

pub(super) fn evaluation_of(
    at: DateTime<Utc>,
    step: u32,
    weight: u8,
    counts: (ArmCounts, ArmCounts),
    analysis: &Analysis,
) -> CanaryEvaluation {
    CanaryEvaluation {
        at,
        step,
        weight,
        decision: analysis.decision.into(),
        canary: counts.0,
        stable: counts.1,
        canary_rate: analysis.canary.into(),
        stable_rate: analysis.stable.into(),
        p_worse: analysis.p_worse,
        durations: None,
        why: analysis.why.clone(),
    }
}
