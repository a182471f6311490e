//! Promotion requests: their states and the only moves between them.
//!
//! ```text
//! pending ──▶ promoted     (the gate opened: approvals and checklist)
//!    ├──────▶ rejected     (an approver said no)
//!    ├──────▶ cancelled    (the requester, or an admin, withdrew it)
//!    ├──────▶ expired      (nobody decided within the policy's request_ttl)
//!    └──────▶ superseded   (a newer version was asked for, same target)
//! ```
//!
//! Every state but `pending` is final. Approvals are bound to what was
//! reviewed ([`ReviewBasis`]): the version's content hash and the diff.

use super::evaluation::ChecklistTick;
use crate::approval::Person;
use crate::error::PortError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    Pending,
    Promoted,
    Rejected,
    Cancelled,
    Expired,
    Superseded,
}

impl PromotionState {
    pub const ALL: [PromotionState; 6] = [
        PromotionState::Pending,
        PromotionState::Promoted,
        PromotionState::Rejected,
        PromotionState::Cancelled,
        PromotionState::Expired,
        PromotionState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PromotionState::Pending => "pending",
            PromotionState::Promoted => "promoted",
            PromotionState::Rejected => "rejected",
            PromotionState::Cancelled => "cancelled",
            PromotionState::Expired => "expired",
            PromotionState::Superseded => "superseded",
        }
    }

    /// For `?state=` filters and stored rows.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != PromotionState::Pending
    }
}

/// What can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionEvent {
    Promote,
    Reject,
    Cancel,
    Expire,
    Supersede,
}

impl PromotionEvent {
    pub const ALL: [PromotionEvent; 5] = [
        PromotionEvent::Promote,
        PromotionEvent::Reject,
        PromotionEvent::Cancel,
        PromotionEvent::Expire,
        PromotionEvent::Supersede,
    ];

    /// The verb, for "only a pending request can be …".
    fn verb(self) -> &'static str {
        match self {
            PromotionEvent::Promote => "promoted",
            PromotionEvent::Reject => "rejected",
            PromotionEvent::Cancel => "cancelled",
            PromotionEvent::Expire => "expired",
            PromotionEvent::Supersede => "superseded",
        }
    }

    /// The state it leads to from `pending`.
    fn target(self) -> PromotionState {
        match self {
            PromotionEvent::Promote => PromotionState::Promoted,
            PromotionEvent::Reject => PromotionState::Rejected,
            PromotionEvent::Cancel => PromotionState::Cancelled,
            PromotionEvent::Expire => PromotionState::Expired,
            PromotionEvent::Supersede => PromotionState::Superseded,
        }
    }
}

/// A move the state machine doesn't have (a 409: the request was decided
/// meanwhile, say by a racing approval).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("this request is {}; only a pending request can be {}", from.as_str(), event.verb())]
pub struct TransitionError {
    pub from: PromotionState,
    pub event: PromotionEvent,
}

impl From<TransitionError> for PortError {
    fn from(e: TransitionError) -> Self {
        PortError::Conflict {
            message: e.to_string(),
        }
    }
}

/// The state after `event`, or why it can't happen.
pub fn transition(
    from: PromotionState,
    event: PromotionEvent,
) -> Result<PromotionState, TransitionError> {
    match from {
        PromotionState::Pending => Ok(event.target()),
        _ => Err(TransitionError { from, event }),
    }
}

/// What an approver looked at: the version's content and the diff against
/// the version active in the target. An approval counts only while both
/// are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewBasis {
    /// `WorkflowSpec::content_hash` of the version being promoted.
    pub content_hash: String,
    /// `SpecDiff::digest` of the diff shown.
    pub diff_digest: String,
}

/// One approval of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionApproval {
    /// The person who approved (behind whatever credential).
    pub by: Person,
    /// Whose approval right they used when acting as a delegate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Person>,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub reviewed: ReviewBasis,
}

impl PromotionApproval {
    /// The person whose approval right this used: the delegator for a
    /// delegate, else the approver.
    pub fn right_holder(&self) -> &Person {
        self.on_behalf_of.as_ref().unwrap_or(&self.by)
    }
}

/// A request to promote `version` of `workflow` from `from_environment` into
/// `to_environment`, as every edge shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionRequest {
    pub id: String,
    pub workflow: String,
    pub version: u32,
    pub content_hash: String,
    pub from_environment: String,
    pub to_environment: String,
    /// The version active in the target when asked, if any.
    pub replaces: Option<u32>,
    pub requested_by: Person,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// As stored; see [`PromotionRequest::state_at`] for expiry.
    pub state: PromotionState,
    pub approvals: Vec<PromotionApproval>,
    /// Manual items ticked and acknowledgements made.
    pub ticks: Vec<ChecklistTick>,
    /// Who rejected or cancelled it, when, and what they said.
    pub decided_by: Option<Person>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
}

impl PromotionRequest {
    /// A pending request past its expiry reads as expired.
    pub fn state_at(&self, now: DateTime<Utc>) -> PromotionState {
        if self.state == PromotionState::Pending && now >= self.expires_at {
            PromotionState::Expired
        } else {
            self.state
        }
    }
}

/// When a request made at `created_at` expires under a policy's
/// `request_ttl`.
pub fn expiry_from(
    created_at: DateTime<Utc>,
    ttl: super::duration::PolicyDuration,
) -> DateTime<Utc> {
    created_at
        .checked_add_signed(ttl.as_chrono())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What a new request for a target does to the one already pending there
/// (at most one is pending per workflow and target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewRequest {
    /// Nothing pending: just file it.
    File,
    /// File it and supersede this pending request (an older version).
    Supersede { id: String },
}

/// A pending request for the target is superseded by a request for a newer
/// version; the same version again is a 409 naming the pending request, and
/// an older one a 409 too (cancel the newer one first, deliberately).
pub fn on_new_request(
    pending: Option<&PromotionRequest>,
    version: u32,
) -> Result<NewRequest, PortError> {
    let Some(p) = pending else {
        return Ok(NewRequest::File);
    };
    if version > p.version {
        return Ok(NewRequest::Supersede { id: p.id.clone() });
    }
    let message = if version == p.version {
        format!(
            "version {version} is already waiting to be promoted to {} (request {}); approve \
             or cancel that one",
            p.to_environment, p.id
        )
    } else {
        format!(
            "newer version {} is waiting to be promoted to {} (request {}); cancel it first to \
             promote the older version {version}",
            p.version, p.to_environment, p.id
        )
    };
    Err(PortError::Conflict { message })
}

/// A reason (required for requests and rollbacks: the ledger is read at
/// 3 a.m.), trimmed and checked like other texts others read.
pub fn clean_reason(text: &str) -> Result<String, PortError> {
    match crate::approval::clean_text("reason", Some(text))? {
        Some(reason) => Ok(reason),
        None => Err(PortError::invalid(
            "reason",
            "say why (it is kept in the deployment ledger)",
        )),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
