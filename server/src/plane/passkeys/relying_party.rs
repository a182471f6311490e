//! The WebAuthn relying party break-glass passkeys belong to, from the
//! public URL: its host names the passkeys (the RP ID), its origin is the
//! only one whose ceremonies count. WebAuthn needs a domain name: a
//! loopback address (a local `gantry serve`) means `localhost` on any
//! port, another address means no break-glass until `--public-url` names
//! the server.

use std::sync::Arc;
use std::time::Duration;
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a browser has for one ceremony (WebAuthn's own timeout, and
/// the ceremony's life in the database).
pub const CEREMONY_TIMEOUT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Break-glass as `serve` runs it.
#[derive(Clone)]
pub struct BreakGlassSettings {
    /// The relying party, or why there is none.
    pub relying_party: Result<Arc<Webauthn>, String>,
    /// Passkeys one person may hold (`--break-glass-max-passkeys`).
    pub max_passkeys: u32,
    /// A break-glass session's fixed length (`--break-glass-session`).
    pub session: Duration,
}

impl BreakGlassSettings {
    pub fn new(public_url: &str, max_passkeys: u32, session: Duration) -> Self {
        Self {
            relying_party: relying_party(public_url).map(Arc::new),
            max_passkeys,
            session,
        }
    }

    /// The shipped cap and session length (commands and harnesses that
    /// build a plane without `serve`'s flags).
    pub fn with_defaults(public_url: &str) -> Self {
        Self::new(
            public_url,
            gantry_core::break_glass::DEFAULT_MAX_PASSKEYS,
            Duration::from_secs(gantry_core::break_glass::DEFAULT_SESSION_SECS),
        )
    }
}

/// The relying party for a server people reach at `public_url`.
pub fn relying_party(public_url: &str) -> Result<Webauthn, String> {
    let url = Url::parse(public_url).map_err(|e| format!("the public URL {public_url:?}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Some(()),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Some(()),
        _ => {
            return Err(format!(
                "passkeys need a domain name, and the public URL ({public_url}) has an address: \
                 set --public-url to the https:// name people open Gantry at"
            ));
        }
    };
    let origin = match loopback {
        None => url,
        Some(()) => {
            let mut local = url.clone();
            local
                .set_host(Some("localhost"))
                .map_err(|e| format!("localhost: {e}"))?;
            local
        }
    };
    let rp_id = origin
        .domain()
        .ok_or_else(|| format!("the public URL {public_url:?} names no host"))?
        .to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| format!("the relying party {rp_id}: {e}"))?
        .rp_name("Gantry")
        .timeout(Duration::from_secs(
            CEREMONY_TIMEOUT.num_seconds().unsigned_abs(),
        ))
        // Locally the port is whatever `--bind` picked.
        .allow_any_port(loopback.is_some())
        .build()
        .map_err(|e| format!("the relying party {rp_id}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_names_the_passkeys_and_a_loopback_address_means_localhost() {
        assert!(relying_party("https://gantry.example.com").is_ok());
        assert!(relying_party("http://127.0.0.1:3000").is_ok());
        assert!(relying_party("http://[::1]:3000").is_ok());
        let err = relying_party("https://10.0.0.5").err().unwrap();
        assert!(err.contains("--public-url"), "{err}");
        assert!(relying_party("not a url").is_err());
    }
}
