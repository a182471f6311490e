//! Reading a bundle file and checking everything but the signature: the
//! JSON is whole, the format is known, every version's source text is a
//! spec of the named workflow whose content hash is the one stated, and the
//! ledger rows are about these versions. The signature comes last, from
//! the server's keys, over [`UnverifiedBundle::signed_message`].

use super::format::{
    BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, Bundle, BundlePayload, BundleSignature, MAX_BUNDLE_BYTES,
    MAX_BUNDLE_VERSIONS, SIGNATURE_ALGORITHM, signing_message,
};
use super::refusal::BundleRefusal;
use crate::spec::{self, SpecRejection, WorkflowSpec};
use serde_json::Value;
use std::collections::BTreeSet;

/// A bundle whose structure and hashes hold, its signature not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedBundle {
    payload: BundlePayload,
    specs: Vec<WorkflowSpec>,
    signature: BundleSignature,
    message: Vec<u8>,
}

/// A bundle whose signature a trusted key verified.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub payload: BundlePayload,
    /// The parsed spec of each of `payload.versions`, in the same order.
    pub specs: Vec<WorkflowSpec>,
    /// The key that signed it (hex public key).
    pub signer_key: String,
}

impl UnverifiedBundle {
    /// The bytes the signature must verify over.
    pub fn signed_message(&self) -> &[u8] {
        &self.message
    }

    pub fn signature(&self) -> &BundleSignature {
        &self.signature
    }

    pub fn payload(&self) -> &BundlePayload {
        &self.payload
    }

    /// Call once the signature verified with a trusted key.
    pub fn verified(self) -> VerifiedBundle {
        VerifiedBundle {
            payload: self.payload,
            specs: self.specs,
            signer_key: self.signature.key_id,
        }
    }
}

fn malformed(path: impl Into<String>, detail: impl ToString) -> BundleRefusal {
    BundleRefusal::Malformed {
        path: path.into(),
        detail: detail.to_string(),
    }
}

fn describe_value(v: Option<&Value>) -> String {
    match v {
        None => "none".to_owned(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 40 {
                format!("{}…", text.chars().take(40).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// Reads `text` as a bundle and checks it (all but the signature).
pub fn check_bundle(text: &str) -> Result<UnverifiedBundle, BundleRefusal> {
    if text.len() > MAX_BUNDLE_BYTES {
        return Err(BundleRefusal::TooLarge {
            bytes: text.len(),
            limit: MAX_BUNDLE_BYTES,
        });
    }
    let document: Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            BundleRefusal::Truncated {
                line: e.line(),
                column: e.column(),
            }
        } else {
            BundleRefusal::NotJson {
                detail: e.to_string(),
            }
        }
    })?;
    let Value::Object(top) = &document else {
        return Err(BundleRefusal::NotABundle {
            found: format!("a JSON {}", kind(&document)),
        });
    };
    if top.get("format").and_then(Value::as_str) != Some(BUNDLE_FORMAT) {
        return Err(BundleRefusal::NotABundle {
            found: describe_value(top.get("format")),
        });
    }
    let format_version = top.get("format_version");
    if format_version.and_then(Value::as_u64) != Some(u64::from(BUNDLE_FORMAT_VERSION)) {
        return Err(BundleRefusal::UnsupportedFormatVersion {
            found: describe_value(format_version),
            supported: BUNDLE_FORMAT_VERSION,
        });
    }
    let payload_value = top
        .get("payload")
        .ok_or_else(|| malformed("payload", "missing"))?;
    let bundle: Bundle = serde_json::from_value(document.clone()).map_err(|e| {
        // serde_json's message names the field; the path is the document.
        malformed("the document", e)
    })?;
    let message = signing_message(bundle.format_version, payload_value);
    let specs = check_payload(&bundle.payload)?;
    if bundle.signature.algorithm != SIGNATURE_ALGORITHM {
        return Err(BundleRefusal::UnsupportedAlgorithm {
            found: bundle.signature.algorithm,
        });
    }
    Ok(UnverifiedBundle {
        payload: bundle.payload,
        specs,
        signature: bundle.signature,
        message,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every version's hash against its source text, names, and the ledger.
fn check_payload(payload: &BundlePayload) -> Result<Vec<WorkflowSpec>, BundleRefusal> {
    let workflow = &payload.workflow;
    if payload.versions.is_empty() {
        return Err(BundleRefusal::NoVersions);
    }
    if payload.versions.len() > MAX_BUNDLE_VERSIONS {
        return Err(BundleRefusal::TooManyVersions {
            count: payload.versions.len(),
            limit: MAX_BUNDLE_VERSIONS,
        });
    }
    let mut seen = BTreeSet::new();
    let mut specs = Vec::with_capacity(payload.versions.len());
    for v in &payload.versions {
        if !seen.insert(v.version) {
            return Err(BundleRefusal::DuplicateVersion {
                workflow: workflow.clone(),
                version: v.version,
            });
        }
        let spec = spec::parse(&v.source).map_err(|r| BundleRefusal::InvalidSource {
            workflow: workflow.clone(),
            version: v.version,
            detail: match r {
                SpecRejection::TooLarge { bytes, limit } => {
                    format!("its source is {bytes} bytes; the limit is {limit}")
                }
                SpecRejection::Invalid { problems } => problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        })?;
        if &spec.name != workflow {
            return Err(BundleRefusal::WorkflowNameMismatch {
                version: v.version,
                found: spec.name,
                expected: workflow.clone(),
            });
        }
        let computed = spec.content_hash();
        if computed != v.content_hash {
            return Err(BundleRefusal::HashMismatch {
                workflow: workflow.clone(),
                version: v.version,
                stated: v.content_hash.clone(),
                computed,
            });
        }
        specs.push(spec);
    }
    for (i, row) in payload.ledger.iter().enumerate() {
        if &row.workflow != workflow {
            return Err(BundleRefusal::LedgerWorkflowMismatch {
                row: i,
                found: row.workflow.clone(),
                expected: workflow.clone(),
            });
        }
        if !seen.contains(&row.to_version) {
            return Err(BundleRefusal::LedgerVersionMissing {
                row: i,
                workflow: workflow.clone(),
                version: row.to_version,
            });
        }
    }
    Ok(specs)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
