//! Which roles a person signing in through single sign-on holds: their
//! identity provider's groups, mapped by configuration
//! (`--role-mapping sre=operator@dev,approver@prod`). Re-evaluated at every
//! sign-in, so a change of groups at the provider shows on the next one.

use crate::environment::{EnvScope, Environments};
use crate::identity::{Role, RoleGrant};
use crate::token::parse_grant;
use std::collections::BTreeSet;

/// One `GROUP=ROLE@ENV,ROLE@ENV…` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRule {
    group: String,
    grants: Vec<(Role, EnvScope)>,
}

impl MappingRule {
    /// Parses `GROUP=ROLE@ENV,…` against the server's environments. A bare
    /// role means every environment (`security=auditor`).
    pub fn parse(text: &str, environments: &Environments) -> Result<Self, String> {
        let Some((group, roles)) = text.split_once('=') else {
            return Err(format!(
                "{text:?} is not GROUP=ROLE@ENV,…, e.g. sre=operator@dev,approver@prod"
            ));
        };
        let group = group.trim();
        if group.is_empty() {
            return Err(format!("{text:?} names no group before '='"));
        }
        let grants = roles
            .split(',')
            .filter(|r| !r.trim().is_empty())
            .map(|r| parse_grant(r, environments))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("group {group:?}: {e}"))?;
        if grants.is_empty() {
            return Err(format!("group {group:?} maps to no role"));
        }
        Ok(Self {
            group: group.to_owned(),
            grants,
        })
    }

    pub fn group(&self) -> &str {
        &self.group
    }
}

/// Every rule, in configuration order. Several rules may name one group;
/// their roles add up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    rules: Vec<MappingRule>,
}

/// Where a group-derived grant says it came from: `group:NAME`.
pub fn group_source(group: &str) -> String {
    format!("group:{group}")
}

impl RoleMapping {
    pub fn new(rules: Vec<MappingRule>) -> Self {
        Self { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The groups whose members it grants `role` in some environment (the
    /// privilege-escalation alert watches changes to the `admin` ones).
    pub fn groups_granting(&self, role: Role) -> BTreeSet<String> {
        self.rules
            .iter()
            .filter(|r| r.grants.iter().any(|(granted, _)| *granted == role))
            .map(|r| r.group.clone())
            .collect()
    }

    /// The grants a member of `groups` holds, each with the group that gave
    /// it, without duplicates, in a stable order. Group names compare
    /// exactly (providers differ on case; Entra sends object ids).
    pub fn grants_for(&self, groups: &[String]) -> Vec<RoleGrant> {
        let member: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| member.contains(r.group.as_str()))
        {
            for (role, scope) in &rule.grants {
                let key = (*role, scope.to_string(), rule.group.clone());
                if seen.insert(key) {
                    out.push(RoleGrant {
                        role: *role,
                        scope: scope.clone(),
                        source: group_source(&rule.group),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Environments {
        Environments::parse_list("dev,stage,prod").unwrap()
    }

    fn mapping(rules: &[&str]) -> RoleMapping {
        RoleMapping::new(
            rules
                .iter()
                .map(|r| MappingRule::parse(r, &envs()).unwrap())
                .collect(),
        )
    }

    fn texts(grants: &[RoleGrant]) -> Vec<String> {
        grants
            .iter()
            .map(|g| format!("{}@{} from {}", g.role, g.scope, g.source))
            .collect()
    }

    #[test]
    fn groups_map_to_the_roles_of_every_matching_rule() {
        let m = mapping(&[
            "sre=operator@dev,operator@stage,approver@prod",
            "platform-admins=admin@*",
            "security=auditor",
        ]);
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["sre"],
                &[
                    "operator@dev from group:sre",
                    "operator@stage from group:sre",
                    "approver@prod from group:sre",
                ],
            ),
            (
                &["platform-admins"],
                &["admin@* from group:platform-admins"],
            ),
            (&["security"], &["auditor@* from group:security"]),
            (
                &["security", "platform-admins"],
                &[
                    "admin@* from group:platform-admins",
                    "auditor@* from group:security",
                ],
            ),
            (&[], &[]),
            (&["unmapped", "SRE"], &[]),
        ];
        for (groups, expected) in cases {
            let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
            assert_eq!(texts(&m.grants_for(&groups)), *expected, "{groups:?}");
        }
    }

    #[test]
    fn rules_for_one_group_add_up_without_duplicates() {
        let m = mapping(&["sre=operator@dev", "sre=operator@dev,viewer@prod"]);
        assert_eq!(
            texts(&m.grants_for(&["sre".to_owned(), "sre".to_owned()])),
            ["operator@dev from group:sre", "viewer@prod from group:sre"]
        );
    }

    #[test]
    fn the_groups_granting_a_role_anywhere() {
        let m = mapping(&[
            "sre=operator@dev,admin@dev",
            "platform-admins=admin@*",
            "security=auditor",
        ]);
        let admins: Vec<String> = m.groups_granting(Role::Admin).into_iter().collect();
        assert_eq!(admins, ["platform-admins", "sre"]);
        assert!(m.groups_granting(Role::Approver).is_empty());
        assert!(
            RoleMapping::default()
                .groups_granting(Role::Admin)
                .is_empty()
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("sre", "GROUP=ROLE@ENV"),
            ("=admin", "names no group"),
            ("sre=", "maps to no role"),
            ("sre=root@dev", "not a role"),
            ("sre=operator@qa", "unknown environment qa"),
        ];
        for (text, needle) in cases {
            let err = MappingRule::parse(text, &envs()).unwrap_err();
            assert!(err.contains(needle), "{text:?} -> {err}");
        }
    }
}
