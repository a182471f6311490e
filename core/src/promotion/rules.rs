//! Who may do what with promotions: pure, by person (like
//! `core::approval`), against the target environment's policy. The port
//! calls one of these once per act, before any change; each refusal says
//! why ([`Refusal`]).
//!
//! Decisions where the issue left room:
//! - **Requesting** needs the policy's `request_role` (or admin) in the
//!   *target* environment: the policy guards the target, and a role in the
//!   source (which many hold in `dev`) must not open requests into `prod`.
//!   A request is sensitive (step-up) only when the policy requires no
//!   approval, since then the requester alone may promote.
//! - **Approving and rejecting** need `approver` or `admin` in the target, or
//!   a delegation ([`super::delegation`]); never the requester or anyone who
//!   applied the version; step-up where the policy says so and always in the
//!   last environment. Each person and each right approves once.
//! - **Cancelling** is for the requester, or an admin of the target.
//! - **Ticking** a manual item needs its role (or admin) in the target;
//!   **acknowledging** what the diff adds is a review, so it needs approver
//!   (or admin) there and is refused to the requester and the authors.
//! - **Rolling back** needs the policy's `rollback_role` (or admin), with
//!   step-up as for approvals; **editing a policy** needs admin in that
//!   environment, with step-up when the policy in force asks for it (its
//!   gate is what an edit could weaken).
//! - **Delegating** is sensitive: step-up always.
//!
//! Tokens act with their roles, for the person who made them; whether a
//! token may decide at all in an environment is `--token-approvals`
//! (`approval::check_token_may_decide`), which the port applies too.

use super::checklist::{ChecklistItemTemplate, ItemCheck};
use super::delegation::{
    APPROVER_ROLES, Actor, ApprovalRight, DelegatedRight, Delegation, FourEyes, approval_right,
    check_delegation, check_four_eyes,
};
use super::policy::{EnvironmentPolicy, EnvironmentPosition};
use super::refusal::{PromotionAct, Refusal};
use super::request::{PromotionApproval, ReviewBasis};
use crate::environment::Environment;
use crate::error::PortError;
use crate::identity::Role;
use chrono::{DateTime, Duration, Utc};

/// The environment acted on, with its policy and place in the order.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub environment: &'a Environment,
    pub position: EnvironmentPosition,
    pub policy: &'a EnvironmentPolicy,
}

impl Target<'_> {
    fn step_up(&self) -> bool {
        self.policy.step_up_applies(self.position)
    }
}

/// The step-up window at the moment of acting.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub now: DateTime<Utc>,
    pub max_age: Duration,
}

/// A pending request as an approver sees it.
#[derive(Debug, Clone, Copy)]
pub struct PendingReview<'a> {
    pub parties: FourEyes<'a>,
    /// The approvals given so far.
    pub approvals: &'a [PromotionApproval],
    /// What is being reviewed now.
    pub basis: &'a ReviewBasis,
}

/// A sensitive act by a person whose sign-in is stale needs a new one.
fn fresh_enough(who: &Actor<'_>, sensitive: bool, fresh: &Freshness) -> Result<(), Refusal> {
    if sensitive && crate::step_up::is_stale(who.principal, fresh.now, fresh.max_age) {
        Err(Refusal::StepUpRequired {
            max_age_secs: fresh.max_age.num_seconds(),
        })
    } else {
        Ok(())
    }
}

fn role_or_admin(
    who: &Actor<'_>,
    role: Role,
    target: &Target<'_>,
    act: PromotionAct,
) -> Result<(), Refusal> {
    if who.holds_or_admin(role, target.environment) {
        return Ok(());
    }
    let mut roles = vec![role];
    if role != Role::Admin {
        roles.push(Role::Admin);
    }
    Err(Refusal::MissingRole {
        act,
        environment: target.environment.to_string(),
        roles,
        delegable: false,
    })
}

/// May `who` ask to promote into `target`?
pub fn may_request(who: &Actor<'_>, target: &Target<'_>, fresh: &Freshness) -> Result<(), Refusal> {
    role_or_admin(
        who,
        target.policy.request_role,
        target,
        PromotionAct::Request,
    )?;
    fresh_enough(
        who,
        target.step_up() && target.policy.required_approvals == 0,
        fresh,
    )
}

/// May `who` approve `review` now, and with whose right? Refuses a second
/// approval by the same person or with the same right (409).
pub fn may_approve(
    who: &Actor<'_>,
    target: &Target<'_>,
    review: &PendingReview<'_>,
    delegations: &[DelegatedRight<'_>],
    fresh: &Freshness,
) -> Result<ApprovalRight, Refusal> {
    let right = approval_right(
        who,
        target.environment,
        &review.parties,
        delegations,
        PromotionAct::Approve,
        fresh.now,
    )?;
    let person = who.person.unwrap_or_default();
    let holder = match &right {
        ApprovalRight::Own => person,
        ApprovalRight::Delegated { from } => from.id.as_str(),
    };
    for a in review
        .approvals
        .iter()
        .filter(|a| a.reviewed == *review.basis)
    {
        if a.by.id == person {
            return Err(Refusal::AlreadyApproved { on_behalf_of: None });
        }
        if a.right_holder().id == holder {
            return Err(Refusal::AlreadyApproved {
                on_behalf_of: Some(a.right_holder().name.clone()),
            });
        }
    }
    fresh_enough(who, target.step_up(), fresh)?;
    Ok(right)
}

/// May `who` reject the request? The same people as may approve.
pub fn may_reject(
    who: &Actor<'_>,
    target: &Target<'_>,
    parties: &FourEyes<'_>,
    delegations: &[DelegatedRight<'_>],
    fresh: &Freshness,
) -> Result<ApprovalRight, Refusal> {
    let right = approval_right(
        who,
        target.environment,
        parties,
        delegations,
        PromotionAct::Reject,
        fresh.now,
    )?;
    fresh_enough(who, target.step_up(), fresh)?;
    Ok(right)
}

/// May `who` cancel a request `requester` made?
pub fn may_cancel(who: &Actor<'_>, target: &Target<'_>, requester: &str) -> Result<(), Refusal> {
    if who.person == Some(requester) || who.principal.holds(Role::Admin, target.environment) {
        Ok(())
    } else {
        Err(Refusal::NotRequester {
            environment: target.environment.to_string(),
        })
    }
}

/// May `who` tick or untick `item` on a request into `target`?
pub fn may_tick(
    who: &Actor<'_>,
    target: &Target<'_>,
    item: &ChecklistItemTemplate,
    parties: &FourEyes<'_>,
) -> Result<(), Refusal> {
    match &item.check {
        ItemCheck::Manual { role, .. } => role_or_admin(who, *role, target, PromotionAct::Tick),
        check if check.is_acknowledgeable() => {
            check_four_eyes(who, parties, PromotionAct::Acknowledge)?;
            if APPROVER_ROLES
                .iter()
                .any(|r| who.principal.holds(*r, target.environment))
            {
                Ok(())
            } else {
                Err(Refusal::MissingRole {
                    act: PromotionAct::Acknowledge,
                    environment: target.environment.to_string(),
                    roles: APPROVER_ROLES.to_vec(),
                    delegable: false,
                })
            }
        }
        _ => Err(Refusal::AutomaticItem {
            item: item.id.clone(),
        }),
    }
}

/// The evidence note of a tick: trimmed, bounded, checked like other texts
/// others read, and present when the item requires it.
pub fn check_evidence(
    item: &ChecklistItemTemplate,
    evidence: Option<&str>,
) -> Result<Option<String>, PortError> {
    let evidence = crate::approval::clean_text("evidence", evidence)?;
    let required = matches!(
        item.check,
        ItemCheck::Manual {
            evidence_required: true,
            ..
        }
    );
    if required && evidence.is_none() {
        return Err(PortError::invalid(
            "evidence",
            format!(
                "item {} needs evidence: a link or a note saying how you checked",
                item.id
            ),
        ));
    }
    Ok(evidence)
}

/// May `who` roll back in `target`?
pub fn may_roll_back(
    who: &Actor<'_>,
    target: &Target<'_>,
    fresh: &Freshness,
) -> Result<(), Refusal> {
    role_or_admin(
        who,
        target.policy.rollback_role,
        target,
        PromotionAct::RollBack,
    )?;
    fresh_enough(who, target.step_up(), fresh)
}

/// May `who` steer a canary into `target`? Pausing, resuming and
/// aborting need the policy's rollback role (operator by default: on-call
/// stops a bad canary at 3 a.m.); promoting at once and clearing a hold
/// skip the analysis, so they need approver. Aborting and promoting are
/// sensitive like a rollback.
pub fn may_control_canary(
    who: &Actor<'_>,
    target: &Target<'_>,
    control: crate::canary::CanaryControl,
    fresh: &Freshness,
) -> Result<(), Refusal> {
    use crate::canary::CanaryControl as C;
    match control {
        C::Pause | C::Resume | C::Abort => role_or_admin(
            who,
            target.policy.rollback_role,
            target,
            PromotionAct::SteerCanary,
        )?,
        C::Promote | C::ClearHold => {
            role_or_admin(who, Role::Approver, target, PromotionAct::PromoteCanary)?
        }
    }
    fresh_enough(
        who,
        target.step_up() && matches!(control, C::Abort | C::Promote),
        fresh,
    )
}

/// May `who` replace the policy of `target` (whose `policy` is the one in
/// force)?
pub fn may_edit_policy(
    who: &Actor<'_>,
    target: &Target<'_>,
    fresh: &Freshness,
) -> Result<(), Refusal> {
    role_or_admin(who, Role::Admin, target, PromotionAct::EditPolicy)?;
    fresh_enough(who, target.step_up(), fresh)
}

/// May `who` make `delegation` in `environment`? Always sensitive.
pub fn may_delegate(
    who: &Actor<'_>,
    delegation: &Delegation,
    environment: &Environment,
    fresh: &Freshness,
) -> Result<(), Refusal> {
    check_delegation(who, delegation, environment, fresh.now)?;
    fresh_enough(who, true, fresh)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
