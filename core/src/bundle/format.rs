//! The bundle file: a JSON object with a format name and version, the
//! payload (what is signed, with the format fields) and the signature.

use crate::audit::canonical_json;
use crate::promotion::ledger::Deployment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `format` field of every bundle.
pub const BUNDLE_FORMAT: &str = "gantry-bundle";

/// The one format version this build writes and reads.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;

/// The only signature algorithm.
pub const SIGNATURE_ALGORITHM: &str = "ed25519";

/// Largest bundle accepted: what the REST API takes in one body (a spec at
/// its limit, quoted in JSON), so a version at the spec limit travels, and
/// hundreds of ordinary ones. Larger histories travel one `--env` at a time.
pub const MAX_BUNDLE_BYTES: usize = crate::spec::MAX_SPEC_BYTES * 2;

/// Most versions one bundle may carry.
pub const MAX_BUNDLE_VERSIONS: usize = 1000;

/// A whole bundle file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub format_version: u32,
    pub payload: BundlePayload,
    pub signature: BundleSignature,
}

/// What the exporting installation vouches for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundlePayload {
    pub workflow: String,
    /// The environment whose active version was exported (`--env`); absent
    /// when every version was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Where it came from: the exporting server's base URL.
    pub exported_from: String,
    pub exported_at: DateTime<Utc>,
    /// By version number, ascending.
    pub versions: Vec<BundledVersion>,
    /// The exporting installation's ledger rows that moved these versions
    /// (activation on apply, promotions, rollbacks), oldest first.
    pub ledger: Vec<Deployment>,
}

/// One version with its source text as it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundledVersion {
    pub version: u32,
    /// SHA-256 of the canonical spec, as workflow versions have it.
    pub content_hash: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// Who signed, and the signature (hex) over [`signing_message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    pub algorithm: String,
    /// The signer's public key in hex (as audit checkpoints name keys).
    pub key_id: String,
    pub value: String,
}

/// The bytes signed: the canonical JSON (core::audit::canonical) of the
/// format name, the format version and the payload exactly as it appears in
/// the file (as a JSON value, so a field the reader doesn't know still
/// counts).
pub fn signing_message(format_version: u32, payload: &Value) -> Vec<u8> {
    canonical_json(&json!({
        "format": BUNDLE_FORMAT,
        "format_version": format_version,
        "payload": payload,
    }))
    .into_bytes()
}

impl Bundle {
    /// A signed bundle from its payload: `sign` turns the message into the
    /// hex signature; `key_id` names the key.
    pub fn sign(
        payload: BundlePayload,
        key_id: String,
        sign: impl FnOnce(&[u8]) -> String,
    ) -> Result<Bundle, serde_json::Error> {
        let value = serde_json::to_value(&payload)?;
        let signature = sign(&signing_message(BUNDLE_FORMAT_VERSION, &value));
        Ok(Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            format_version: BUNDLE_FORMAT_VERSION,
            payload,
            signature: BundleSignature {
                algorithm: SIGNATURE_ALGORITHM.to_owned(),
                key_id,
                value: signature,
            },
        })
    }
}
