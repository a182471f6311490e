//! Channel credentials at rest: sealed with AES-256-GCM under the key in
//! `--alert-credentials-key-file`, bound to the channel's name (so one
//! channel's sealed credentials can't be pasted onto another), opened only
//! by the sender when it sends. The database alone never reveals a Slack
//! URL, a PagerDuty routing key or a webhook signing key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gantry_core::alert::SigningKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a channel keeps secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Slack's incoming-webhook URL (the URL is the credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_keys: Vec<SigningKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(…)")
    }
}

/// Derivation context: changing it makes every sealed credential unreadable.
const KEY_INFO: &[u8] = b"gantry alert channel credentials v1";

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

impl Sealer {
    /// A sealer keyed by `material` (at least 32 bytes of randomness).
    pub fn new(material: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            material.len() >= 32,
            "the alert credentials key must hold at least 32 bytes (e.g. `openssl rand -base64 48`)"
        );
        let prk = Salt::new(HKDF_SHA256, b"gantry").extract(material);
        let okm = prk
            .expand(&[KEY_INFO], &AES_256_GCM)
            .map_err(|_| anyhow::anyhow!("cannot derive the alert credentials key"))?;
        Ok(Self {
            key: LessSafeKey::new(UnboundKey::from(okm)),
            rng: SystemRandom::new(),
        })
    }

    /// Reads the key file, or with `create` makes one (0600) when it is
    /// missing: the embedded SQLite default keeps its key beside the
    /// database, so `make run` needs no setup.
    pub fn from_file(path: &Path, create: bool) -> anyhow::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => Self::new(trim(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut material = [0u8; 48];
                SystemRandom::new()
                    .fill(&mut material)
                    .map_err(|_| anyhow::anyhow!("no randomness for the alert credentials key"))?;
                let text = STANDARD.encode(material);
                write_private(path, text.as_bytes())?;
                tracing::info!(path = %path.display(), "made a new alert credentials key");
                Self::new(text.as_bytes())
            }
            Err(e) => Err(anyhow::anyhow!(
                "cannot read the alert credentials key {}: {e}",
                path.display()
            )),
        }
    }

    pub fn seal(&self, channel: &str, credentials: &Credentials) -> anyhow::Result<String> {
        self.seal_value(channel, credentials)
    }

    /// `None` when the seal was made under another key or for another
    /// channel, or was altered.
    pub fn open(&self, channel: &str, sealed: &str) -> Option<Credentials> {
        self.open_value(channel, sealed)
    }

    /// Seals any value bound to `bound_to` (a channel's name; inbound
    /// webhooks bind theirs to `webhook:<name>`, see `plane/webhooks.rs`).
    pub fn seal_value<T: Serialize>(&self, bound_to: &str, value: &T) -> anyhow::Result<String> {
        let mut sealed = serde_json::to_vec(value)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness to seal credentials"))?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(bound_to.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| anyhow::anyhow!("cannot seal credentials"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// `None` when the seal was made under another key or bound to
    /// something else, or was altered.
    pub fn open_value<T: DeserializeOwned>(&self, bound_to: &str, sealed: &str) -> Option<T> {
        let mut bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let mut body = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(bound_to.as_bytes()), &mut body)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let text = bytes.trim_ascii();
    if text.is_empty() { bytes } else { text }
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// Where the SQLite default keeps its key: beside the database file.
pub fn default_key_path(sqlite_url: &str) -> Option<PathBuf> {
    let path = sqlite_url
        .strip_prefix("sqlite://")
        .or_else(|| sqlite_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let db = Path::new(path);
    Some(
        db.parent()
            .unwrap_or_else(|| Path::new("."))
            .join("gantry-alert-credentials.key"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            routing_key: Some("R0UT1NG-KEY".into()),
            ..Credentials::default()
        }
    }

    #[test]
    fn sealed_credentials_open_only_for_their_channel_and_key() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = sealer.seal("pd", &creds()).unwrap();
        assert!(!sealed.contains("R0UT1NG"));
        assert_eq!(sealer.open("pd", &sealed), Some(creds()));
        assert_eq!(sealer.open("other", &sealed), None);
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open("pd", &sealed), None);
        let mut tampered = STANDARD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open("pd", &STANDARD.encode(tampered)), None);
    }

    #[test]
    fn a_short_key_is_refused_and_a_missing_one_is_made_private() {
        assert!(Sealer::new(b"short").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        assert!(Sealer::from_file(&path, false).is_err());
        let made = Sealer::from_file(&path, true).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = Sealer::from_file(&path, false).unwrap();
        let sealed = made.seal("c", &creds()).unwrap();
        assert_eq!(again.open("c", &sealed), Some(creds()));
    }

    #[test]
    fn the_default_key_lives_beside_the_database() {
        assert_eq!(
            default_key_path("sqlite:///var/lib/gantry/gantry.db?mode=rwc"),
            Some(PathBuf::from(
                "/var/lib/gantry/gantry-alert-credentials.key"
            ))
        );
        assert_eq!(default_key_path("sqlite::memory:"), None);
        assert_eq!(default_key_path("postgres://x/y"), None);
    }
}
