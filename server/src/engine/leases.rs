//! Dynamic credentials' leases an attempt holds: renewed while it runs,
//! revoked when it ends, however it ends. The normal end revokes and says
//! so in the attempt's log; an attempt dropped midway (its lease lost, the
//! worker stopping) revokes from `Drop`. A worker killed outright revokes
//! nothing: the server's lease keeper (`secrets/keeper.rs`) does it then.

use super::logs::LogSink;
use crate::secrets::resolve::HeldLease;
use std::time::Duration;

/// Longest wait for one revocation.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct AttemptLeases {
    leases: Vec<HeldLease>,
    renewer: Option<tokio::task::JoinHandle<()>>,
}

impl AttemptLeases {
    /// Starts renewing `leases` (each at two thirds of its duration).
    pub fn hold(leases: Vec<HeldLease>) -> Self {
        let renewer = (!leases.is_empty()).then(|| {
            let renewable: Vec<(
                crate::secrets::SharedProvider,
                gantry_core::secret::SecretLease,
            )> = leases
                .iter()
                .filter(|h| h.lease.renewable && !h.lease.duration.is_zero())
                .map(|h| (h.provider.clone(), h.lease.clone()))
                .collect();
            tokio::spawn(async move {
                let mut set = tokio::task::JoinSet::new();
                for (provider, lease) in renewable {
                    set.spawn(async move {
                        let mut duration = lease.duration;
                        loop {
                            tokio::time::sleep((duration * 2 / 3).max(Duration::from_secs(1)))
                                .await;
                            match provider.renew(&lease, lease.duration).await {
                                Ok(d) if !d.is_zero() => duration = d,
                                Ok(_) => return,
                                Err(e) => {
                                    tracing::warn!(error = %e, "renewing a secret lease failed");
                                    duration = Duration::from_secs(3);
                                }
                            }
                        }
                    });
                }
                while set.join_next().await.is_some() {}
            })
        });
        Self { leases, renewer }
    }

    /// Revokes every lease now and says so in the attempt's log.
    pub async fn release(mut self, logs: &LogSink) {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        for held in std::mem::take(&mut self.leases) {
            let revoked =
                tokio::time::timeout(REVOKE_TIMEOUT, held.provider.revoke(&held.lease)).await;
            let line = match revoked {
                Ok(Ok(())) => format!("revoked the lease of {}", held.reference),
                Ok(Err(e)) => format!(
                    "could not revoke the lease of {} ({e}); the server's lease keeper will",
                    held.reference
                ),
                Err(_) => format!(
                    "revoking the lease of {} took over {} s; the server's lease keeper will",
                    held.reference,
                    REVOKE_TIMEOUT.as_secs()
                ),
            };
            logs.system(line).await;
        }
    }
}

impl Drop for AttemptLeases {
    fn drop(&mut self) {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        let leases = std::mem::take(&mut self.leases);
        if leases.is_empty() {
            return;
        }
        // Dropped midway: revoke in the background; nobody awaits it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for held in leases {
                    let _ = tokio::time::timeout(REVOKE_TIMEOUT, held.provider.revoke(&held.lease))
                        .await;
                }
            });
        }
    }
}
