//! The gate: whether a pending request may be promoted now. The server asks
//! it when the request is made (with nothing required it opens at once),
//! on every approval and tick, and once more, with a fresh checklist
//! evaluation, inside the transaction that promotes.

use super::evaluation::ChecklistSnapshot;
use super::policy::EnvironmentPolicy;
use super::request::{PromotionApproval, ReviewBasis};
use crate::approval::Person;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a request isn't promoted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaitReason {
    /// Fewer distinct approvers than the policy requires.
    Approvals { have: u32, need: u32 },
    /// Approvals given for another content or diff (the target's active
    /// version changed since): they no longer count.
    StaleApprovals { people: Vec<Person> },
    /// A checklist item that isn't green.
    Checklist {
        item: String,
        title: String,
        explanation: String,
    },
    /// A freeze window holds in the target (docs/ops/freezes.md).
    Frozen {
        environment: String,
        until: chrono::DateTime<chrono::Utc>,
        reason: String,
    },
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::Approvals { have, need } => write!(
                f,
                "{have} of {need} required {} given",
                if *need == 1 { "approval" } else { "approvals" }
            ),
            WaitReason::StaleApprovals { people } => {
                let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
                write!(
                    f,
                    "approvals by {} were for what the diff showed before it changed; they must \
                     approve again",
                    names.join(", ")
                )
            }
            WaitReason::Checklist {
                title, explanation, ..
            } => write!(f, "{title}: {explanation}"),
            WaitReason::Frozen {
                environment,
                until,
                reason,
            } => write!(
                f,
                "{environment} is frozen until {}: {reason}",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum GateDecision {
    Ready,
    Waiting { reasons: Vec<WaitReason> },
}

impl GateDecision {
    pub fn is_ready(&self) -> bool {
        *self == GateDecision::Ready
    }

    /// One line for a request that stays pending: "waiting: …; …".
    pub fn describe(&self) -> String {
        match self {
            GateDecision::Ready => "ready to promote".to_owned(),
            GateDecision::Waiting { reasons } => {
                let parts: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                format!("waiting: {}", parts.join("; "))
            }
        }
    }
}

/// The approvals that count towards the policy, in the order given: bound
/// to `basis`, and each from a person and an approval right not counted
/// yet, so a delegate and their delegator count once together and nobody
/// counts twice. Their people are the deployment's approvers.
pub fn counted_approvals<'a>(
    approvals: &'a [PromotionApproval],
    basis: &ReviewBasis,
) -> Vec<&'a PromotionApproval> {
    let mut seen: Vec<&str> = Vec::new();
    let mut counted = Vec::new();
    for a in approvals.iter().filter(|a| a.reviewed == *basis) {
        let (person, right) = (a.by.id.as_str(), a.right_holder().id.as_str());
        if seen.contains(&person) || seen.contains(&right) {
            continue;
        }
        seen.push(person);
        seen.push(right);
        counted.push(a);
    }
    counted
}

/// Whether the request may be promoted now: enough distinct approvals of
/// what is being promoted, and every checklist item green.
pub fn gate(
    policy: &EnvironmentPolicy,
    approvals: &[PromotionApproval],
    basis: &ReviewBasis,
    checklist: &ChecklistSnapshot,
) -> GateDecision {
    let mut reasons = Vec::new();
    let have = u32::try_from(counted_approvals(approvals, basis).len()).unwrap_or(u32::MAX);
    if have < policy.required_approvals {
        reasons.push(WaitReason::Approvals {
            have,
            need: policy.required_approvals,
        });
        let mut stale: Vec<Person> = Vec::new();
        for a in approvals.iter().filter(|a| a.reviewed != *basis) {
            let current = approvals
                .iter()
                .any(|b| b.by.id == a.by.id && b.reviewed == *basis);
            if !current && !stale.iter().any(|p| p.id == a.by.id) {
                stale.push(a.by.clone());
            }
        }
        if !stale.is_empty() {
            reasons.push(WaitReason::StaleApprovals { people: stale });
        }
    }
    reasons.extend(checklist.blocking().map(|i| WaitReason::Checklist {
        item: i.id.clone(),
        title: i.title.clone(),
        explanation: i.explanation.clone(),
    }));
    if reasons.is_empty() {
        GateDecision::Ready
    } else {
        GateDecision::Waiting { reasons }
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
