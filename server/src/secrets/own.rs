//! Gantry's own secrets (the OIDC client secret, the audit sink's token)
//! given as references (`--oidc-client-secret-ref vault:…`) and read from
//! their provider at start, like a step's but for the server itself.

use super::SecretProviders;
use gantry_core::secret::FetchRequest;
use gantry_core::spec::SecretRef;
use secrecy::SecretString;

/// A reference for one of Gantry's own secrets: the grammar of steps',
/// without placeholders (there is no run to fill them in).
pub fn check(reference: &str) -> Result<SecretRef, String> {
    let parsed = SecretRef::parse(reference)?;
    if !parsed.placeholders().is_empty() {
        return Err(format!(
            "{reference} has a placeholder; Gantry's own secrets name one path"
        ));
    }
    Ok(parsed)
}

/// Reads `reference` from the providers every environment shares. The
/// error names the flag and the reference, never a value.
pub async fn read(
    providers: &SecretProviders,
    flag: &str,
    reference: &SecretRef,
) -> Result<SecretString, String> {
    let provider = providers.get("", reference.provider()).ok_or_else(|| {
        format!(
            "{flag}: no secret provider \"{}\" is configured (docs/secrets.md)",
            reference.provider()
        )
    })?;
    let request = FetchRequest {
        path: reference.path(),
        key: reference.key(),
    };
    let timeout = providers.fetch_timeout();
    match tokio::time::timeout(timeout, provider.fetch(request)).await {
        Ok(Ok(fetched)) => Ok(SecretString::from(fetched.value.expose().to_owned())),
        Ok(Err(e)) => Err(format!("{flag} {reference}: {e}")),
        Err(_) => Err(format!(
            "{flag} {reference}: provider unreachable: no answer after {} s",
            timeout.as_secs()
        )),
    }
}
