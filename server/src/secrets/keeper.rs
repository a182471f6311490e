//! The lease keeper, in every `gantry serve`: revokes the dynamic
//! credentials of attempts that ended (the worker normally did already; a
//! worker killed outright could not), and renews those the server fetched
//! for remote workers while their attempts run. Each revocation is one
//! `secret.revoke` audit record. Several `serve` processes may run it: a
//! revocation is idempotent at the provider and recorded once.

use super::SecretProviders;
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use crate::store::secret_leases::DueLease;
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the keeper looks.
pub const EVERY: Duration = Duration::from_secs(2);
/// Server-held leases are renewed when they have less than this left.
const RENEW_WITHIN: chrono::Duration = chrono::Duration::seconds(30);
/// After a failure, when to try again.
const RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(5);
/// No provider here for the lease (a remote worker's own Vault): look
/// again rarely; the worker revoked it, or it expires on its own.
const NO_PROVIDER_RETRY: chrono::Duration = chrono::Duration::hours(1);

pub async fn run(
    store: SharedStore,
    providers: Arc<SecretProviders>,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = keep(&store, &providers, clock.as_ref()).await {
                    tracing::warn!(error = %e, "the secret lease keeper could not look at leases");
                }
            }
        }
    }
}

/// One round: what is due now. Returns how many leases it revoked.
pub async fn keep(
    store: &SharedStore,
    providers: &SecretProviders,
    clock: &dyn Clock,
) -> anyhow::Result<usize> {
    let now = clock.now();
    let due = store.leases_due(now, now + RENEW_WITHIN, 100).await?;
    let mut revoked = 0;
    for DueLease {
        lease,
        attempt_running,
    } in due
    {
        let Some(provider) = providers.get(&lease.environment, &lease.provider) else {
            let why = format!(
                "no {} provider for {} on this server; the worker that took it revokes it, or it expires at {}",
                lease.provider, lease.environment, lease.expires_at
            );
            store
                .lease_failed(&lease.lease_id, &why, now + NO_PROVIDER_RETRY)
                .await?;
            continue;
        };
        let held = gantry_core::secret::SecretLease {
            id: lease.lease_id.clone(),
            duration: Duration::from_secs(u64::from(lease.duration_secs)),
            renewable: true,
        };
        if attempt_running {
            match provider.renew(&held, held.duration).await {
                Ok(d) => {
                    let secs = i64::try_from(d.as_secs()).unwrap_or(0);
                    store
                        .lease_renewed(&lease.lease_id, now + chrono::Duration::seconds(secs))
                        .await?;
                }
                Err(e) => {
                    store
                        .lease_failed(&lease.lease_id, &e.to_string(), now + RETRY_AFTER)
                        .await?;
                }
            }
            continue;
        }
        match provider.revoke(&held).await {
            Ok(()) => {
                let mut event = AuditEvent::new(
                    clock.now(),
                    Actor::system("lease keeper"),
                    AuditAction::SecretRevoke,
                    format!("run/{}", lease.run_id),
                );
                event.environment = Some(lease.environment.clone());
                event.set_detail("step", lease.step_id.as_str());
                event.set_detail("attempt", lease.attempt);
                event.set_detail("reference", lease.reference.as_str());
                event.set_detail("provider", lease.provider.as_str());
                event.set_detail("lease_id", lease.lease_id.as_str());
                store
                    .lease_revoked(&lease.lease_id, clock.now(), event)
                    .await?;
                revoked += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, lease = %lease.lease_id, "revoking a secret lease failed");
                store
                    .lease_failed(&lease.lease_id, &e.to_string(), now + RETRY_AFTER)
                    .await?;
            }
        }
    }
    Ok(revoked)
}
