//! Bundles: a workflow's versions moved from one Gantry installation to
//! another (issue 15, "Moving versions between installations"). The
//! exporting side writes the versions' source text, their content hashes
//! and the ledger rows that brought them where they are, signed with
//! Ed25519 over the canonical JSON of all of it; the receiving side checks
//! every hash and the signature and registers the versions as versions,
//! active nowhere (its own gates then apply). See docs/bundles.md.
//!
//! The pure half lives here: the format (`format.rs`), the bytes that are
//! signed, the structural and hash checks (`check.rs`, server side only: it
//! parses specs) and the refusals (`refusal.rs`). The Ed25519 keys and the
//! signature itself are the server's (`server/src/bundle/`), beside the
//! audit checkpoints' key loading, so `gantry audit keygen` keys work.

#[cfg(feature = "ssr")]
mod check;
mod format;
mod refusal;
mod view;

#[cfg(feature = "ssr")]
pub use check::{UnverifiedBundle, VerifiedBundle, check_bundle};
pub use format::{
    BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, Bundle, BundlePayload, BundleSignature, BundledVersion,
    MAX_BUNDLE_BYTES, MAX_BUNDLE_VERSIONS, SIGNATURE_ALGORITHM, signing_message,
};
pub use refusal::BundleRefusal;
pub use view::{ImportOutcome, ImportedVersion, VersionClash};
