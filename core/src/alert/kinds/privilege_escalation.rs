//! `privilege_escalation`: audit records that widen who may do what. Read
//! from the audit log, in the order of its sequence numbers, so nothing is
//! missed between passes and nothing is counted twice. Each record is an
//! instance of its own: it fires once, on the pass that first sees it, and
//! resolves after the rule's `resolve_after` passes (it is not seen again).
//!
//! What counts (the actions Gantry records today, see `AuditAction`):
//!
//! | action | when it is an escalation |
//! |---|---|
//! | `token.create` | the token holds `admin` somewhere (`details.grants` has `admin@ENV` or `admin@*`; the bootstrap token too), or it is a SCIM token (`details.kind: scim`), which decides group membership and so, through the role mapping, who is admin |
//! | `scim.group.create`, `scim.group.update` | the group (`details.displayName`) is one the role mapping makes admin: its members changed |
//! | `environment.policy_update` | always: who must approve promotions into that environment changed |
//! | `freeze.break` | always: a promotion went through a freeze ([`FREEZE_BREAK_ACTION`]) |
//! | `passkey.register` | always: another way in that bypasses single sign-on ([`PASSKEY_REGISTER_ACTION`]) |
//! | `auth.break_glass` | always: an admin signed in with a break-glass passkey ([`BREAK_GLASS_ACTION`]) |
//!
//! The role mapping itself is configuration (`--role-mapping`, the
//! settings file), read at start-up, and not an audited action; a change
//! to it shows as the grants it gives at the next sign-in, not here.

use super::{Finding, InstanceKey, with_open_cleared};
use crate::alert::state::Observation;
use crate::audit::{AuditRecord, Outcome};
use crate::break_glass::{BREAK_GLASS_ACTION, PASSKEY_REGISTER_ACTION};
use crate::text::quoted;
use serde_json::Value;
use std::collections::BTreeSet;

/// The action a broken freeze is recorded as (`AuditAction::FreezeBreak`,
/// docs/ops/freezes.md); its `details.reason` is the admin's reason.
pub const FREEZE_BREAK_ACTION: &str = "freeze.break";

/// Every action that can be an escalation (the server's query selects
/// succeeded records with these actions after the last one it judged).
pub const ESCALATION_ACTIONS: [&str; 7] = [
    "token.create",
    "scim.group.create",
    "scim.group.update",
    "environment.policy_update",
    FREEZE_BREAK_ACTION,
    PASSKEY_REGISTER_ACTION,
    BREAK_GLASS_ACTION,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationKind {
    /// A token holding `admin`.
    AdminToken,
    /// A SCIM token: it provisions groups, which grant roles.
    ProvisioningToken,
    /// The members of a group the role mapping makes admin changed.
    AdminGroupChanged,
    EnvironmentPolicy,
    FreezeBreak,
    /// A break-glass passkey registered.
    BreakGlassPasskey,
    /// A break-glass sign-in: an admin session without single sign-on.
    BreakGlass,
}

/// One record that widened privileges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub kind: EscalationKind,
    /// The environments it reaches; empty: every environment.
    pub environments: Vec<String>,
    /// One line: who did what.
    pub summary: String,
}

impl Escalation {
    /// Whether a rule scoped to `environment` cares about it.
    pub fn concerns(&self, environment: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == environment)
    }
}

/// What a record is, if it widened privileges. `admin_groups`: the groups
/// the role mapping grants `admin` (see `RoleMapping::groups_granting`).
/// A record that did not succeed widened nothing.
pub fn escalation(record: &AuditRecord, admin_groups: &BTreeSet<String>) -> Option<Escalation> {
    if record.outcome != Outcome::Succeeded {
        return None;
    }
    let who = &record.actor.name;
    let detail = |key: &str| record.details.get(key).and_then(Value::as_str);
    let env_of_record = || record.environment.iter().cloned().collect::<Vec<_>>();
    let (kind, environments, summary) = match record.action.as_str() {
        "token.create" => {
            let token = record
                .resource
                .strip_prefix("token/")
                .unwrap_or(&record.resource);
            let admin: Vec<&str> = record
                .details
                .get("grants")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|g| g.split_once('@').map_or(*g, |(role, _)| role) == "admin")
                .collect();
            if !admin.is_empty() {
                // `admin@*` reaches every environment.
                let envs = admin
                    .iter()
                    .map(|g| g.split_once('@').map_or("*", |(_, env)| env))
                    .collect::<BTreeSet<_>>();
                let environments = if envs.contains("*") {
                    Vec::new()
                } else {
                    envs.into_iter().map(str::to_owned).collect()
                };
                let summary = format!(
                    "{who} created token {} holding {}",
                    quoted(token),
                    admin.join(", ")
                );
                (EscalationKind::AdminToken, environments, summary)
            } else if detail("kind") == Some("scim") {
                let summary = format!(
                    "{who} created SCIM token {}, which provisions the groups roles come from",
                    quoted(token)
                );
                (EscalationKind::ProvisioningToken, Vec::new(), summary)
            } else {
                return None;
            }
        }
        "scim.group.create" | "scim.group.update" => {
            let group = detail("displayName").filter(|g| admin_groups.contains(*g))?;
            let summary = format!(
                "{who} changed the members of group {}, which the role mapping makes admin",
                quoted(group)
            );
            (EscalationKind::AdminGroupChanged, Vec::new(), summary)
        }
        "environment.policy_update" => {
            let env = record.environment.as_deref().unwrap_or("an environment");
            let summary = format!("{who} changed the promotion policy of {env}");
            (EscalationKind::EnvironmentPolicy, env_of_record(), summary)
        }
        FREEZE_BREAK_ACTION => {
            let env = record.environment.as_deref().unwrap_or("an environment");
            let reason = detail("reason")
                .map(|r| format!(": {}", quoted(r)))
                .unwrap_or_default();
            let summary = format!("{who} broke the freeze of {env}{reason}");
            (EscalationKind::FreezeBreak, env_of_record(), summary)
        }
        PASSKEY_REGISTER_ACTION => {
            let name = detail("name")
                .map(|n| format!(" {}", quoted(n)))
                .unwrap_or_default();
            let summary = format!("{who} registered break-glass passkey{name}");
            (EscalationKind::BreakGlassPasskey, Vec::new(), summary)
        }
        BREAK_GLASS_ACTION => {
            let summary = format!(
                "{who} signed in with a break-glass passkey: an admin session without single sign-on"
            );
            (EscalationKind::BreakGlass, Vec::new(), summary)
        }
        _ => return None,
    };
    Some(Escalation {
        kind,
        environments,
        summary,
    })
}

/// Audit records written since the last pass, and what the role mapping
/// makes admin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrivilegeFacts {
    pub records: Vec<AuditRecord>,
    pub admin_groups: BTreeSet<String>,
}

/// A breach per escalation among the records (those that concern
/// `environment`, when the rule names one), each its own instance keyed
/// by the record's sequence number; open instances of earlier records are
/// clear, so each resolves after the rule's `resolve_after` passes.
pub fn judge(
    environment: Option<&str>,
    facts: &PrivilegeFacts,
    open: &[InstanceKey],
) -> Vec<Finding> {
    let findings = facts
        .records
        .iter()
        .filter_map(|record| {
            let found = escalation(record, &facts.admin_groups)?;
            if environment.is_some_and(|env| !found.concerns(env)) {
                return None;
            }
            let env = match found.environments.as_slice() {
                [one] => one.clone(),
                _ => String::new(),
            };
            let key = InstanceKey::new("", env).with_subject(format!("audit:{}", record.seq));
            Some(Finding::new(key, Observation::Breach, found.summary))
        })
        .collect();
    with_open_cleared(findings, open, "seen and passed")
}

#[cfg(test)]
#[path = "privilege_escalation_tests.rs"]
mod tests;
