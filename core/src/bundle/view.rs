//! What an import answers, and the one conflict the receiving database can
//! raise.

use serde::{Deserialize, Serialize};

/// One version of an imported bundle, as it ended up here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedVersion {
    pub version: u32,
    pub content_hash: String,
    /// False when identical content was already registered here.
    pub created: bool,
    /// The local version number holding this content when it was already
    /// present (may differ from `version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present_as: Option<u32>,
}

/// What `POST /api/v1/bundles` did. The versions are active nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportOutcome {
    pub workflow: String,
    /// The signer's public key in hex (the bundle's `signature.key_id`).
    pub signer_key: String,
    /// The exporting installation's base URL, as the bundle says.
    pub exported_from: String,
    /// The environment the versions were exported from, if one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub versions: Vec<ImportedVersion>,
    /// How many of the exporting installation's ledger rows came along
    /// (kept with each created version's provenance).
    pub ledger_rows: usize,
}

impl ImportOutcome {
    /// One line per version, for humans (CLI, the dashboard's answer).
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{}: bundle from {} signed by key {} verified",
            self.workflow, self.exported_from, self.signer_key
        )];
        for v in &self.versions {
            lines.push(match (v.created, v.present_as) {
                (true, _) => format!(
                    "  version {}: imported, not active anywhere (apply its source to make it \
                     active in the first environment, then promote it through this \
                     installation's gates)",
                    v.version
                ),
                (false, Some(local)) if local != v.version => format!(
                    "  version {}: already present here as version {local} (same content)",
                    v.version
                ),
                (false, _) => format!("  version {}: already present (same content)", v.version),
            });
        }
        lines
    }
}

/// A version number the bundle carries that holds other content here:
/// the import is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionClash {
    pub workflow: String,
    pub version: u32,
    pub here: String,
    pub bundle: String,
}

impl VersionClash {
    pub fn message(&self) -> String {
        format!(
            "version {} of {} already exists here with different content (content hash {} here, \
             {} in the bundle); nothing was imported",
            self.version, self.workflow, self.here, self.bundle
        )
    }
}
