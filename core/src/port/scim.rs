//! SCIM 2.0 provisioning (`/scim/v2`), one method for every operation.

use super::RequestContext;
use crate::scim::{ScimAnswer, ScimError, ScimRequest};

/// Provisioning by an identity provider.
#[async_trait::async_trait]
pub trait ScimPort: Send + Sync {
    /// One SCIM 2.0 operation (`/scim/v2`), for an identity provider holding
    /// a SCIM token; every other caller is refused. Changes are audited with
    /// the SCIM client as actor; deactivating or deleting a person ends their
    /// sessions within the same request.
    async fn scim(
        &self,
        ctx: &RequestContext,
        request: ScimRequest,
    ) -> Result<ScimAnswer, ScimError>;
}
