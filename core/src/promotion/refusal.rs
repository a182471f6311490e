//! Why someone may not do something with a promotion: typed, serializable,
//! and each with a message that says why and what to do instead. They
//! become the body of a 403 (or 401 for step-up, 409 for a repeat).

use crate::error::PortError;
use crate::identity::Role;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What someone tries to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionAct {
    Request,
    Approve,
    Reject,
    Cancel,
    /// Tick or untick a manual item.
    Tick,
    /// Acknowledge the new hosts or secret references a diff adds.
    Acknowledge,
    RollBack,
    EditPolicy,
    Delegate,
    /// Approve or reject a run approval request (four eyes for runs, with
    /// the same delegations).
    DecideRun,
    /// Pause, resume or abort a canary.
    SteerCanary,
    /// Promote a canary at once, or clear the hold an automatic rollback
    /// left.
    PromoteCanary,
}

impl PromotionAct {
    /// The act, ready for " {environment}".
    fn phrase(self) -> &'static str {
        match self {
            PromotionAct::Request => "asking for promotions into",
            PromotionAct::Approve => "approving promotions into",
            PromotionAct::Reject => "rejecting promotions into",
            PromotionAct::Cancel => "cancelling other people's promotions into",
            PromotionAct::Tick => "ticking this item for promotions into",
            PromotionAct::Acknowledge => {
                "acknowledging new hosts and secret references for promotions into"
            }
            PromotionAct::RollBack => "rolling back in",
            PromotionAct::EditPolicy => "changing the promotion policy of",
            PromotionAct::Delegate => "delegating approvals in",
            PromotionAct::DecideRun => "deciding run approvals in",
            PromotionAct::SteerCanary => "pausing, resuming or aborting canaries in",
            PromotionAct::PromoteCanary => "promoting canaries or clearing their holds in",
        }
    }

    /// What "someone else must …" do.
    fn duty(self) -> &'static str {
        match self {
            PromotionAct::Approve => "approve it",
            PromotionAct::Reject => "reject it",
            PromotionAct::Acknowledge => "acknowledge what it adds",
            _ => "decide it",
        }
    }
}

/// Roles as "approver or admin".
fn roles_text(roles: &[Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    match names.as_slice() {
        [] => "no".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    #[error("{} {environment} needs the {} role there{}", act.phrase(), roles_text(roles),
        if *delegable { " (or a delegation from someone who holds it)" } else { "" })]
    MissingRole {
        act: PromotionAct,
        environment: String,
        roles: Vec<Role>,
        /// Whether a delegation would have given the right.
        delegable: bool,
    },
    #[error(
        "this token's maker was never recorded (it predates four eyes by person), so it stands \
         for no one; act as a person, or with a token made since"
    )]
    UnknownPerson,
    #[error("{}", own_request(*act))]
    OwnRequest { act: PromotionAct },
    #[error(
        "you applied version {version} of {workflow} (tokens count as the person who made them); \
         someone else must {} (four eyes)", act.duty()
    )]
    Author {
        act: PromotionAct,
        workflow: String,
        version: u32,
    },
    /// A delegated right that can't be used here: the delegator is a party.
    #[error(
        "{delegator} delegated their approvals in {environment} to you, but {delegator} {why}, \
         so their right can't {} (four eyes)", act.duty()
    )]
    DelegatorIsParty {
        act: PromotionAct,
        delegator: String,
        environment: String,
        why: String,
    },
    #[error("{}", already_approved(on_behalf_of.as_deref()))]
    AlreadyApproved { on_behalf_of: Option<String> },
    #[error(
        "only the person who asked for this promotion, or an admin in {environment}, can cancel it"
    )]
    NotRequester { environment: String },
    #[error(
        "only the person who delegated, or an admin in {environment}, can revoke this delegation"
    )]
    NotDelegator { environment: String },
    #[error("{} needs a person signed in; tokens can't", act.phrase().split(" in").next().unwrap_or("this"))]
    PeopleOnly { act: PromotionAct },
    #[error("item {item} is checked automatically from Gantry's data; nobody ticks it")]
    AutomaticItem { item: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("this needs a recent sign-in (within {}); sign in again to continue",
        crate::promotion::duration::PolicyDuration::from_secs(max_age_secs.unsigned_abs()))]
    StepUpRequired { max_age_secs: i64 },
}

fn own_request(act: PromotionAct) -> String {
    let mut text = format!(
        "you asked for this (tokens count as the person who made them); someone else must {} \
         (four eyes)",
        act.duty()
    );
    if matches!(act, PromotionAct::Approve | PromotionAct::Reject) {
        // Rejecting one's own request reads as withdrawing it: say how.
        text.push_str("; to withdraw it, cancel it");
    }
    text
}

fn already_approved(on_behalf_of: Option<&str>) -> String {
    match on_behalf_of {
        Some(name) => format!("{name}'s approval right was already used on this promotion"),
        None => "you already approved this promotion".to_owned(),
    }
}

impl From<Refusal> for PortError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::StepUpRequired { max_age_secs } => {
                crate::step_up::step_up_required(chrono::Duration::seconds(max_age_secs))
            }
            Refusal::AlreadyApproved { .. } | Refusal::AutomaticItem { .. } => {
                PortError::Conflict {
                    message: refusal.to_string(),
                }
            }
            Refusal::Invalid { field, message } => PortError::Invalid { field, message },
            _ => PortError::forbidden(refusal.to_string()),
        }
    }
}

impl fmt::Display for PromotionAct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_statuses_table() {
        let cases: Vec<(Refusal, u16, &str)> = vec![
            (
                Refusal::MissingRole {
                    act: PromotionAct::Approve,
                    environment: "prod".into(),
                    roles: vec![Role::Approver, Role::Admin],
                    delegable: true,
                },
                403,
                "approving promotions into prod needs the approver or admin role there (or a delegation from someone who holds it)",
            ),
            (
                Refusal::MissingRole {
                    act: PromotionAct::RollBack,
                    environment: "prod".into(),
                    roles: vec![Role::Operator, Role::Admin],
                    delegable: false,
                },
                403,
                "rolling back in prod needs the operator or admin role there",
            ),
            (
                Refusal::OwnRequest {
                    act: PromotionAct::Approve,
                },
                403,
                "you asked for this (tokens count as the person who made them); someone else must approve it (four eyes); to withdraw it, cancel it",
            ),
            (
                Refusal::OwnRequest {
                    act: PromotionAct::Acknowledge,
                },
                403,
                "you asked for this (tokens count as the person who made them); someone else must acknowledge what it adds (four eyes)",
            ),
            (
                Refusal::Author {
                    act: PromotionAct::Approve,
                    workflow: "deploy".into(),
                    version: 7,
                },
                403,
                "you applied version 7 of deploy (tokens count as the person who made them); someone else must approve it (four eyes)",
            ),
            (
                Refusal::DelegatorIsParty {
                    act: PromotionAct::Approve,
                    delegator: "Avery".into(),
                    environment: "prod".into(),
                    why: "asked for it".into(),
                },
                403,
                "Avery delegated their approvals in prod to you, but Avery asked for it, so their right can't approve it (four eyes)",
            ),
            (
                Refusal::AlreadyApproved { on_behalf_of: None },
                409,
                "you already approved this promotion",
            ),
            (
                Refusal::AlreadyApproved {
                    on_behalf_of: Some("Avery".into()),
                },
                409,
                "Avery's approval right was already used on this promotion",
            ),
            (
                Refusal::NotRequester {
                    environment: "prod".into(),
                },
                403,
                "only the person who asked for this promotion, or an admin in prod, can cancel it",
            ),
            (
                Refusal::NotDelegator {
                    environment: "prod".into(),
                },
                403,
                "only the person who delegated, or an admin in prod, can revoke this delegation",
            ),
            (
                Refusal::PeopleOnly {
                    act: PromotionAct::Delegate,
                },
                403,
                "delegating approvals needs a person signed in; tokens can't",
            ),
            (
                Refusal::AutomaticItem {
                    item: "soak".into(),
                },
                409,
                "item soak is checked automatically from Gantry's data; nobody ticks it",
            ),
            (
                Refusal::Invalid {
                    field: "evidence".into(),
                    message: "this item needs a link or note".into(),
                },
                400,
                "evidence: this item needs a link or note",
            ),
            (
                Refusal::UnknownPerson,
                403,
                "this token's maker was never recorded",
            ),
            (
                Refusal::MissingRole {
                    act: PromotionAct::DecideRun,
                    environment: "prod".into(),
                    roles: vec![Role::Approver, Role::Admin],
                    delegable: true,
                },
                403,
                "deciding run approvals in prod needs the approver or admin role there (or a delegation",
            ),
            (
                Refusal::StepUpRequired { max_age_secs: 900 },
                401,
                "this needs a recent sign-in (within 15 min); sign in again to continue",
            ),
        ];
        for (refusal, status, message) in cases {
            assert!(refusal.to_string().starts_with(message), "{refusal}");
            let err = PortError::from(refusal.clone());
            assert_eq!(err.http_status(), status, "{refusal}");
            assert!(err.to_string().contains(message), "{err}");
        }
    }

    #[test]
    fn refusals_serialize_with_their_reason() {
        let r = Refusal::OwnRequest {
            act: PromotionAct::Approve,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"reason": "own_request", "act": "approve"})
        );
    }

    #[test]
    fn role_lists_read_naturally() {
        assert_eq!(roles_text(&[Role::Admin]), "admin");
        assert_eq!(
            roles_text(&[Role::Operator, Role::Admin]),
            "operator or admin"
        );
        assert_eq!(
            roles_text(&[Role::Operator, Role::Approver, Role::Admin]),
            "operator, approver or admin"
        );
    }
}
