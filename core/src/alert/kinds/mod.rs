//! The kinds judged on each evaluation pass, one file per kind: each takes
//! a small facts struct that the server fills with one query and returns,
//! per alert instance, what it found ([`Finding`]). Pure: the caller passes
//! `now`, the facts (already narrowed to the rule's scope with
//! [`RuleSpec::matches`](super::RuleSpec::matches)) and the keys of the
//! rule's instances that are pending or firing, so that those the facts no
//! longer mention are judged clear and can resolve.

pub mod auth_failures;
pub mod missed_schedule;
pub mod privilege_escalation;
pub mod queue_backlog;
pub mod rollout_attention;
pub mod run_too_long;
pub mod slo_burn;

pub use auth_failures::{AUTH_FAILURE_ACTIONS, AuthFacts, SourceFailures, is_auth_failure};
pub use missed_schedule::{DueSlot, ScheduleFacts};
pub use privilege_escalation::{
    ESCALATION_ACTIONS, Escalation, EscalationKind, FREEZE_BREAK_ACTION, PrivilegeFacts, escalation,
};
pub use queue_backlog::QueueFacts;
pub use rollout_attention::{Attention, AttentionFacts};
pub use run_too_long::{LongTarget, Running, RunningFacts};
pub use slo_burn::{ObjectiveCounts, SloFacts, SloInstance};

use super::state::{Observation, fingerprint_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which instance of a rule a finding is about: a workflow × environment,
/// plus what else tells instances apart for some kinds (`subject`: a
/// source address for per-source authentication failures, an audit
/// record for privilege escalation). Empty strings where a part does not
/// apply (`""` workflow for rules about the installation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceKey {
    pub workflow: String,
    pub environment: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
}

impl InstanceKey {
    pub fn new(workflow: impl Into<String>, environment: impl Into<String>) -> Self {
        Self {
            workflow: workflow.into(),
            environment: environment.into(),
            subject: String::new(),
        }
    }

    /// The one instance of a rule about the whole installation.
    pub fn installation() -> Self {
        Self::new("", "")
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// The instance's stable identity under `rule_id`: without a subject,
    /// exactly [`fingerprint`](super::fingerprint)`(rule_id, workflow,
    /// environment)`, so run-based and pass-based instances agree.
    pub fn fingerprint(&self, rule_id: &str) -> String {
        if self.subject.is_empty() {
            fingerprint_of(&[rule_id, &self.workflow, &self.environment])
        } else {
            fingerprint_of(&[rule_id, &self.workflow, &self.environment, &self.subject])
        }
    }
}

/// What one pass found about one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: InstanceKey,
    pub seen: Observation,
    /// One line for the notification ("run r-1 has been running for 3h,
    /// over 2h"); what was wrong, or that it is clear.
    pub summary: String,
}

impl Finding {
    pub fn new(key: InstanceKey, seen: Observation, summary: impl Into<String>) -> Self {
        Self {
            key,
            seen,
            summary: summary.into(),
        }
    }
}

/// `findings`, sorted by key, plus a clear finding for every open instance
/// they don't mention: the facts only list what is there (running runs,
/// recent failures), so an instance absent from them is over.
pub(crate) fn with_open_cleared(
    mut findings: Vec<Finding>,
    open: &[InstanceKey],
    clear: &str,
) -> Vec<Finding> {
    let seen: BTreeSet<InstanceKey> = findings.iter().map(|f| f.key.clone()).collect();
    let missing: BTreeSet<&InstanceKey> = open.iter().filter(|k| !seen.contains(*k)).collect();
    findings.extend(
        missing
            .into_iter()
            .map(|k| Finding::new(k.clone(), Observation::Clear, clear)),
    );
    findings.sort_by(|a, b| a.key.cmp(&b.key));
    findings
}

/// A duration for a summary, to the second: `1h 2m 3s`.
pub(crate) fn human(d: std::time::Duration) -> String {
    humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_without_subject_has_the_run_based_fingerprint() {
        let key = InstanceKey::new("nightly", "prod");
        assert_eq!(
            key.fingerprint("r1"),
            super::super::fingerprint("r1", "nightly", "prod")
        );
        let a = InstanceKey::installation().with_subject("10.0.0.1");
        let b = InstanceKey::installation().with_subject("10.0.0.2");
        assert_ne!(a.fingerprint("r1"), b.fingerprint("r1"));
        assert_ne!(
            a.fingerprint("r1"),
            InstanceKey::installation().fingerprint("r1")
        );
        assert_eq!(a.fingerprint("r1"), a.clone().fingerprint("r1"));
    }

    #[test]
    fn open_instances_the_facts_dont_mention_are_clear() {
        let busy = InstanceKey::new("a", "prod");
        let quiet = InstanceKey::new("b", "prod");
        let found = vec![Finding::new(busy.clone(), Observation::Breach, "late")];
        let out = with_open_cleared(found, &[quiet.clone(), busy.clone(), quiet.clone()], "ok");
        assert_eq!(
            out,
            [
                Finding::new(busy, Observation::Breach, "late"),
                Finding::new(quiet, Observation::Clear, "ok"),
            ]
        );
    }
}
