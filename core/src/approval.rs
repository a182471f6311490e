//! Four-eyes approvals: a request for an action (for now: a run in an
//! environment whose workflow requires approval there) that a *different*
//! person holding `approver` or `admin` in that environment approves or
//! rejects before it expires. On approval the action runs as the requester.

use crate::environment::Environment;
use crate::error::PortError;
use crate::identity::Principal;
use crate::rbac::{Action, Decision, decide};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a request waits for a decision.
pub const REQUEST_LIFETIME_HOURS: i64 = 24;
/// The longest reason or comment kept.
pub const MAX_TEXT_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// Nobody decided in time.
    Expired,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Rejected,
            ApprovalStatus::Expired,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Someone, by stable id and the name shown at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalRequest {
    pub id: String,
    /// What would happen: `run` (a run of `workflow` in `environment`).
    pub action: String,
    pub workflow: String,
    pub version: u32,
    pub environment: String,
    /// The inputs' names (their values stay with the request, for the run).
    pub input_names: Vec<String>,
    pub requested_by: Person,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// As stored; see [`ApprovalRequest::status_at`] for expiry.
    pub status: ApprovalStatus,
    pub decided_by: Option<Person>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    /// The run started on approval.
    pub run_id: Option<String>,
}

impl ApprovalRequest {
    /// A pending request past its expiry reads as expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> ApprovalStatus {
        if self.status == ApprovalStatus::Pending && now >= self.expires_at {
            ApprovalStatus::Expired
        } else {
            self.status
        }
    }

    pub fn expiry_from(created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + Duration::hours(REQUEST_LIFETIME_HOURS)
    }
}

/// A decision as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    pub approve: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What a decision did: the request as decided, and the run an approval
/// started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalDecided {
    pub request: ApprovalRequest,
    pub run: Option<crate::run::RunSummary>,
}

/// Whether `principal` may decide `request` now: it must be pending and
/// unexpired, the decider someone other than the requester, holding
/// `approver` or `admin` in its environment.
pub fn check_decider(
    principal: &Principal,
    request: &ApprovalRequest,
    now: DateTime<Utc>,
) -> Result<(), PortError> {
    // Who first, so someone who may not decide learns nothing about the
    // request's state; the requester hears the four-eyes rule whatever
    // roles they hold.
    if principal.id.0 == request.requested_by.id {
        return Err(PortError::forbidden(
            "you asked for this; someone else must approve or reject it (four eyes)",
        ));
    }
    let environment = Environment::parse(&request.environment)
        .map_err(|e| PortError::invalid("environment", e.to_string()))?;
    if let Decision::Deny { reason } = decide(principal, &Action::DecideApproval { environment }) {
        return Err(PortError::Forbidden { reason });
    }
    match request.status_at(now) {
        ApprovalStatus::Pending => Ok(()),
        other => Err(PortError::Conflict {
            message: format!(
                "request {} is {}; only pending requests can be decided",
                request.id,
                other.as_str()
            ),
        }),
    }
}

/// A reason or comment, trimmed, empty as none, bounded.
pub fn clean_text(field: &str, text: Option<&str>) -> Result<Option<String>, PortError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(PortError::invalid(
            field,
            format!("keep it under {MAX_TEXT_CHARS} characters"),
        ));
    }
    // Shown to the other person deciding: nothing that reorders or hides
    // what they read.
    crate::text::check(text, MAX_TEXT_CHARS, crate::text::Lines::Many)
        .map_err(|why| PortError::invalid(field, format!("{field} {why}")))?;
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::EnvScope;
    use crate::identity::{PrincipalKind, Role, RoleGrant, UserId};

    fn person(id: &str, grants: &[(Role, &str)]) -> Principal {
        Principal {
            id: UserId(id.into()),
            kind: PrincipalKind::User,
            username: id.into(),
            display_name: id.into(),
            email: None,
            grants: grants
                .iter()
                .map(|(r, s)| RoleGrant {
                    role: *r,
                    scope: EnvScope::parse(s).unwrap(),
                    source: "test".into(),
                })
                .collect(),
            signed_in_at: None,
        }
    }

    fn request(now: DateTime<Utc>) -> ApprovalRequest {
        ApprovalRequest {
            id: "a1".into(),
            action: "run".into(),
            workflow: "deploy".into(),
            version: 1,
            environment: "prod".into(),
            input_names: vec![],
            requested_by: Person {
                id: "olga".into(),
                name: "Olga".into(),
            },
            reason: None,
            created_at: now,
            expires_at: ApprovalRequest::expiry_from(now),
            status: ApprovalStatus::Pending,
            decided_by: None,
            decided_at: None,
            comment: None,
            run_id: None,
        }
    }

    #[test]
    fn four_eyes_and_the_environment_decide_who_may_decide() {
        use Role::*;
        let now = Utc::now();
        let r = request(now);
        type Case = (&'static str, &'static [(Role, &'static str)], bool);
        let cases: &[Case] = &[
            ("avery", &[(Approver, "prod")], true),
            ("ada", &[(Admin, "*")], true),
            ("olga", &[(Approver, "*"), (Admin, "*")], false),
            ("dev-approver", &[(Approver, "dev")], false),
            ("oscar", &[(Operator, "*")], false),
            ("aubrey", &[(Auditor, "*")], false),
        ];
        for (who, grants, allowed) in cases {
            let got = check_decider(&person(who, grants), &r, now);
            assert_eq!(got.is_ok(), *allowed, "{who}: {got:?}");
        }
        let own = check_decider(&person("olga", &[(Admin, "*")]), &r, now).unwrap_err();
        assert!(own.to_string().contains("four eyes"), "{own}");
    }

    #[test]
    fn only_pending_unexpired_requests_can_be_decided() {
        let now = Utc::now();
        let approver = person("avery", &[(Role::Approver, "*")]);
        let mut r = request(now);
        let later = r.expires_at + Duration::seconds(1);
        assert_eq!(r.status_at(later), ApprovalStatus::Expired);
        assert!(matches!(
            check_decider(&approver, &r, later),
            Err(PortError::Conflict { .. })
        ));
        r.status = ApprovalStatus::Approved;
        assert!(matches!(
            check_decider(&approver, &r, now),
            Err(PortError::Conflict { .. })
        ));
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            clean_text("reason", Some("  ship it ")).unwrap().as_deref(),
            Some("ship it")
        );
        assert_eq!(clean_text("reason", Some("   ")).unwrap(), None);
        assert!(clean_text("comment", Some(&"x".repeat(1001))).is_err());
        assert_eq!(
            clean_text("reason", Some("line one\nline two"))
                .unwrap()
                .as_deref(),
            Some("line one\nline two")
        );
        let err = clean_text("reason", Some("approve \u{202E}tsol")).unwrap_err();
        assert!(err.to_string().contains("U+202E"), "{err}");
    }
}
