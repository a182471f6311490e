//! What a Gantry process does for itself rather than for a request: the
//! clock everything reads time from, telemetry (logs), and hardening (no
//! credentials in its own environment, not dumpable).

pub mod clock;
pub mod hardening;
pub mod metrics;
pub mod net;
pub mod telemetry;
