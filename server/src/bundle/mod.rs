//! Bundles' Ed25519 half: signing an export and checking an import's
//! signature against trusted keys. The keys are the audit checkpoints'
//! (`audit::keys`: PKCS#8 PEM from `gantry audit keygen`, or 32 bytes in
//! hex or base64); the format and every other check are core's
//! (`gantry_core::bundle`). The CLI (`gantry export`, `gantry import`) and
//! the plane (`POST /api/v1/bundles`) both verify here, so they refuse with
//! the same words.

use crate::audit::keys::key_id;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use gantry_core::bundle::{
    Bundle, BundlePayload, BundleRefusal, UnverifiedBundle, VerifiedBundle, check_bundle,
};

/// The payload signed with `key`, as a bundle ready to write.
pub fn sign(payload: BundlePayload, key: &SigningKey) -> Result<Bundle, serde_json::Error> {
    Bundle::sign(payload, key_id(&key.verifying_key()), |message| {
        hex::encode(key.sign(message).to_bytes())
    })
}

/// Checks `text` as a bundle: structure and hashes (core), then that one
/// of `trusted` signed exactly this content. `how` says where trust is
/// configured, for the unknown-key refusal.
pub fn verify(
    text: &str,
    trusted: &[VerifyingKey],
    how: &str,
) -> Result<VerifiedBundle, BundleRefusal> {
    let unverified = check_bundle(text)?;
    check_signature(&unverified, trusted, how)?;
    Ok(unverified.verified())
}

fn check_signature(
    bundle: &UnverifiedBundle,
    trusted: &[VerifyingKey],
    how: &str,
) -> Result<(), BundleRefusal> {
    let named = &bundle.signature().key_id;
    let Some(key) = trusted.iter().find(|k| &key_id(k) == named) else {
        return Err(BundleRefusal::UnknownKey {
            key_id: named.clone(),
            trusted: if trusted.is_empty() {
                "none".to_owned()
            } else {
                trusted.iter().map(key_id).collect::<Vec<_>>().join(", ")
            },
            how: how.to_owned(),
        });
    };
    let signature = hex::decode(&bundle.signature().value)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok());
    match signature {
        Some(s) if key.verify(bundle.signed_message(), &s).is_ok() => Ok(()),
        _ => Err(BundleRefusal::BadSignature {
            key_id: named.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use gantry_core::bundle::BundledVersion;

    const SOURCE: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v1\n";

    fn payload() -> BundlePayload {
        BundlePayload {
            workflow: "ship".into(),
            environment: Some("prod".into()),
            exported_from: "https://dev.example".into(),
            exported_at: Utc::now(),
            versions: vec![BundledVersion {
                version: 1,
                content_hash: gantry_core::spec::parse(SOURCE).unwrap().content_hash(),
                source: SOURCE.into(),
                created_at: Utc::now(),
                created_by: "alice".into(),
            }],
            ledger: Vec::new(),
        }
    }

    #[test]
    fn a_bundle_verifies_with_its_key_and_no_other() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let text = serde_json::to_string(&sign(payload(), &key).unwrap()).unwrap();
        let ok = verify(&text, &[other.verifying_key(), key.verifying_key()], "--x").unwrap();
        assert_eq!(ok.signer_key, key_id(&key.verifying_key()));

        let r = verify(&text, &[other.verifying_key()], "--bundle-trusted-key").unwrap_err();
        assert!(matches!(r, BundleRefusal::UnknownKey { .. }), "{r:?}");
        assert!(r.to_string().contains("--bundle-trusted-key"), "{r}");

        // Re-signed by another key but still naming the trusted one.
        let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
        let resigned = sign(payload(), &other).unwrap();
        forged["signature"]["value"] = resigned.signature.value.into();
        let r = verify(&forged.to_string(), &[key.verifying_key()], "--x").unwrap_err();
        assert!(matches!(r, BundleRefusal::BadSignature { .. }), "{r:?}");

        // A changed field the hashes don't cover.
        let mut changed: serde_json::Value = serde_json::from_str(&text).unwrap();
        changed["payload"]["environment"] = "dev".into();
        let r = verify(&changed.to_string(), &[key.verifying_key()], "--x").unwrap_err();
        assert!(matches!(r, BundleRefusal::BadSignature { .. }), "{r:?}");

        let mut garbage: serde_json::Value = serde_json::from_str(&text).unwrap();
        garbage["signature"]["value"] = "zz".into();
        assert!(matches!(
            verify(&garbage.to_string(), &[key.verifying_key()], "--x").unwrap_err(),
            BundleRefusal::BadSignature { .. }
        ));
    }
}
