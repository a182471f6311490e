//! Delivering the outbox: takes each due notification (a lease, so one
//! sender per notification across processes), opens its channel's
//! credentials, sends it in the channel's format (`deliver`), and records
//! what happened: delivered, retried later with backoff (429, 5xx,
//! timeouts; `Retry-After` honoured), or failed (rejected, or still
//! undelivered after `--notification-give-up-after`).

use super::deliver::{self, Outcome, Target};
use super::seal::Sealer;
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use crate::store::alerts::{ClaimedNotification, DeliveryRecord};
use gantry_core::alert::view::DeliveryStatus;
use std::time::Duration;

pub struct DeliverySettings {
    pub timeout: Duration,
    pub give_up_after: Duration,
}

/// How long a claim keeps other senders off a notification: past the
/// request's own timeout, so a live sender always records first.
fn lease(settings: &DeliverySettings) -> Duration {
    settings.timeout * 2 + Duration::from_secs(5)
}

/// Delivers every due notification; how many it attempted.
pub async fn deliver_due(
    store: &SharedStore,
    sealer: Option<&Sealer>,
    client: &reqwest::Client,
    clock: &dyn Clock,
    settings: &DeliverySettings,
) -> anyhow::Result<usize> {
    let mut attempted = 0;
    while let Some(claimed) = store
        .claim_notification(clock.now(), lease(settings))
        .await?
    {
        attempted += 1;
        let record = attempt(store, sealer, client, clock, settings, &claimed).await?;
        let outcome = match record.status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Pending => "retry",
            DeliveryStatus::Failed => "failed",
        };
        metrics::counter!("gantry_notifications_total",
            "channel" => claimed.channel.clone(), "outcome" => outcome)
        .increment(1);
        if record.status == DeliveryStatus::Failed {
            tracing::warn!(notification = %claimed.id, channel = %claimed.channel,
                error = record.error.as_deref().unwrap_or(""), "notification failed for good");
        }
        store.record_delivery(&claimed.id, &record).await?;
    }
    Ok(attempted)
}

async fn attempt(
    store: &SharedStore,
    sealer: Option<&Sealer>,
    client: &reqwest::Client,
    clock: &dyn Clock,
    settings: &DeliverySettings,
    claimed: &ClaimedNotification,
) -> anyhow::Result<DeliveryRecord> {
    let failed = |error: String| DeliveryRecord {
        status: DeliveryStatus::Failed,
        http_status: None,
        error: Some(error),
        request: None,
        next_attempt_at: clock.now(),
        at: clock.now(),
    };
    let Some(channel) = store.alert_channel(&claimed.channel).await? else {
        return Ok(failed(format!(
            "the channel {:?} was deleted",
            claimed.channel
        )));
    };
    let Some(credentials) = sealer.and_then(|s| s.open(&channel.name, &channel.sealed)) else {
        return Ok(failed(
            "the channel's credentials can't be opened: --alert-credentials-key-file is missing or \
             not the key they were sealed with; save the channel again"
                .into(),
        ));
    };
    let target = Target {
        kind: channel.kind,
        url: credentials.url.clone().unwrap_or(channel.url.clone()),
        signing_keys: credentials.signing_keys.clone(),
        routing_key: credentials.routing_key.clone(),
        bearer_token: credentials.bearer_token.clone(),
    };
    // Usually one request; PagerDuty's test is a trigger and its resolve.
    let requests = deliver::requests(&target, &claimed.notification, clock.now());
    let shown = requests
        .first()
        .map(|r| deliver::shown(&target, r))
        .unwrap_or_default();
    let mut outcome = Outcome::Delivered { status: 0 };
    for request in &requests {
        outcome = deliver::send(client, request, settings.timeout).await;
        if !matches!(outcome, Outcome::Delivered { .. }) {
            break;
        }
    }
    let now = clock.now();
    let waited = (now - claimed.created_at).to_std().unwrap_or_default();
    Ok(match outcome {
        Outcome::Delivered { status } => DeliveryRecord {
            status: DeliveryStatus::Delivered,
            http_status: Some(status),
            error: None,
            request: Some(shown),
            next_attempt_at: now,
            at: now,
        },
        Outcome::Rejected { status, error } => DeliveryRecord {
            status: DeliveryStatus::Failed,
            http_status: Some(status),
            error: Some(error),
            request: Some(shown),
            next_attempt_at: now,
            at: now,
        },
        Outcome::Retry {
            status,
            after,
            error,
        } => {
            let wait = deliver::backoff(claimed.attempts + 1, after);
            let give_up = waited + wait > settings.give_up_after;
            DeliveryRecord {
                status: if give_up {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Pending
                },
                http_status: status,
                error: Some(if give_up {
                    format!("gave up after {} attempts: {error}", claimed.attempts + 1)
                } else {
                    error
                }),
                request: Some(shown),
                next_attempt_at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                at: now,
            }
        }
    })
}
