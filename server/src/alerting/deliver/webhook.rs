//! Webhook: Gantry's own versioned JSON, signed with HMAC-SHA256 over
//! `"{timestamp}.{body}"` by every active key, so a receiver rotating its
//! key accepts either signature during the change (docs/alerting.md,
//! "Webhook", has the receiver's side).

use super::{Request, Target, text};
use chrono::{DateTime, Utc};
use gantry_core::alert::{Notification, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;

/// The body's `version`: raised only when a field changes meaning or goes
/// away (new fields may appear within a version).
pub const WEBHOOK_VERSION: &str = "1";
/// Unix seconds when the request was built; signed with the body.
pub const TIMESTAMP_HEADER: &str = "Gantry-Timestamp";
/// `k1=<hex>, k2=<hex>`: one HMAC-SHA256 per active key, by key id.
pub const SIGNATURE_HEADER: &str = "Gantry-Signature";

pub(super) fn request(target: &Target, n: &Notification, now: DateTime<Utc>) -> Request {
    let body = body(n).to_string().into_bytes();
    let timestamp = now.timestamp().to_string();
    let mut headers = vec![
        ("Idempotency-Key".to_string(), n.id.clone()),
        (TIMESTAMP_HEADER.to_string(), timestamp.clone()),
    ];
    if !target.signing_keys.is_empty() {
        headers.push((
            SIGNATURE_HEADER.to_string(),
            signature_header(&target.signing_keys, &timestamp, &body),
        ));
    }
    headers.insert(0, ("Content-Type".into(), "application/json".into()));
    Request {
        url: target.url.clone(),
        headers,
        body,
    }
}

/// Version 1 of the body. Every field is always present (`null` when
/// unknown), so receivers can map it onto a fixed type.
pub(super) fn body(n: &Notification) -> serde_json::Value {
    json!({
        "version": WEBHOOK_VERSION,
        "id": n.id,
        "status": if n.notice.resolves() { "resolved" } else { "firing" },
        "notice": n.notice.as_str(),
        "fingerprint": n.fingerprint,
        "rule": n.rule,
        "rule_kind": n.rule_kind,
        "severity": n.severity.as_str(),
        "workflow": n.workflow,
        "environment": n.environment,
        "summary": n.summary,
        "started_at": text::time(n.started_at),
        "resolved_at": n.resolved_at.map(text::time),
        "run_id": n.run_id,
        "run_url": n.run_url,
        "alert_url": n.alert_url,
    })
}

fn mac(secret: &str) -> Option<Hmac<Sha256>> {
    // HMAC takes a key of any length; the error case can't happen.
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()
}

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Some(mut mac) = mac(secret) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Gantry-Signature` value: `id=<hex>` per key, joined by `", "`.
pub fn signature_header(keys: &[SigningKey], timestamp: &str, body: &[u8]) -> String {
    keys.iter()
        .map(|k| format!("{}={}", k.id, sign(&k.secret, timestamp, body)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A receiver's check: the header carries a valid signature by `key_id`
/// under `secret`, and `timestamp` is within `tolerance` of `now` (either
/// way), so a captured request can't be replayed later. Compares in
/// constant time.
pub fn verify(
    signature_header: &str,
    timestamp: &str,
    body: &[u8],
    key_id: &str,
    secret: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> bool {
    let Ok(sent) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    let age = now.timestamp().abs_diff(sent);
    if age > tolerance.as_secs() {
        return false;
    }
    let Some(given) = signature_header.split(',').find_map(|part| {
        let (id, value) = part.trim().split_once('=')?;
        (id == key_id).then_some(value)
    }) else {
        return false;
    };
    let (Ok(given), Some(mut mac)) = (hex::decode(given), mac(secret)) else {
        return false;
    };
    mac.update(timestamp.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, SECRET_1, SECRET_2, at};
    use super::*;

    const WINDOW: Duration = Duration::from_secs(300);

    #[test]
    fn the_body_is_the_documented_version_1_shape() {
        let req = request(&fixture::webhook(), &fixture::firing(), at(10, 5));
        assert_eq!(
            fixture::body(&req),
            json!({
                "version": "1",
                "id": "n-1",
                "status": "firing",
                "notice": "firing",
                "fingerprint": "f00dfeedcafe0001",
                "rule": "nightly keeps failing",
                "rule_kind": "consecutive_failures",
                "severity": "critical",
                "workflow": "nightly",
                "environment": "prod",
                "summary": "3 runs in a row failed",
                "started_at": "2026-12-05T10:00:00Z",
                "resolved_at": null,
                "run_id": "run-42",
                "run_url": "https://gantry.example/runs/run-42",
                "alert_url": "https://gantry.example/alerts/f00dfeedcafe0001",
            })
        );
        assert_eq!(req.url, "https://hooks.example/gantry");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("Idempotency-Key"), Some("n-1"));
        assert_eq!(req.header(TIMESTAMP_HEADER), Some("1796465100"));
    }

    #[test]
    fn resolved_and_test_notices_say_what_they_are() {
        let resolved = fixture::body(&request(
            &fixture::webhook(),
            &fixture::resolved(),
            at(11, 1),
        ));
        assert_eq!(resolved["status"], "resolved");
        assert_eq!(resolved["notice"], "resolved");
        assert_eq!(resolved["resolved_at"], "2026-12-05T11:00:00Z");
        let test = fixture::body(&request(
            &fixture::webhook(),
            &fixture::test_notice(),
            at(11, 1),
        ));
        assert_eq!(test["status"], "firing");
        assert_eq!(test["notice"], "test");
        assert_eq!(test["run_id"], serde_json::Value::Null);
    }

    #[test]
    fn each_active_key_signs_and_either_verifies() {
        let now = at(10, 5);
        let req = request(&fixture::webhook(), &fixture::firing(), now);
        let header = req.header(SIGNATURE_HEADER).unwrap();
        let ts = req.header(TIMESTAMP_HEADER).unwrap();
        let parts: Vec<&str> = header.split(", ").collect();
        assert_eq!(parts.len(), 2, "{header}");
        assert!(parts[0].starts_with("k1=") && parts[1].starts_with("k2="));
        assert_eq!(parts[0].len(), 3 + 64);
        assert!(verify(header, ts, &req.body, "k1", SECRET_1, now, WINDOW));
        assert!(verify(header, ts, &req.body, "k2", SECRET_2, now, WINDOW));
    }

    #[test]
    fn a_wrong_key_a_changed_body_or_a_stale_timestamp_fail() {
        let now = at(10, 5);
        let req = request(&fixture::webhook(), &fixture::firing(), now);
        let header = req.header(SIGNATURE_HEADER).unwrap();
        let ts = req.header(TIMESTAMP_HEADER).unwrap();
        // The right id with the other key's secret, and an id not sent.
        assert!(!verify(header, ts, &req.body, "k1", SECRET_2, now, WINDOW));
        assert!(!verify(header, ts, &req.body, "k3", SECRET_1, now, WINDOW));
        let mut changed = req.body.clone();
        changed[10] ^= 1;
        assert!(!verify(header, ts, &changed, "k1", SECRET_1, now, WINDOW));
        // The timestamp is signed: moving it breaks the signature.
        let later = (now.timestamp() + 1).to_string();
        assert!(!verify(
            header, &later, &req.body, "k1", SECRET_1, now, WINDOW
        ));
        // Replayed after the window, or dated too far ahead.
        let stale = now + chrono::Duration::seconds(301);
        assert!(!verify(
            header, ts, &req.body, "k1", SECRET_1, stale, WINDOW
        ));
        let early = now - chrono::Duration::seconds(301);
        assert!(!verify(
            header, ts, &req.body, "k1", SECRET_1, early, WINDOW
        ));
        let edge = now + chrono::Duration::seconds(300);
        assert!(verify(header, ts, &req.body, "k1", SECRET_1, edge, WINDOW));
        for garbage in ["", "k1", "k1=zz", "k1=", "=abc"] {
            assert!(!verify(garbage, ts, &req.body, "k1", SECRET_1, now, WINDOW));
        }
        assert!(!verify(
            header, "soon", &req.body, "k1", SECRET_1, now, WINDOW
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // A known answer computed independently:
        // `printf '%s' '1700000000.{}' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            sign("key", "1700000000", b"{}"),
            "9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn without_keys_nothing_is_signed() {
        let mut target = fixture::webhook();
        target.signing_keys.clear();
        let req = request(&target, &fixture::firing(), at(10, 5));
        assert_eq!(req.header(SIGNATURE_HEADER), None);
    }
}
