//! Signed checkpoints: every N records or T seconds (whichever comes first,
//! checked once a second), the process holding the signing key signs the
//! chain's head. An auditor with only the public key can then tell that the
//! chain up to each checkpoint is what it was when signed, even if someone
//! with database access rewrote and rehashed everything after an edit.

use super::keys;
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use ed25519_dalek::SigningKey;
use gantry_core::audit::{ChainLink, Checkpoint};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct CheckpointSettings {
    pub key: SigningKey,
    /// Sign once this many records have been appended since the last one.
    pub every_records: u64,
    /// Sign at least this often while records keep coming.
    pub every: Duration,
}

/// Never prints the private key.
impl std::fmt::Debug for CheckpointSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSettings")
            .field("key_id", &keys::key_id(&self.key.verifying_key()))
            .field("every_records", &self.every_records)
            .field("every", &self.every)
            .finish()
    }
}

/// Signs `head` and stores the checkpoint (a no-op when another process
/// signed the same record first).
pub async fn sign_head(
    store: &SharedStore,
    key: &SigningKey,
    head: &ChainLink,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Checkpoint> {
    let checkpoint = Checkpoint {
        seq: head.seq,
        hash: head.hash.clone(),
        signed_at: now,
        key_id: keys::key_id(&key.verifying_key()),
        signature: keys::sign(key, head.seq, &head.hash),
    };
    store.insert_audit_checkpoint(&checkpoint).await?;
    Ok(checkpoint)
}

/// Runs until the task is dropped.
pub async fn run(store: SharedStore, clock: Arc<dyn Clock>, settings: CheckpointSettings) {
    let mut last: Option<(u64, chrono::DateTime<chrono::Utc>)> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = step(&store, clock.as_ref(), &settings, &mut last).await {
            tracing::warn!(error = %e, "audit checkpoint failed; retrying");
        }
    }
}

async fn step(
    store: &SharedStore,
    clock: &dyn Clock,
    settings: &CheckpointSettings,
    last: &mut Option<(u64, chrono::DateTime<chrono::Utc>)>,
) -> anyhow::Result<()> {
    let ends = store.audit_chain_ends().await?;
    if last.is_none() {
        let newest = store.audit_checkpoints(ends.anchor.seq).await?.pop();
        *last = Some(newest.map_or(
            (ends.anchor.seq, chrono::DateTime::<chrono::Utc>::MIN_UTC),
            |c| (c.seq, c.signed_at),
        ));
    }
    let Some((last_seq, last_at)) = *last else {
        return Ok(());
    };
    let now = clock.now();
    let pending = ends.head.seq.saturating_sub(last_seq);
    let due = pending >= settings.every_records.max(1)
        || (pending > 0 && (now - last_at).to_std().unwrap_or_default() >= settings.every);
    if due {
        let cp = sign_head(store, &settings.key, &ends.head, now).await?;
        tracing::debug!(seq = cp.seq, "audit checkpoint signed");
        *last = Some((cp.seq, now));
    }
    Ok(())
}
