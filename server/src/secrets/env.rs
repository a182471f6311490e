//! `env:NAME` references: a variable of the fetching process's own
//! environment, for development and for platforms that inject secrets that
//! way. Only variables with the configured prefix are readable, so a step
//! can never name Gantry's own settings (`GANTRY_DATABASE_URL`, …).

use async_trait::async_trait;
use gantry_core::secret::{
    FetchError, FetchRequest, Fetched, ProviderHealth, SecretProvider, SecretValue,
};

pub struct EnvProvider {
    prefix: String,
}

impl EnvProvider {
    /// Reads only variables whose names start with `prefix` (not empty,
    /// never `GANTRY_`: checked by the settings).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }
}

#[async_trait]
impl SecretProvider for EnvProvider {
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
        let name = request.path;
        if !name.starts_with(&self.prefix) {
            return Err(FetchError::Denied(format!(
                "env:{name} is outside the readable variables (names starting with {})",
                self.prefix
            )));
        }
        let raw = std::env::var_os(name)
            .ok_or_else(|| FetchError::NotFound(format!("env:{name} is not set")))?;
        let text = raw
            .into_string()
            .map_err(|_| FetchError::Unusable(format!("env:{name} is not UTF-8 text")))?;
        let value =
            SecretValue::new(text).map_err(|e| FetchError::Unusable(format!("env:{name}: {e}")))?;
        Ok(Fetched {
            value,
            version: None,
            lease: None,
            also: Vec::new(),
        })
    }

    async fn health(&self) -> ProviderHealth {
        ProviderHealth {
            reachable: true,
            authenticated: true,
            error: None,
        }
    }
}
