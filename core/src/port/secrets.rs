//! What people see of secrets: which references a run's attempts fetched
//! and how that went, which providers answer where, and each provider's
//! health. Never a value: the types carry references and outcomes only.

use super::RequestContext;
use crate::error::PortError;
use crate::secret::{
    AttemptSecretAccess, SecretCoverage, SecretInvalidated, SecretInvalidation,
    SecretProviderStatus,
};

/// Reading the secrets side of runs and of the server's configuration.
#[async_trait::async_trait]
pub trait SecretPort: Send + Sync {
    /// The fetches of a run's attempts, oldest first, read from their
    /// `secret.fetch` audit records. Whoever may view the run sees them,
    /// resolved paths included: the spec that names those paths is shown
    /// to the same people, and no value is ever recorded.
    async fn run_secret_accesses(
        &self,
        ctx: &RequestContext,
        run_id: &str,
    ) -> Result<Vec<AttemptSecretAccess>, PortError>;

    /// Which provider answers which name in every environment (the
    /// workflow page's "resolves where"). Anyone who may see workflows:
    /// provider names say nothing a spec doesn't.
    async fn secret_coverage(&self, ctx: &RequestContext) -> Result<SecretCoverage, PortError>;

    /// Every configured provider with its health, checked now (each check
    /// bounded to a few seconds, all at once), and its recent fetches. The
    /// Admin area's readers (admins, auditors); a refusal is audited.
    async fn secret_providers(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<SecretProviderStatus>, PortError>;

    /// Drops values this server's providers cached (`--secrets-cache-ttl`),
    /// so the next attempts fetch afresh. Admin in every environment;
    /// audited as `secret.invalidate`. Remote workers' own caches are
    /// theirs (they expire by their TTL).
    async fn invalidate_secrets(
        &self,
        ctx: &RequestContext,
        request: SecretInvalidation,
    ) -> Result<SecretInvalidated, PortError>;
}
