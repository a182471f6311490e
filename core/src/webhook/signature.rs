//! Signature headers and their verification: HMAC-SHA256 under the hook's
//! current secret or, during a rotation, its previous one, compared in
//! constant time (`Mac::verify_slice`). Gantry mode signs `"{t}.{body}"`
//! with `t` in Unix seconds (Stripe's scheme), so a stale timestamp is
//! refused; GitHub mode signs the body alone and relies on the delivery id
//! for replays.

use super::{InboundDelivery, SignatureMode, TIMESTAMP_TOLERANCE_SECS};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Which secret verified a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    Current,
    Previous,
}

impl KeySlot {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySlot::Current => "current",
            KeySlot::Previous => "previous",
        }
    }
}

/// A delivery whose signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub key: KeySlot,
    /// The sender's delivery id, or (Gantry mode without one) the
    /// signature itself, which is unique per timestamp and body.
    pub delivery_id: String,
}

/// Why a signature was refused; the text goes to the sender and the audit
/// log, so it never holds a secret or an expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    #[error(
        "the signature's timestamp is {0} s from the server's clock; at most {TIMESTAMP_TOLERANCE_SECS} s is accepted"
    )]
    Stale(i64),
    #[error("the signature does not match the hook's secret")]
    Mismatch,
}

const GANTRY_HEADER: &str = "X-Gantry-Signature";
const HUB_HEADER: &str = "X-Hub-Signature-256";
const GITHUB_DELIVERY: &str = "X-GitHub-Delivery";
const MAX_DELIVERY_ID: usize = 128;

/// Checks `delivery` against `keys` (the current secret first, then the
/// previous one while it is active) at `now` (Unix seconds).
pub fn verify(
    mode: SignatureMode,
    keys: &[&[u8]],
    delivery: &InboundDelivery,
    now: i64,
) -> Result<Verified, Refusal> {
    match mode {
        SignatureMode::Gantry => verify_gantry(keys, delivery, now),
        SignatureMode::Github => verify_github(keys, delivery),
    }
}

fn verify_gantry(
    keys: &[&[u8]],
    delivery: &InboundDelivery,
    now: i64,
) -> Result<Verified, Refusal> {
    let header = delivery
        .gantry_signature
        .as_deref()
        .ok_or(Refusal::Missing(GANTRY_HEADER))?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => {
                signatures.push(hex::decode(sig).map_err(|_| Refusal::Malformed(GANTRY_HEADER))?)
            }
            _ => {}
        }
    }
    let t = timestamp.ok_or(Refusal::Malformed(GANTRY_HEADER))?;
    if signatures.is_empty() {
        return Err(Refusal::Malformed(GANTRY_HEADER));
    }
    let age = now.saturating_sub(t);
    if age.abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(Refusal::Stale(age));
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&delivery.body);
    let (key, sig) = matching(keys, &signed, &signatures)?;
    let delivery_id = match delivery.delivery_id.as_deref() {
        Some(id) => checked_id(id, "X-Gantry-Delivery")?,
        None => format!("v1:{}", hex::encode(sig)),
    };
    Ok(Verified { key, delivery_id })
}

fn verify_github(keys: &[&[u8]], delivery: &InboundDelivery) -> Result<Verified, Refusal> {
    let header = delivery
        .hub_signature
        .as_deref()
        .ok_or(Refusal::Missing(HUB_HEADER))?;
    let sig = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::Malformed(HUB_HEADER))?;
    let (key, _) = matching(keys, &delivery.body, &[sig])?;
    let id = delivery
        .delivery_id
        .as_deref()
        .ok_or(Refusal::Missing(GITHUB_DELIVERY))?;
    Ok(Verified {
        key,
        delivery_id: checked_id(id, GITHUB_DELIVERY)?,
    })
}

/// The first key that one of `signatures` was made with.
fn matching<'s>(
    keys: &[&[u8]],
    signed: &[u8],
    signatures: &'s [Vec<u8>],
) -> Result<(KeySlot, &'s [u8]), Refusal> {
    for (i, key) in keys.iter().enumerate() {
        for sig in signatures {
            let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
                continue;
            };
            mac.update(signed);
            if mac.verify_slice(sig).is_ok() {
                let slot = if i == 0 {
                    KeySlot::Current
                } else {
                    KeySlot::Previous
                };
                return Ok((slot, sig));
            }
        }
    }
    Err(Refusal::Mismatch)
}

fn checked_id(id: &str, header: &'static str) -> Result<String, Refusal> {
    let id = id.trim();
    if id.is_empty() || id.len() > MAX_DELIVERY_ID || id.chars().any(|c| c.is_control()) {
        return Err(Refusal::Malformed(header));
    }
    Ok(id.to_owned())
}

fn mac_hex(secret: &[u8], signed: &[u8]) -> String {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(signed);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Gantry-Signature` value a sender sends for `body` at `t`.
pub fn gantry_header(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={t},v1={}", mac_hex(secret, &signed))
}

/// The `X-Hub-Signature-256` value GitHub sends for `body`.
pub fn github_header(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", mac_hex(secret, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;
    const BODY: &[u8] = br#"{"ref":"refs/heads/main"}"#;

    fn gantry(sig: String, id: Option<&str>) -> InboundDelivery {
        InboundDelivery {
            gantry_signature: Some(sig),
            delivery_id: id.map(str::to_owned),
            body: BODY.to_vec(),
            ..InboundDelivery::default()
        }
    }

    #[test]
    fn a_good_gantry_signature_verifies_under_the_current_key() {
        let d = gantry(gantry_header(b"new", NOW - 10, BODY), Some("d-1"));
        let v = verify(SignatureMode::Gantry, &[b"new", b"old"], &d, NOW).unwrap();
        assert_eq!(v.key, KeySlot::Current);
        assert_eq!(v.delivery_id, "d-1");
    }

    #[test]
    fn the_previous_key_verifies_during_a_rotation_and_not_after() {
        let d = gantry(gantry_header(b"old", NOW, BODY), None);
        let v = verify(SignatureMode::Gantry, &[b"new", b"old"], &d, NOW).unwrap();
        assert_eq!(v.key, KeySlot::Previous);
        assert!(v.delivery_id.starts_with("v1:"));
        assert_eq!(
            verify(SignatureMode::Gantry, &[b"new"], &d, NOW),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn stale_future_tampered_and_malformed_signatures_are_refused() {
        let stale = gantry(gantry_header(b"k", NOW - 301, BODY), None);
        assert_eq!(
            verify(SignatureMode::Gantry, &[b"k"], &stale, NOW),
            Err(Refusal::Stale(301))
        );
        let future = gantry(gantry_header(b"k", NOW + 400, BODY), None);
        assert!(matches!(
            verify(SignatureMode::Gantry, &[b"k"], &future, NOW),
            Err(Refusal::Stale(_))
        ));
        let mut tampered = gantry(gantry_header(b"k", NOW, BODY), None);
        tampered.body.push(b' ');
        assert_eq!(
            verify(SignatureMode::Gantry, &[b"k"], &tampered, NOW),
            Err(Refusal::Mismatch)
        );
        for bad in ["v1=zz", "t=1", "nonsense", "t=x,v1=00"] {
            assert!(matches!(
                verify(
                    SignatureMode::Gantry,
                    &[b"k"],
                    &gantry(bad.into(), None),
                    NOW
                ),
                Err(Refusal::Malformed(_))
            ));
        }
        assert_eq!(
            verify(
                SignatureMode::Gantry,
                &[b"k"],
                &InboundDelivery::default(),
                NOW
            ),
            Err(Refusal::Missing(GANTRY_HEADER))
        );
    }

    #[test]
    fn github_mode_checks_the_body_and_needs_a_delivery_id() {
        let mut d = InboundDelivery {
            hub_signature: Some(github_header(b"k", BODY)),
            delivery_id: Some("72d3162e".into()),
            body: BODY.to_vec(),
            ..InboundDelivery::default()
        };
        let v = verify(SignatureMode::Github, &[b"k"], &d, NOW).unwrap();
        assert_eq!(v.delivery_id, "72d3162e");
        assert_eq!(
            verify(SignatureMode::Github, &[b"other"], &d, NOW),
            Err(Refusal::Mismatch)
        );
        d.delivery_id = None;
        assert_eq!(
            verify(SignatureMode::Github, &[b"k"], &d, NOW),
            Err(Refusal::Missing(GITHUB_DELIVERY))
        );
        d.hub_signature = Some("sha1=00".into());
        assert!(matches!(
            verify(SignatureMode::Github, &[b"k"], &d, NOW),
            Err(Refusal::Malformed(_))
        ));
    }
}
