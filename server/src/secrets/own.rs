//! Gantry's own secrets (the OIDC client secret, the audit sink's token)
//! given as references (`--oidc-client-secret-ref vault:…`) and read from
//! their provider at start and again on SIGHUP, like a step's but for the
//! server itself. Each lives in a [`Rotating`] cell its user reads at every
//! use, so a reload reaches it without a restart.

use super::SecretProviders;
use gantry_core::secret::FetchRequest;
use gantry_core::spec::SecretRef;
use secrecy::SecretString;
use std::sync::{Arc, PoisonError, RwLock};

/// A secret that a reload may replace; cheap to clone (one shared cell).
#[derive(Clone)]
pub struct Rotating(Arc<RwLock<SecretString>>);

impl Rotating {
    pub fn new(secret: SecretString) -> Self {
        Self(Arc::new(RwLock::new(secret)))
    }

    /// The value now (read it at each use, not once).
    pub fn current(&self) -> SecretString {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn replace(&self, secret: SecretString) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = secret;
    }
}

impl std::fmt::Debug for Rotating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rotating(<redacted>)")
    }
}

/// Gantry's own secrets given as references, to read again on SIGHUP.
#[derive(Clone, Default)]
pub struct OwnSecrets {
    entries: Vec<(&'static str, SecretRef, Rotating)>,
}

impl OwnSecrets {
    pub fn add(&mut self, flag: &'static str, reference: SecretRef, cell: Rotating) {
        self.entries.push((flag, reference, cell));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads every reference again; replaces the values only when all were
    /// read (a half-done reload would mix old and new). Returns how many
    /// changed.
    pub async fn reload(&self, providers: &SecretProviders) -> Result<usize, String> {
        let mut fresh = Vec::with_capacity(self.entries.len());
        for (flag, reference, _) in &self.entries {
            fresh.push(read(providers, flag, reference).await?);
        }
        let mut changed = 0;
        for ((_, _, cell), value) in self.entries.iter().zip(fresh) {
            use secrecy::ExposeSecret;
            if cell.current().expose_secret() != value.expose_secret() {
                changed += 1;
            }
            cell.replace(value);
        }
        Ok(changed)
    }
}

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
