//! Break-glass access's pure half: what a passkey looks like on the Users
//! page, the WebAuthn ceremony the browser is handed, the time-boxed
//! session a passkey sign-in gives, and the rules for a passkey's name.
//!
//! When single sign-on is down an admin must still be able to act, and
//! everyone must know it happened: admins register passkeys beforehand
//! (step-up, at most a few each); `/break-glass` signs in with one, giving
//! an admin session that ends after a fixed time (1 h by default) and is
//! never renewed, marked on every page, every record of whose actions
//! carries `break_glass: true`, and whose sign-in is a privilege escalation
//! for alert rules (docs/break-glass.md). The WebAuthn verification itself
//! is the server's (webauthn-rs).

use crate::error::PortError;
use crate::identity::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The action a passkey sign-in is recorded as.
pub const BREAK_GLASS_ACTION: &str = "auth.break_glass";
/// The action a registration is recorded as (another way in: an
/// escalation too).
pub const PASSKEY_REGISTER_ACTION: &str = "passkey.register";
/// The detail every record of a break-glass session's actions carries.
pub const BREAK_GLASS_DETAIL: &str = "break_glass";
/// Passkeys an admin may hold unless `--break-glass-max-passkeys` says
/// otherwise: a spare beside the everyday one, and one kept offline.
pub const DEFAULT_MAX_PASSKEYS: u32 = 3;
/// A break-glass session's length unless `--break-glass-session` says
/// otherwise.
pub const DEFAULT_SESSION_SECS: u64 = 60 * 60;
/// A name's longest, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// One registered passkey, as listed (never its public key or counter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyView {
    pub id: String,
    /// Its owner.
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    /// What its owner called it ("YubiKey in the safe").
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Its last break-glass sign-in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A WebAuthn ceremony begun: its id (sent back with the browser's answer)
/// and the options to hand `navigator.credentials.create` or `.get`
/// (`{"publicKey": …}`, binary fields base64url as in the WebAuthn JSON
/// encoding). Valid once, for a few minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyCeremony {
    pub ceremony: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

/// A break-glass sign-in that passed: who, and when their session ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassSession {
    pub principal: Principal,
    pub until: DateTime<Utc>,
}

/// A passkey's name as its owner typed it, trimmed; or why not.
pub fn passkey_name(name: &str) -> Result<String, PortError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PortError::invalid(
            "name",
            "name the passkey so you can tell it apart later (\"YubiKey in the safe\")",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(PortError::invalid(
            "name",
            format!("keep the name under {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(PortError::invalid(
            "name",
            "the name may not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Whether a break-glass session that ends at `until` is over at `now`.
pub fn expired(until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= until
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name("  YubiKey 5 ").unwrap(), "YubiKey 5");
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(MAX_NAME_CHARS + 1)] {
            let err = passkey_name(bad).unwrap_err();
            assert!(
                matches!(err, PortError::Invalid { ref field, .. } if field == "name"),
                "{bad:?}: {err:?}"
            );
        }
        assert!(passkey_name(&"é".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn a_session_is_over_from_its_end_on() {
        let until = Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap();
        assert!(!expired(until, until - chrono::Duration::seconds(1)));
        assert!(expired(until, until));
        assert!(expired(until, until + chrono::Duration::hours(1)));
    }
}
