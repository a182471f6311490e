//! `auth_failures`: more failed authentications within a window than the
//! rule allows, from one source address (`per_source`, one instance per
//! address: a password-guessing client) or in total (a credential
//! stuffing spread over many addresses).
//!
//! What counts is read from the audit log, where every failure is on
//! record with its source address: a refused sign-in (`session.sign_in`
//! not succeeded) and a rejected credential (`token.rejected`).

use super::{Finding, InstanceKey, human, with_open_cleared};
use crate::alert::state::Observation;
use crate::audit::Outcome;
use std::collections::BTreeMap;
use std::time::Duration;

/// The audit actions that record an authentication failure when their
/// outcome is not `succeeded` (the server's query selects them).
pub const AUTH_FAILURE_ACTIONS: [&str; 2] = ["session.sign_in", "token.rejected"];

/// Whether an audit record with `action` and `outcome` is a failed
/// authentication.
pub fn is_auth_failure(action: &str, outcome: Outcome) -> bool {
    outcome != Outcome::Succeeded && AUTH_FAILURE_ACTIONS.contains(&action)
}

/// Failures from one source address within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailures {
    /// `None` when the record has no address (a local CLI call).
    pub source: Option<String>,
    pub failures: u64,
}

/// Failures within the rule's window ending now, by source address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFacts {
    pub by_source: Vec<SourceFailures>,
}

/// How records without an address are told apart from the others.
const NO_ADDRESS: &str = "unknown";

/// Breach where more than `max_failures` failures fell within `window`
/// (per address with `per_source`, else in total); clear otherwise. Open
/// per-address instances whose address has no failures left are clear.
pub fn judge(
    max_failures: u32,
    window: Duration,
    per_source: bool,
    facts: &AuthFacts,
    open: &[InstanceKey],
) -> Vec<Finding> {
    let mut counts: BTreeMap<InstanceKey, u64> = BTreeMap::new();
    if !per_source {
        counts.insert(InstanceKey::installation(), 0);
    }
    for s in &facts.by_source {
        let key = if per_source {
            InstanceKey::installation().with_subject(s.source.as_deref().unwrap_or(NO_ADDRESS))
        } else {
            InstanceKey::installation()
        };
        let n = counts.entry(key).or_default();
        *n = n.saturating_add(s.failures);
    }
    let window = human(window);
    let findings = counts
        .into_iter()
        .map(|(key, n)| {
            let from = if key.subject.is_empty() {
                String::new()
            } else {
                format!(" from {}", key.subject)
            };
            let seen = if n > u64::from(max_failures) {
                Observation::Breach
            } else {
                Observation::Clear
            };
            let summary =
                format!("{n} authentication failures{from} within {window} (limit {max_failures})");
            Finding::new(key, seen, summary)
        })
        .collect();
    with_open_cleared(
        findings,
        open,
        "no authentication failures within the window",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(300);

    fn facts(rows: &[(Option<&str>, u64)]) -> AuthFacts {
        AuthFacts {
            by_source: rows
                .iter()
                .map(|(s, n)| SourceFailures {
                    source: s.map(Into::into),
                    failures: *n,
                })
                .collect(),
        }
    }

    fn seen(found: &[Finding]) -> Vec<(&str, Observation)> {
        found
            .iter()
            .map(|f| (f.key.subject.as_str(), f.seen))
            .collect()
    }

    #[test]
    fn overall_sums_every_address_and_fires_over_the_limit() {
        let rows = facts(&[(Some("10.0.0.1"), 6), (Some("10.0.0.2"), 4), (None, 1)]);
        assert_eq!(
            seen(&judge(11, WINDOW, false, &rows, &[])),
            [("", Observation::Clear)],
            "11 is the limit"
        );
        let found = judge(10, WINDOW, false, &rows, &[]);
        assert_eq!(seen(&found), [("", Observation::Breach)]);
        assert_eq!(
            found[0].summary,
            "11 authentication failures within 5m (limit 10)"
        );
        assert_eq!(
            seen(&judge(10, WINDOW, false, &AuthFacts::default(), &[])),
            [("", Observation::Clear)],
            "no failures at all"
        );
    }

    #[test]
    fn per_source_gives_each_address_its_own_instance() {
        let rows = facts(&[(Some("10.0.0.1"), 6), (Some("10.0.0.2"), 4), (None, 7)]);
        let found = judge(5, WINDOW, true, &rows, &[]);
        assert_eq!(
            seen(&found),
            [
                ("10.0.0.1", Observation::Breach),
                ("10.0.0.2", Observation::Clear),
                ("unknown", Observation::Breach),
            ]
        );
        assert_eq!(
            found[0].summary,
            "6 authentication failures from 10.0.0.1 within 5m (limit 5)"
        );
    }

    #[test]
    fn an_address_that_went_quiet_clears() {
        let open = [InstanceKey::installation().with_subject("10.0.0.1")];
        assert_eq!(
            seen(&judge(5, WINDOW, true, &AuthFacts::default(), &open)),
            [("10.0.0.1", Observation::Clear)]
        );
    }

    #[test]
    fn only_failed_sign_ins_and_rejected_credentials_count() {
        assert!(is_auth_failure("session.sign_in", Outcome::Failed));
        assert!(is_auth_failure("session.sign_in", Outcome::Denied));
        assert!(is_auth_failure("token.rejected", Outcome::Denied));
        assert!(!is_auth_failure("session.sign_in", Outcome::Succeeded));
        assert!(!is_auth_failure("view.denied", Outcome::Denied));
        for action in AUTH_FAILURE_ACTIONS {
            assert!(
                crate::audit::AuditAction::parse(action).is_some(),
                "{action} is a recorded action"
            );
        }
    }
}
