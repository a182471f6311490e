//! Server functions for promotion: the board, requests and what people do
//! to them (approve, reject, cancel, tick), rollbacks and the ledger. Who
//! may do what is the port's call; the pages only use the same rules to
//! decide which forms to offer.
//!
//! Form fields arrive as text, so a bad value gets a message naming the
//! field. A plain form post (no JavaScript) that succeeds goes to the
//! request's page, or back to the page it came from without the error a
//! previous attempt left in its URL; the hydrated page updates in place.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::PortError;
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::PromotionRequest;
use gantry_core::promotion::view::{
    PromotionBoard, PromotionDetail, PromotionOutcome, RollbackOutcome,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// The page of one promotion request.
pub fn promotion_href(id: &str) -> String {
    format!("/promotions/{id}")
}

/// The board, with the time it was read (for "since" and expiry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardAt {
    pub board: PromotionBoard,
    pub now: DateTime<Utc>,
}

/// One request as evaluated now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromotionAt {
    pub detail: PromotionDetail,
    pub now: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromotionList {
    pub requests: Vec<PromotionRequest>,
    pub now: DateTime<Utc>,
}

#[server(prefix = "/ui", endpoint = "promotion_board")]
pub async fn get_promotion_board() -> Result<BoardAt, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let board = ssr::answer(plane.promotion_board(&ctx).await)?;
    Ok(BoardAt {
        board,
        now: crate::time::now(),
    })
}

/// Asks to promote `version` (the one active in the environment before
/// the target when empty) of `workflow` into `to_environment`.
/// `confirm_rolled_back` is a checkbox: present means yes.
#[server(prefix = "/ui", endpoint = "request_promotion")]
pub async fn request_promotion(
    workflow: String,
    to_environment: String,
    #[server(default)] version: Option<String>,
    reason: String,
    #[server(default)] confirm_rolled_back: Option<String>,
) -> Result<PromotionOutcome, AppError> {
    use gantry_core::promotion::view::PromotionAsk;
    let (plane, ctx) = ssr::port().await?;
    let version = match parse_version("version", version.as_deref()) {
        Ok(v) => v,
        Err(e) => return ssr::answer(Err(e)),
    };
    let ask = PromotionAsk {
        to_environment,
        version,
        reason,
        confirm_rolled_back: confirm_rolled_back.is_some(),
    };
    let outcome = ssr::answer(plane.request_promotion(&ctx, &workflow, ask).await)?;
    match &outcome {
        PromotionOutcome::Pending { promotion } => {
            ssr::redirect_to(&promotion_href(&promotion.request.id));
        }
        PromotionOutcome::Promoted { .. } => ssr::redirect_back(),
    }
    Ok(outcome)
}

/// Requests, newest first; empty filters mean "any".
#[server(prefix = "/ui", endpoint = "promotions")]
pub async fn list_promotions(
    #[server(default)] workflow: Option<String>,
    #[server(default)] environment: Option<String>,
    #[server(default)] state: Option<String>,
) -> Result<PromotionList, AppError> {
    use gantry_core::promotion::request::PromotionState;
    use gantry_core::promotion::view::PromotionFilter;
    let (plane, ctx) = ssr::port().await?;
    let state = match given(state) {
        None => None,
        Some(s) => match PromotionState::parse(&s) {
            Some(state) => Some(state),
            None => {
                let known: Vec<&str> = PromotionState::ALL.iter().map(|s| s.as_str()).collect();
                return ssr::answer(Err(PortError::invalid(
                    "state",
                    format!("unknown state {s:?}: choose one of {}", known.join(", ")),
                )));
            }
        },
    };
    let filter = PromotionFilter {
        workflow: given(workflow),
        environment: given(environment),
        state,
    };
    let requests = ssr::answer(plane.list_promotions(&ctx, filter).await)?;
    Ok(PromotionList {
        requests,
        now: crate::time::now(),
    })
}

#[server(prefix = "/ui", endpoint = "promotion")]
pub async fn get_promotion(id: String) -> Result<PromotionAt, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let detail = ssr::answer(plane.promotion(&ctx, &id).await)?;
    Ok(PromotionAt {
        detail,
        now: crate::time::now(),
    })
}

/// Approves, rejects or cancels a request (`decision` is the pressed
/// button's value).
#[server(prefix = "/ui", endpoint = "decide_promotion")]
pub async fn decide_promotion(
    id: String,
    decision: String,
    #[server(default)] comment: Option<String>,
) -> Result<PromotionDetail, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let decision = match parse_promotion_decision(&decision) {
        Ok(d) => d,
        Err(e) => return ssr::answer(Err(e)),
    };
    let detail = ssr::answer(
        plane
            .decide_promotion(&ctx, &id, decision, given(comment))
            .await,
    )?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&promotion_href(&detail.request.id));
    }
    Ok(detail)
}

/// Ticks (`checked` = `true`) or unticks a manual item, or acknowledges
/// what the diff adds.
#[server(prefix = "/ui", endpoint = "mark_checklist_item")]
pub async fn mark_checklist_item(
    id: String,
    item: String,
    checked: String,
    #[server(default)] evidence: Option<String>,
) -> Result<PromotionDetail, AppError> {
    use gantry_core::promotion::view::ChecklistMark;
    let (plane, ctx) = ssr::port().await?;
    let checked = match parse_checked(&checked) {
        Ok(c) => c,
        Err(e) => return ssr::answer(Err(e)),
    };
    let mark = ChecklistMark {
        checked,
        evidence: given(evidence),
    };
    let detail = ssr::answer(plane.mark_checklist_item(&ctx, &id, &item, mark).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&promotion_href(&detail.request.id));
    }
    Ok(detail)
}

/// Moves `environment` back to `to_version` (the version active before
/// when empty). `cancel_running` is a checkbox.
#[server(prefix = "/ui", endpoint = "roll_back")]
pub async fn roll_back(
    workflow: String,
    environment: String,
    #[server(default)] to_version: Option<String>,
    reason: String,
    #[server(default)] cancel_running: Option<String>,
) -> Result<RollbackOutcome, AppError> {
    use gantry_core::promotion::view::RollbackAsk;
    let (plane, ctx) = ssr::port().await?;
    let to_version = match parse_version("to_version", to_version.as_deref()) {
        Ok(v) => v,
        Err(e) => return ssr::answer(Err(e)),
    };
    let ask = RollbackAsk {
        environment,
        to_version,
        reason,
        cancel_running: cancel_running.is_some(),
    };
    let outcome = ssr::answer(plane.roll_back(&ctx, &workflow, ask).await)?;
    ssr::redirect_back();
    Ok(outcome)
}

/// The ledger with the time it was read; filters as a GET form sends them
/// (empty means "any"; `at` as RFC 3339 or a `datetime-local` value in
/// UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentList {
    pub deployments: Vec<Deployment>,
    /// The verifications of these rows' workflows and environments
    /// (matched to rows by `deployment_id`).
    pub verifications: Vec<gantry_core::promotion::verification::Verification>,
    pub now: DateTime<Utc>,
}

#[server(prefix = "/ui", endpoint = "deployments")]
pub async fn list_deployments(
    #[server(default)] workflow: Option<String>,
    #[server(default)] environment: Option<String>,
    #[server(default)] at: Option<String>,
) -> Result<DeploymentList, AppError> {
    use gantry_core::promotion::view::{DeploymentFilter, VerificationFilter};
    let (plane, ctx) = ssr::port().await?;
    let at = match given(at).map(|a| parse_at(&a)).transpose() {
        Ok(at) => at,
        Err(e) => return ssr::answer(Err(e)),
    };
    let filter = DeploymentFilter {
        workflow: given(workflow),
        environment: given(environment),
        at,
    };
    let verifications = VerificationFilter {
        workflow: filter.workflow.clone(),
        environment: filter.environment.clone(),
    };
    let deployments = ssr::answer(plane.list_deployments(&ctx, filter).await)?;
    let verifications = ssr::answer(plane.list_verifications(&ctx, verifications).await)?;
    Ok(DeploymentList {
        deployments,
        verifications,
        now: crate::time::now(),
    })
}

/// A text field left empty is not given.
#[cfg(feature = "ssr")]
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An optional version number from a form field.
pub fn parse_version(field: &str, text: Option<&str>) -> Result<Option<u32>, PortError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<u32>().map(Some).map_err(|_| {
            PortError::invalid(field, format!("{t:?} is not a version number, such as 3"))
        }),
    }
}

/// The decision a request page's button stands for.
pub fn parse_promotion_decision(
    text: &str,
) -> Result<gantry_core::promotion::view::PromotionDecision, PortError> {
    use gantry_core::promotion::view::PromotionDecision;
    match text.trim() {
        "approve" => Ok(PromotionDecision::Approve),
        "reject" => Ok(PromotionDecision::Reject),
        "cancel" => Ok(PromotionDecision::Cancel),
        other => Err(PortError::invalid(
            "decision",
            format!("{other:?} is not a decision: approve, reject or cancel"),
        )),
    }
}

#[cfg(any(feature = "ssr", test))]
fn parse_checked(text: &str) -> Result<bool, PortError> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(PortError::invalid(
            "checked",
            format!("{other:?} is neither true (tick) nor false (untick)"),
        )),
    }
}

/// A moment from the ledger's filter: RFC 3339, or what a `datetime-local`
/// field sends (`2026-03-01T14:30`, seconds optional), read as UTC.
pub fn parse_at(text: &str) -> Result<DateTime<Utc>, PortError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    Err(PortError::invalid(
        "at",
        format!(
            "{text:?} is not a moment; write it like 2026-03-01T14:30 (UTC) or as RFC 3339 \
             (2026-03-01T14:30:00Z)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use gantry_core::promotion::view::PromotionDecision;

    #[test]
    fn versions_are_optional_numbers_named_in_errors() {
        assert_eq!(parse_version("version", None), Ok(None));
        assert_eq!(parse_version("version", Some(" ")), Ok(None));
        assert_eq!(parse_version("version", Some("4")), Ok(Some(4)));
        let err = parse_version("to_version", Some("v4")).unwrap_err();
        assert!(err.to_string().starts_with("to_version:"), "{err}");
    }

    #[test]
    fn buttons_and_checkboxes_name_what_they_do() {
        assert_eq!(
            parse_promotion_decision("cancel"),
            Ok(PromotionDecision::Cancel)
        );
        assert_eq!(
            parse_promotion_decision(" approve "),
            Ok(PromotionDecision::Approve)
        );
        assert!(parse_promotion_decision("maybe").is_err());
        assert_eq!(parse_checked("true"), Ok(true));
        assert_eq!(parse_checked("false"), Ok(false));
        assert!(
            parse_checked("on")
                .unwrap_err()
                .to_string()
                .starts_with("checked:")
        );
    }

    #[test]
    fn moments_are_read_as_utc_from_either_format() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 14, 30, 0).unwrap();
        assert_eq!(parse_at("2026-03-01T14:30"), Ok(t));
        assert_eq!(parse_at("2026-03-01T14:30:00"), Ok(t));
        assert_eq!(parse_at("2026-03-01T15:30:00+01:00"), Ok(t));
        assert_eq!(parse_at("2026-03-01T14:30:00Z"), Ok(t));
        let err = parse_at("yesterday").unwrap_err();
        assert!(err.to_string().starts_with("at:"), "{err}");
    }
}
