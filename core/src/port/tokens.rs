//! Service tokens: listing, making and revoking them.

use super::RequestContext;
use crate::error::PortError;
use crate::token::{CreatedToken, NewToken, ServiceToken};

/// Service tokens (never their secrets, but once, when made).
#[async_trait::async_trait]
pub trait TokenPort: Send + Sync {
    /// Every service token (never a secret). Admins only.
    async fn list_tokens(&self, ctx: &RequestContext) -> Result<Vec<ServiceToken>, PortError>;

    /// Makes a service token; the answer is the only place its secret
    /// appears. Each role granted must be within the caller's own admin
    /// reach.
    async fn create_token(
        &self,
        ctx: &RequestContext,
        request: NewToken,
    ) -> Result<CreatedToken, PortError>;

    /// Revokes a token (by id or name), effective on its next request.
    async fn revoke_token(
        &self,
        ctx: &RequestContext,
        id_or_name: &str,
    ) -> Result<ServiceToken, PortError>;
}
