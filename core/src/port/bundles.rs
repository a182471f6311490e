//! Bundles: versions another Gantry installation exported and signed,
//! registered here as versions (active nowhere).

use super::RequestContext;
use crate::bundle::ImportOutcome;
use crate::error::PortError;

#[async_trait::async_trait]
pub trait BundlePort: Send + Sync {
    /// Checks a bundle file's hashes and its signature against the keys this
    /// installation trusts (`--bundle-trusted-key`) and registers its
    /// versions in one transaction, active nowhere; identical content
    /// already here is reported, a version number holding other content
    /// refuses the whole bundle. Needs the right to apply workflows.
    async fn import_bundle(
        &self,
        ctx: &RequestContext,
        text: &str,
    ) -> Result<ImportOutcome, PortError>;
}
