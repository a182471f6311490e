//! `serve` verifies the audit chain on its own every
//! `--audit-verify-interval`, so a break shows in
//! `gantry_audit_chain_gap_total` (and the log) without anyone opening the
//! Audit page. Each pass reads only the records appended since the last
//! one; the whole chain is read at start, after an archive, after a break,
//! and once a day, because an edit to a record already verified is only
//! seen by reading it again.

use super::verify::{Verified, verify_store_since};
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use ed25519_dalek::VerifyingKey;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The longest a verified record goes unread.
const FULL_PASS_EVERY: Duration = Duration::from_secs(24 * 3600);

pub struct WatchSettings {
    pub every: Duration,
    /// The checkpoint key's public half, to check signatures with.
    pub key: Option<VerifyingKey>,
}

/// Runs until `stop`; the first pass at once.
pub async fn run(
    store: SharedStore,
    clock: Arc<dyn Clock>,
    settings: WatchSettings,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(settings.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since: Option<Verified> = None;
    let mut full_pass_at = Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if full_pass_at.elapsed() >= FULL_PASS_EVERY {
            since = None;
        }
        if since.is_none() {
            full_pass_at = Instant::now();
        }
        // A long pass must not hold up shutdown.
        let pass = tokio::select! {
            () = stop.cancelled() => return,
            pass = verify_store_since(
                store.as_ref(),
                settings.key.as_ref(),
                clock.now(),
                since.as_ref(),
            ) => pass,
        };
        match pass {
            Ok(pass) => {
                if let Some(problem) = &pass.status.problem {
                    tracing::error!(%problem, "the audit chain does not verify; see `gantry audit verify`");
                }
                since = pass.verified;
            }
            Err(e) => tracing::warn!(error = %e, "could not verify the audit chain"),
        }
    }
}
