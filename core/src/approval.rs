//! Four-eyes approvals: a request for an action (for now: a run in an
//! environment whose workflow requires approval there) that a *different*
//! person holding `approver` or `admin` in that environment approves or
//! rejects before it expires. On approval the action runs as the requester.
//!
//! Four eyes compare people, not credentials: a token acts for the person
//! who made it (through any chain of tokens), so the requester, the author
//! of the version that would run, and their tokens are one party
//! ([`Parties`]). Tokens decide only in the environments the server allows
//! them to ([`check_token_may_decide`]).

use crate::environment::Environment;
use crate::error::PortError;
use crate::identity::{Principal, PrincipalKind};
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

/// The party the bootstrap token, `gantry token create` and the tokens they
/// made act for: one party, so two of them never make four eyes.
pub const SYSTEM_PERSON: &str = "system";

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
    /// Whose approval right the decider used, when it was delegated to
    /// them (`decided_by` is who decided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Person>,
}

impl Person {
    /// The system's party (see [`SYSTEM_PERSON`]).
    pub fn system() -> Self {
        Person {
            id: SYSTEM_PERSON.into(),
            name: SYSTEM_PERSON.into(),
        }
    }
}

/// The people behind a decision, by person id: a person is themself, a
/// token its maker's person (see `ServiceToken::maker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties<'a> {
    /// Who decides; `None` for a token whose maker was never recorded,
    /// which can't stand for a second person.
    pub decider: Option<&'a str>,
    /// Who asked.
    pub requester: &'a str,
    /// Who wrote the version that would run, where recorded.
    pub author: Option<&'a str>,
}

/// Four eyes by person: refuses a decider who is, behind whatever
/// credential, the person who asked or who wrote the version that would
/// run, or a token that stands for no known person. The port checks this
/// before [`check_decider`], which knows only the credentials.
pub fn check_people(
    principal: &Principal,
    parties: &Parties<'_>,
    request: &ApprovalRequest,
) -> Result<(), PortError> {
    let who = if principal.kind == PrincipalKind::ServiceToken {
        "this token acts for the person who made it, who"
    } else {
        "you"
    };
    let Some(decider) = parties.decider else {
        return Err(PortError::forbidden(
            "this token's maker was never recorded (it predates four eyes by person), so it \
             can't be the second person (four eyes); decide as a person, or with a token made since",
        ));
    };
    if decider == parties.requester {
        return Err(PortError::forbidden(format!(
            "{who} asked for this (tokens count as the person who made them); someone else \
             must approve or reject it (four eyes)"
        )));
    }
    if parties.author == Some(decider) {
        return Err(PortError::forbidden(format!(
            "{who} wrote version {} of {}; someone else must approve or reject running it \
             (four eyes)",
            request.version, request.workflow
        )));
    }
    Ok(())
}

/// Whether `principal` may decide `request` now: it must be pending and
/// unexpired, the decider someone other than the requester, holding
/// `approver` or `admin` in its environment. (The dashboard asks this to
/// offer the buttons; the port also applies [`check_people`].)
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
    check_pending(request, now)
}

/// A request can be decided while it is pending and unexpired. (Ask after
/// the right to decide: a caller without one learns nothing of its state.)
pub fn check_pending(request: &ApprovalRequest, now: DateTime<Utc>) -> Result<(), PortError> {
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

/// Tokens decide approvals only in `allowed` (`--token-approvals`; by
/// default every environment but the last, where deciding needs a person
/// with a recent sign-in: see `step_up`). People and the system are not
/// limited here.
pub fn check_token_may_decide(
    principal: &Principal,
    environment: &Environment,
    allowed: &[Environment],
) -> Result<(), PortError> {
    if principal.kind != PrincipalKind::ServiceToken || allowed.contains(environment) {
        return Ok(());
    }
    let allowed = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed
            .iter()
            .map(Environment::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(PortError::forbidden(format!(
        "tokens may not approve or reject in {environment}: a person signed in recently must \
         (tokens may decide in: {allowed}; see --token-approvals)"
    )))
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
            break_glass_until: None,
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

    fn parties(decider: &str) -> Parties<'_> {
        Parties {
            decider: Some(decider),
            requester: "olga",
            author: Some("walt"),
        }
    }

    fn token(id: &str, grants: &[(Role, &str)]) -> Principal {
        Principal {
            kind: PrincipalKind::ServiceToken,
            ..person(id, grants)
        }
    }

    #[test]
    fn four_eyes_compare_the_people_behind_credentials() {
        let now = Utc::now();
        let r = request(now);
        let approver = token("t-1", &[(Role::Approver, "*")]);
        let refused = |parties: Parties<'_>| {
            let err = check_people(&approver, &parties, &r).unwrap_err();
            assert_eq!(err.http_status(), 403, "{err}");
            assert!(err.to_string().contains("four eyes"), "{err}");
            err.to_string()
        };
        // The requester's own token, made by them.
        let own = refused(Parties {
            decider: Some("olga"),
            ..parties("x")
        });
        assert!(own.contains("acts for the person who made it"), "{own}");
        // The author of the version, through a token.
        let author = refused(Parties {
            decider: Some("walt"),
            ..parties("x")
        });
        assert!(author.contains("wrote version 1 of deploy"), "{author}");
        // A token whose maker is unknown stands for nobody.
        let unknown = refused(Parties {
            decider: None,
            ..parties("x")
        });
        assert!(unknown.contains("never recorded"), "{unknown}");
        // Someone else's token decides; so does anyone when no author is known.
        assert!(check_people(&approver, &parties("avery"), &r).is_ok());
        let no_author = Parties {
            author: None,
            ..parties("walt")
        };
        assert!(check_people(&approver, &no_author, &r).is_ok());
        // Two system-made tokens are one party.
        let system = Parties {
            decider: Some(SYSTEM_PERSON),
            requester: SYSTEM_PERSON,
            author: None,
        };
        refused(system);
    }

    #[test]
    fn tokens_decide_only_where_allowed() {
        let env = |e: &str| Environment::parse(e).unwrap();
        let allowed = [env("dev"), env("stage")];
        let t = token("t-1", &[(Role::Approver, "*")]);
        assert!(check_token_may_decide(&t, &env("dev"), &allowed).is_ok());
        let err = check_token_may_decide(&t, &env("prod"), &allowed).unwrap_err();
        assert_eq!(err.http_status(), 403);
        assert!(err.to_string().contains("in prod"), "{err}");
        assert!(err.to_string().contains("dev, stage"), "{err}");
        assert!(err.to_string().contains("--token-approvals"), "{err}");
        let none = check_token_may_decide(&t, &env("dev"), &[]).unwrap_err();
        assert!(none.to_string().contains("decide in: none"), "{none}");
        // People are not limited by this rule (step-up applies to them).
        let p = person("avery", &[(Role::Approver, "*")]);
        assert!(check_token_may_decide(&p, &env("prod"), &[]).is_ok());
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
