//! Break-glass passkeys (docs/break-glass.md): how many one admin may hold
//! and how long a break-glass session lasts.

use clap::Args;
use gantry_core::break_glass::DEFAULT_MAX_PASSKEYS;
use std::time::Duration;

/// A session's longest: break-glass is for getting through an outage, not a
/// way of working.
const MAX_SESSION: Duration = Duration::from_secs(8 * 60 * 60);

#[derive(Debug, Clone, Args)]
pub struct BreakGlassFlags {
    /// Break-glass passkeys one admin may register (1 to 10).
    #[arg(long, env = "GANTRY_BREAK_GLASS_MAX_PASSKEYS", value_name = "N",
          default_value_t = DEFAULT_MAX_PASSKEYS)]
    pub break_glass_max_passkeys: u32,

    /// How long a break-glass session lasts from its sign-in, never renewed (1 minute to 8
    /// hours).
    #[arg(long, env = "GANTRY_BREAK_GLASS_SESSION", value_name = "DURATION",
          default_value = "1h", value_parser = humantime::parse_duration)]
    pub break_glass_session: Duration,
}

impl BreakGlassFlags {
    /// The cap and the session length, or what is wrong with them.
    pub fn checked(&self) -> Result<(u32, Duration), String> {
        if !(1..=10).contains(&self.break_glass_max_passkeys) {
            return Err(format!(
                "--break-glass-max-passkeys {}: allow 1 to 10 passkeys per admin",
                self.break_glass_max_passkeys
            ));
        }
        let session = self.break_glass_session;
        if session < Duration::from_secs(60) || session > MAX_SESSION {
            return Err(format!(
                "--break-glass-session {}: between 1 minute and 8 hours",
                humantime::format_duration(session)
            ));
        }
        Ok((self.break_glass_max_passkeys, session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(max: u32, session: u64) -> BreakGlassFlags {
        BreakGlassFlags {
            break_glass_max_passkeys: max,
            break_glass_session: Duration::from_secs(session),
        }
    }

    #[test]
    fn the_cap_and_the_session_are_bounded() {
        assert_eq!(flags(3, 3600).checked(), Ok((3, Duration::from_secs(3600))));
        for (max, session, names) in [
            (0, 3600, "--break-glass-max-passkeys"),
            (11, 3600, "--break-glass-max-passkeys"),
            (3, 59, "--break-glass-session"),
            (3, 8 * 3600 + 1, "--break-glass-session"),
        ] {
            let err = flags(max, session).checked().unwrap_err();
            assert!(err.starts_with(names), "{err}");
        }
    }
}
