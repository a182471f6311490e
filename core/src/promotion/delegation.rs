//! Who holds an approval right, by person: their own role, or a delegation
//! from someone who holds it. An approver going on leave delegates their
//! approvals in one environment to a named person for a period; the
//! delegate then approves with the delegator's right, never for a request
//! they made or a version they applied, nor when the delegator is such a
//! party. The same rules serve run approvals ([`approval_right`] takes the
//! parties of either).
//!
//! Only people use a delegated right: a token acts with the roles it was
//! given, and a delegation is a person's trust in a person.

use super::refusal::{PromotionAct, Refusal};
use crate::approval::Person;
use crate::environment::Environment;
use crate::identity::{Principal, PrincipalKind, Role};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The longest a delegation may last: a long leave. Longer is a standing
/// grant, which is an admin's job (give the role).
pub const MAX_DELEGATION_DAYS: i64 = 90;

/// The roles that carry an approval right.
pub const APPROVER_ROLES: [Role; 2] = [Role::Approver, Role::Admin];

/// `from` lets `to` approve in `environment` with `from`'s approval right,
/// from `from_time` until `until` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delegation {
    pub from: Person,
    pub to: Person,
    pub environment: String,
    pub from_time: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Delegation {
    /// Whether it applies in `environment` at `at`.
    pub fn is_active(&self, environment: &str, at: DateTime<Utc>) -> bool {
        self.environment == environment && self.from_time <= at && at < self.until
    }
}

/// Someone acting: the credential, and the person behind it (a person is
/// themself; a token its maker's person; `None` for a token whose maker was
/// never recorded).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub person: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// A person acting as themself.
    pub fn person(principal: &'a Principal) -> Self {
        Actor {
            principal,
            person: Some(principal.id.0.as_str()),
        }
    }

    /// Holds `role`, or admin, in `environment`.
    pub fn holds_or_admin(&self, role: Role, environment: &Environment) -> bool {
        self.principal.holds(role, environment) || self.principal.holds(Role::Admin, environment)
    }
}

/// The people four eyes keep out of a decision, by person id: who asked
/// (for the promotion, or the run), and who applied the version (anyone
/// who did, if several applied the same content).
#[derive(Debug, Clone, Copy)]
pub struct FourEyes<'a> {
    pub workflow: &'a str,
    pub version: u32,
    pub requester: &'a str,
    pub authors: &'a [String],
}

impl FourEyes<'_> {
    /// Why `person` is a party, if they are.
    fn party(&self, person: &str) -> Option<String> {
        if person == self.requester {
            Some("asked for it".to_owned())
        } else if self.authors.iter().any(|a| a == person) {
            Some(format!(
                "applied version {} of {}",
                self.version, self.workflow
            ))
        } else {
            None
        }
    }
}

/// A delegation together with its delegator as they are now: their roles
/// may have changed since they delegated, and the right is only theirs
/// while they hold it.
#[derive(Debug, Clone, Copy)]
pub struct DelegatedRight<'a> {
    pub delegation: &'a Delegation,
    pub delegator: &'a Principal,
}

/// Whose right an approval uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "right", rename_all = "snake_case")]
pub enum ApprovalRight {
    Own,
    Delegated { from: Person },
}

/// Four eyes by person: refuses the requester and the version's authors,
/// behind whatever credential, and a token that stands for no one.
pub fn check_four_eyes<'a>(
    who: &Actor<'a>,
    parties: &FourEyes<'_>,
    act: PromotionAct,
) -> Result<&'a str, Refusal> {
    let person = who.person.ok_or(Refusal::UnknownPerson)?;
    if person == parties.requester {
        return Err(Refusal::OwnRequest { act });
    }
    if parties.authors.iter().any(|a| a == person) {
        return Err(Refusal::Author {
            act,
            workflow: parties.workflow.to_owned(),
            version: parties.version,
        });
    }
    Ok(person)
}

/// The approval right `who` would use to decide (`act`: approve or reject)
/// in `environment` at `now`: their own role, else an active delegation to
/// them from someone who holds the role there now and isn't a party.
pub fn approval_right(
    who: &Actor<'_>,
    environment: &Environment,
    parties: &FourEyes<'_>,
    delegations: &[DelegatedRight<'_>],
    act: PromotionAct,
    now: DateTime<Utc>,
) -> Result<ApprovalRight, Refusal> {
    let person = check_four_eyes(who, parties, act)?;
    if APPROVER_ROLES
        .iter()
        .any(|r| who.principal.holds(*r, environment))
    {
        return Ok(ApprovalRight::Own);
    }
    let mut void = None;
    if who.principal.kind == PrincipalKind::User {
        for d in delegations {
            let delegation = d.delegation;
            let usable = delegation.to.id == person
                && delegation.is_active(environment.as_str(), now)
                && d.delegator.id.0 == delegation.from.id
                && APPROVER_ROLES
                    .iter()
                    .any(|r| d.delegator.holds(*r, environment));
            if !usable {
                continue;
            }
            if let Some(why) = parties.party(&delegation.from.id) {
                void.get_or_insert(Refusal::DelegatorIsParty {
                    act,
                    delegator: delegation.from.name.clone(),
                    environment: environment.to_string(),
                    why,
                });
                continue;
            }
            return Ok(ApprovalRight::Delegated {
                from: delegation.from.clone(),
            });
        }
    }
    Err(void.unwrap_or(Refusal::MissingRole {
        act,
        environment: environment.to_string(),
        roles: APPROVER_ROLES.to_vec(),
        delegable: true,
    }))
}

/// Whether `who` may make `delegation` of their own approvals in
/// `environment` now. Whether the delegate may use it on a given request is
/// decided when they do ([`approval_right`]).
pub fn check_delegation(
    who: &Actor<'_>,
    delegation: &Delegation,
    environment: &Environment,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let invalid = |field: &str, message: String| Refusal::Invalid {
        field: field.to_owned(),
        message,
    };
    if who.principal.kind != PrincipalKind::User {
        return Err(Refusal::PeopleOnly {
            act: PromotionAct::Delegate,
        });
    }
    if who.person != Some(delegation.from.id.as_str())
        || delegation.environment != environment.as_str()
    {
        return Err(invalid(
            "from",
            "a delegation gives away your own approvals, in the environment it names".to_owned(),
        ));
    }
    if !APPROVER_ROLES
        .iter()
        .any(|r| who.principal.holds(*r, environment))
    {
        return Err(Refusal::MissingRole {
            act: PromotionAct::Delegate,
            environment: environment.to_string(),
            roles: APPROVER_ROLES.to_vec(),
            delegable: false,
        });
    }
    if delegation.to.id == delegation.from.id {
        return Err(invalid("to", "name someone other than yourself".to_owned()));
    }
    if delegation.until <= delegation.from_time {
        return Err(invalid("until", "must be after the start".to_owned()));
    }
    if delegation.until <= now {
        return Err(invalid(
            "until",
            "is in the past; pick a later end".to_owned(),
        ));
    }
    if delegation.until - delegation.from_time > Duration::days(MAX_DELEGATION_DAYS) {
        return Err(invalid(
            "until",
            format!(
                "a delegation lasts at most {MAX_DELEGATION_DAYS} days; for longer, ask an admin \
                 to grant the role"
            ),
        ));
    }
    Ok(())
}

/// Whether `who` may revoke `delegation` (in `environment`): the person
/// who delegated (behind whatever credential: withdrawing a right needs no
/// more than having given it), or an admin there.
pub fn may_revoke(
    who: &Actor<'_>,
    delegation: &Delegation,
    environment: &Environment,
) -> Result<(), Refusal> {
    if who.person == Some(delegation.from.id.as_str())
        || who.principal.holds(Role::Admin, environment)
    {
        Ok(())
    } else {
        Err(Refusal::NotDelegator {
            environment: environment.to_string(),
        })
    }
}

#[cfg(test)]
#[path = "delegation_tests.rs"]
mod tests;
