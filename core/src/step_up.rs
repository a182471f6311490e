//! Step-up: sensitive actions need a recent interactive sign-in. A pure
//! rule; the port applies it after authorization and before any change.
//!
//! Sensitive: deciding an approval request (any environment), starting a run
//! in the last environment of the promotion order (`prod` by default), and
//! creating a service token (checked with [`needs_step_up_for_token_creation`];
//! listing and revoking tokens are not sensitive). Only people are subject
//! to it: service tokens and the system have no interactive sign-in.

use crate::environment::Environment;
use crate::error::PortError;
use crate::identity::{Principal, PrincipalKind};
use crate::rbac::Action;
use chrono::{DateTime, Duration, Utc};

/// True when `action` by `principal` needs a fresher sign-in than they have.
pub fn needs_step_up(
    principal: &Principal,
    action: &Action,
    last_environment: &Environment,
    now: DateTime<Utc>,
    max_age: Duration,
) -> bool {
    let sensitive = match action {
        Action::DecideApproval { .. } => true,
        Action::TriggerRun { environment } => environment == last_environment,
        _ => false,
    };
    sensitive && is_stale(principal, now, max_age)
}

/// Creating a service token is sensitive (listing and revoking are not).
pub fn needs_step_up_for_token_creation(
    principal: &Principal,
    now: DateTime<Utc>,
    max_age: Duration,
) -> bool {
    is_stale(principal, now, max_age)
}

/// A person whose sign-in is older than `max_age`, or unknown. Public for
/// the rules that decide themselves whether an act is sensitive
/// (`promotion::rules`).
pub fn is_stale(principal: &Principal, now: DateTime<Utc>, max_age: Duration) -> bool {
    if principal.kind != PrincipalKind::User {
        return false;
    }
    match principal.signed_in_at {
        Some(at) => now - at > max_age,
        None => true,
    }
}

/// The refusal the port returns, naming the window.
pub fn step_up_required(max_age: Duration) -> PortError {
    PortError::StepUpRequired {
        message: format!(
            "this needs a recent sign-in (within {}); sign in again to continue",
            describe(max_age)
        ),
    }
}

fn describe(d: Duration) -> String {
    let s = d.num_seconds();
    if s >= 3600 && s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::UserId;

    fn at(minutes_ago: i64) -> Option<DateTime<Utc>> {
        Some(now() - Duration::minutes(minutes_ago))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn who(kind: PrincipalKind, signed_in_at: Option<DateTime<Utc>>) -> Principal {
        Principal {
            id: UserId("id".into()),
            kind,
            username: "u".into(),
            display_name: "U".into(),
            email: None,
            grants: vec![],
            signed_in_at,
            break_glass_until: None,
        }
    }

    #[test]
    fn sensitive_actions_need_a_recent_sign_in_table() {
        use PrincipalKind::*;
        let env = |e: &str| Environment::parse(e).unwrap();
        let prod = env("prod");
        let trigger = |e: &str| Action::TriggerRun {
            environment: env(e),
        };
        let decide = |e: &str| Action::DecideApproval {
            environment: env(e),
        };
        let max = Duration::minutes(15);
        let cases: Vec<(Principal, Action, bool)> = vec![
            // Fresh sign-in: nothing needs step-up.
            (who(User, at(1)), trigger("prod"), false),
            (who(User, at(1)), decide("dev"), false),
            (who(User, at(15)), trigger("prod"), false),
            // Stale sign-in: only the sensitive actions.
            (who(User, at(16)), trigger("prod"), true),
            (who(User, at(16)), trigger("stage"), false),
            (who(User, at(16)), trigger("dev"), false),
            (who(User, at(16)), decide("dev"), true),
            (who(User, at(16)), decide("prod"), true),
            (who(User, at(16)), Action::ManageTokens, false),
            (who(User, at(16)), Action::ViewDashboard, false),
            (
                who(User, at(16)),
                Action::CancelRun {
                    environment: env("prod"),
                },
                false,
            ),
            // A person with no known sign-in time is treated as stale.
            (who(User, None), trigger("prod"), true),
            // Tokens and the system have no interactive sign-in.
            (who(ServiceToken, None), trigger("prod"), false),
            (who(ServiceToken, None), decide("prod"), false),
            (who(System, None), trigger("prod"), false),
        ];
        for (principal, action, expected) in cases {
            assert_eq!(
                needs_step_up(&principal, &action, &prod, now(), max),
                expected,
                "{:?} signed in {:?}: {action:?}",
                principal.kind,
                principal.signed_in_at
            );
        }
    }

    #[test]
    fn the_last_environment_is_what_counts_not_its_name() {
        let live = Environment::parse("live").unwrap();
        let trigger = |e: &str| Action::TriggerRun {
            environment: Environment::parse(e).unwrap(),
        };
        let stale = who(PrincipalKind::User, at(60));
        let max = Duration::minutes(15);
        assert!(needs_step_up(&stale, &trigger("live"), &live, now(), max));
        assert!(!needs_step_up(&stale, &trigger("prod"), &live, now(), max));
    }

    #[test]
    fn token_creation_table() {
        use PrincipalKind::*;
        let max = Duration::minutes(15);
        for (principal, expected) in [
            (who(User, at(1)), false),
            (who(User, at(20)), true),
            (who(User, None), true),
            (who(ServiceToken, None), false),
            (who(System, None), false),
        ] {
            assert_eq!(
                needs_step_up_for_token_creation(&principal, now(), max),
                expected,
                "{principal:?}"
            );
        }
    }

    #[test]
    fn the_refusal_names_the_window() {
        assert_eq!(
            step_up_required(Duration::minutes(15)).to_string(),
            "this needs a recent sign-in (within 15 min); sign in again to continue"
        );
        assert_eq!(step_up_required(Duration::minutes(15)).http_status(), 401);
        assert!(
            step_up_required(Duration::seconds(90))
                .to_string()
                .contains("within 90 s")
        );
    }
}
