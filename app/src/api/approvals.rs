//! Server functions for four-eyes approvals: the requests, one request, and
//! a decision on one. Who may decide is the port's call (the pages only use
//! the same rule to decide whether to offer the buttons).

use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::approval::{ApprovalDecided, ApprovalRequest};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// Requests with the time their states were judged at (it comes with the
/// data so the server and the hydrating browser agree on what expired).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalList {
    pub requests: Vec<ApprovalRequest>,
    pub now: DateTime<Utc>,
}

/// One request, and when it was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalAt {
    pub request: ApprovalRequest,
    pub now: DateTime<Utc>,
}

/// The page of one request.
pub fn approval_href(id: &str) -> String {
    format!("/approvals/{id}")
}

/// The decision a form's button stands for: `approve` or `reject`.
pub fn parse_decision(text: &str) -> Result<bool, gantry_core::PortError> {
    match text.trim() {
        "approve" => Ok(true),
        "reject" => Ok(false),
        other => Err(gantry_core::PortError::invalid(
            "decision",
            format!("{other:?} is not a decision: approve or reject"),
        )),
    }
}

/// Requests, newest first; `pending` narrows to the inbox (`true`) or the
/// history (`false`).
#[server(prefix = "/ui", endpoint = "approvals")]
pub async fn list_approvals(pending: Option<bool>) -> Result<ApprovalList, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let requests = ssr::answer(plane.list_approvals(&ctx, pending).await)?;
    Ok(ApprovalList {
        requests,
        now: crate::time::now(),
    })
}

#[server(prefix = "/ui", endpoint = "approval")]
pub async fn get_approval(id: String) -> Result<ApprovalAt, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let request = ssr::answer(plane.approval(&ctx, &id).await)?;
    Ok(ApprovalAt {
        request,
        now: crate::time::now(),
    })
}

/// Approves or rejects a request (`decision` is the pressed button's
/// value). A plain form post returns to the request's page, which then
/// shows the outcome; the hydrated page updates in place.
#[server(prefix = "/ui", endpoint = "decide_approval")]
pub async fn decide_approval(
    id: String,
    decision: String,
    #[server(default)] comment: Option<String>,
) -> Result<ApprovalDecided, AppError> {
    use gantry_core::approval::ApprovalDecision;
    let (plane, ctx) = ssr::port().await?;
    let approve = match parse_decision(&decision) {
        Ok(a) => a,
        Err(e) => return ssr::answer(Err(e)),
    };
    let decision = ApprovalDecision { approve, comment };
    let decided = ssr::answer(plane.decide_approval(&ctx, &id, decision).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&approval_href(&decided.request.id));
    }
    Ok(decided)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_name_the_decision() {
        assert_eq!(parse_decision("approve"), Ok(true));
        assert_eq!(parse_decision(" reject "), Ok(false));
        let err = parse_decision("maybe").unwrap_err();
        assert!(err.to_string().starts_with("decision:"), "{err}");
    }
}
