//! Delivery: one notification for one channel as the HTTP request that goes
//! over the wire, sending it once, and what to do about the answer.
//!
//! The outbox sender calls, per attempt: [`requests`] (pure: the same
//! notification, channel and `now` always give the same bytes), [`send`]
//! for each, and on [`Outcome::Retry`] waits [`backoff`] before the next
//! attempt. [`shown`] is what the notification history keeps: the request
//! with every credential masked. Formats are documented in
//! `docs/alerting.md` ("Channels").

mod alertmanager;
mod backoff;
mod pagerduty;
mod send;
mod shown;
mod slack;
mod text;
mod webhook;

#[cfg(test)]
mod fixture;

pub use alertmanager::{ALERTMANAGER_HOLD, ALERTMANAGER_TEST_HOLD};
pub use backoff::{MAX_BACKOFF, backoff};
pub use send::{MAX_RETRY_AFTER, Outcome, client, retry_after, send};
pub use shown::{MASK, shown};
pub use webhook::{
    SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_VERSION, sign, signature_header, verify,
};

use chrono::{DateTime, Utc};
use gantry_core::alert::channel::PAGERDUTY_EVENTS_URL;
use gantry_core::alert::{ChannelKind, ChannelSpec, Notification, SigningKey};

/// A channel ready to send to: kind, URL and opened credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: ChannelKind,
    /// Alertmanager: its base URL (`/api/v2/alerts` is appended). Slack:
    /// the incoming-webhook URL, itself a credential.
    pub url: String,
    /// Webhook: every active key signs every request.
    pub signing_keys: Vec<SigningKey>,
    /// PagerDuty: the integration's routing key.
    pub routing_key: Option<String>,
    /// Alertmanager: sent as `Authorization: Bearer …` when set.
    pub bearer_token: Option<String>,
}

impl Target {
    /// The target a valid channel spec describes (PagerDuty's URL
    /// defaulting to its public Events API); `None` without a kind or URL.
    pub fn from_spec(spec: &ChannelSpec) -> Option<Target> {
        let kind = spec.kind?;
        let url = match (kind, &spec.url) {
            (_, Some(url)) => url.clone(),
            (ChannelKind::Pagerduty, None) => PAGERDUTY_EVENTS_URL.to_string(),
            (_, None) => return None,
        };
        Some(Target {
            kind,
            url,
            signing_keys: spec.signing_keys.clone(),
            routing_key: spec.routing_key.clone(),
            bearer_token: spec.bearer_token.clone(),
        })
    }
}

/// Never prints a credential: Slack's URL is one, so no URL at all.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("kind", &self.kind)
            .field("signing_keys", &self.signing_keys)
            .finish_non_exhaustive()
    }
}

/// What goes over the wire: always a POST.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(url: String, mut headers: Vec<(String, String)>, body: &serde_json::Value) -> Request {
        headers.insert(0, ("Content-Type".into(), "application/json".into()));
        Request {
            url,
            headers,
            // Display of a `Value` can't fail, unlike `to_vec`'s Result.
            body: body.to_string().into_bytes(),
        }
    }
}

/// Never prints the URL, header values or body: they hold credentials.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The request for `n` at `now` (pure: tests assert exact bodies). Build it
/// again for every attempt: a webhook's timestamp and signatures are only
/// accepted within the receiver's replay window.
pub fn request(target: &Target, n: &Notification, now: DateTime<Utc>) -> Request {
    match target.kind {
        ChannelKind::Webhook => webhook::request(target, n, now),
        ChannelKind::Slack => slack::request(target, n),
        ChannelKind::Pagerduty => pagerduty::event(target, n, now),
        ChannelKind::Alertmanager => alertmanager::request(target, n, now),
    }
}

/// Every request delivering `n`, to send in order: one, except PagerDuty's
/// test, which triggers an incident and resolves it at once so nobody stays
/// paged by a test. An attempt is delivered when all of them are; sending
/// them again is harmless (PagerDuty deduplicates by `dedup_key`).
pub fn requests(target: &Target, n: &Notification, now: DateTime<Utc>) -> Vec<Request> {
    let first = request(target, n, now);
    match pagerduty::test_resolve(target, n) {
        Some(resolve) => vec![first, resolve],
        None => vec![first],
    }
}
