//! Checkpoint keys. A signing key is read from a file holding either PKCS#8
//! PEM (what `openssl genpkey -algorithm ed25519` writes) or the raw 32-byte
//! seed in hex or base64; a public key is PEM (SPKI) or 32 bytes in hex or
//! base64. Key material never appears in errors or logs.

use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use gantry_core::audit::checkpoint_message;
use rand::RngCore;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not an Ed25519 {what} key: use PEM from `gantry audit keygen` or `openssl genpkey -algorithm ed25519`, or 32 bytes in hex or base64"
    )]
    Format { path: String, what: &'static str },
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// 32 bytes from hex or base64 text.
fn raw32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())?;
    bytes.try_into().ok()
}

pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = read(path)?;
    let key = if text.contains("-----BEGIN") {
        SigningKey::from_pkcs8_pem(&text).ok()
    } else {
        raw32(&text).map(|seed| SigningKey::from_bytes(&seed))
    };
    key.ok_or_else(|| KeyError::Format {
        path: path.display().to_string(),
        what: "private",
    })
}

/// A public key from a file, or given inline as hex/base64.
pub fn load_verifying_key(path_or_value: &str) -> Result<VerifyingKey, KeyError> {
    let path = Path::new(path_or_value);
    let text = if path.exists() {
        read(path)?
    } else {
        path_or_value.to_owned()
    };
    let key = if text.contains("-----BEGIN") {
        VerifyingKey::from_public_key_pem(&text).ok()
    } else {
        raw32(&text).and_then(|b| VerifyingKey::from_bytes(&b).ok())
    };
    key.ok_or_else(|| KeyError::Format {
        path: path_or_value.to_owned(),
        what: "public",
    })
}

/// A new key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate() -> anyhow::Result<(String, String)> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let private = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
    Ok((private.to_string(), public))
}

/// The id a checkpoint names its key by: the public key in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

pub fn sign(key: &SigningKey, seq: u64, hash: &str) -> String {
    hex::encode(key.sign(&checkpoint_message(seq, hash)).to_bytes())
}

/// Whether `signature` (hex) is `key`'s signature of the checkpoint.
pub fn verify(key: &VerifyingKey, seq: u64, hash: &str, signature: &str) -> bool {
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify(&checkpoint_message(seq, hash), &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_sign_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = generate().unwrap();
        let priv_path = dir.path().join("audit.key");
        let pub_path = dir.path().join("audit.pub");
        std::fs::write(&priv_path, &private).unwrap();
        std::fs::write(&pub_path, &public).unwrap();
        let signing = load_signing_key(&priv_path).unwrap();
        let verifying = load_verifying_key(pub_path.to_str().unwrap()).unwrap();
        assert_eq!(signing.verifying_key(), verifying);
        let sig = sign(&signing, 7, "ab");
        assert!(verify(&verifying, 7, "ab", &sig));
        assert!(!verify(&verifying, 8, "ab", &sig));
        assert!(!verify(&verifying, 7, "ac", &sig));
        assert!(!verify(&verifying, 7, "ab", "zz"));
        // The public key also works inline, as its id.
        assert_eq!(load_verifying_key(&key_id(&verifying)).unwrap(), verifying);
    }

    #[test]
    fn raw_seeds_load_and_garbage_is_refused_without_echo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed");
        std::fs::write(&path, hex::encode([7u8; 32])).unwrap();
        assert!(load_signing_key(&path).is_ok());
        std::fs::write(&path, "not-a-key-s3cr3t").unwrap();
        let err = load_signing_key(&path).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(err.contains("openssl genpkey"), "{err}");
    }
}
