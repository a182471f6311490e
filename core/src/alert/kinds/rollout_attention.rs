//! `rollout_attention`: a rollout into an environment waits on a person.
//! The canary analysis and the verification after promotion act on their
//! own, but three outcomes need someone, and this is how they are told
//! (docs/canary.md, docs/promotions.md#verification):
//!
//! - a canary step ran out of time without a decision (*inconclusive*):
//!   the canary is paused until someone resumes, promotes or aborts it;
//! - a canary failed and was rolled back automatically: promotions into
//!   the environment wait until an approver clears the hold;
//! - the last verification there failed: held, or rolled back by its
//!   failure (which stays on someone's plate until the next move there).
//!
//! One instance per workflow × environment, firing while any of them
//! holds and resolving once none does.

use super::{Finding, InstanceKey, with_open_cleared};
use crate::alert::state::Observation;
use crate::canary::{Canary, CanaryDecision, CanaryState};
use crate::promotion::verification::{Verification, VerificationState};
use std::collections::BTreeMap;

/// One thing waiting on a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub workflow: String,
    pub environment: String,
    /// What, in a sentence.
    pub what: String,
}

/// What waits on people now, read by the server from the live and holding
/// canaries and each workflow × environment's last verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttentionFacts {
    pub waiting: Vec<Attention>,
}

/// What `canary` waits on a person for, if anything: paused because a
/// step was inconclusive, or holding promotions after its automatic
/// rollback. A canary a person paused waits on that person already.
pub fn of_canary(canary: &Canary) -> Option<Attention> {
    let inconclusive = canary
        .last
        .as_ref()
        .is_some_and(|l| l.decision == CanaryDecision::Inconclusive);
    let what = match canary.state {
        CanaryState::Paused if inconclusive => format!(
            "the canary of version {} is paused: step {} ran out of time without a decision; \
             resume, promote or abort it",
            canary.canary_version,
            canary.step + 1
        ),
        CanaryState::RolledBack if canary.held => format!(
            "the canary of version {} was rolled back automatically ({}); promotions wait \
             until an approver clears the hold",
            canary.canary_version,
            canary.why.as_deref().unwrap_or("its analysis failed")
        ),
        _ => return None,
    };
    Some(Attention {
        workflow: canary.workflow.clone(),
        environment: canary.environment.clone(),
        what,
    })
}

/// What a failed verification nothing has moved on from waits on a person
/// for (the server passes the latest of each workflow × environment, but
/// for the rollback the failure made itself).
pub fn of_verification(last: &Verification) -> Option<Attention> {
    if last.state != VerificationState::Failed {
        return None;
    }
    let outcome = if last.rollback_id.is_some() {
        "rolled back; resolves with the next move there"
    } else {
        "held; the next environment's checklist waits on a passing one"
    };
    Some(Attention {
        workflow: last.workflow.clone(),
        environment: last.environment.clone(),
        what: format!(
            "verification {} of version {} failed: {} ({outcome})",
            last.verifier,
            last.version,
            last.why.as_deref().unwrap_or("no reason recorded")
        ),
    })
}

/// Breach for each workflow × environment with something waiting (all of
/// it in the summary); clear for open instances with nothing.
pub fn judge(facts: &AttentionFacts, open: &[InstanceKey]) -> Vec<Finding> {
    let mut by_key: BTreeMap<InstanceKey, Vec<&str>> = BTreeMap::new();
    for a in &facts.waiting {
        by_key
            .entry(InstanceKey::new(&a.workflow, &a.environment))
            .or_default()
            .push(&a.what);
    }
    let findings = by_key
        .into_iter()
        .map(|(key, whats)| Finding::new(key, Observation::Breach, whats.join("; ")))
        .collect();
    with_open_cleared(findings, open, "no rollout waits on a person")
}

#[cfg(test)]
#[path = "rollout_attention_tests.rs"]
mod tests;
