//! The alerting loop in `serve`: every `--alert-evaluation-interval` (or
//! at once when woken: a test notification queued, a silence ended), one
//! evaluation pass and then every due notification delivered.

use super::AlertSettings;
use super::evaluator::{EvalContext, evaluate};
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct LoopSettings {
    pub every: Duration,
    pub eval: EvalContext,
    pub alerts: AlertSettings,
    pub delivery: super::sender::DeliverySettings,
}

/// Runs until `stop`; the first pass at once.
pub async fn run(
    store: SharedStore,
    clock: Arc<dyn Clock>,
    settings: LoopSettings,
    stop: CancellationToken,
) {
    let client = match super::deliver::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the notification client; alerting is off");
            return;
        }
    };
    loop {
        let now = clock.now();
        if let Err(e) = evaluate(&store, now, &settings.eval).await {
            tracing::warn!(error = %e, "alert evaluation failed; trying again next pass");
        }
        if let Err(e) = super::sender::deliver_due(
            &store,
            settings.alerts.sealer.as_deref(),
            &client,
            clock.as_ref(),
            &settings.delivery,
        )
        .await
        {
            tracing::warn!(error = %e, "notification delivery failed; trying again next pass");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = settings.alerts.wake.notified() => {}
            () = tokio::time::sleep(settings.every) => {}
        }
    }
}
