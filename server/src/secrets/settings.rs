//! Which providers to build, as checked settings (from the flags by
//! `cli/settings/secrets.rs`), and building them.

use super::env::EnvProvider;
use super::file::FileProvider;
use super::registry::SecretProviders;
use super::vault::VaultSettings;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSettings {
    /// `vault:` references in every environment without an override.
    pub vault: Option<VaultSettings>,
    /// `vault:` references of one environment, answered elsewhere.
    pub vault_overrides: Vec<(String, VaultSettings)>,
    /// `env:` references, for variables with this prefix.
    pub env_prefix: Option<String>,
    /// `file:` references, for files under this directory.
    pub file_root: Option<PathBuf>,
    pub fetch_timeout: Duration,
    /// Providers whose values are cached, and for how long.
    pub cache_ttls: Vec<(String, Duration)>,
}

impl Default for SecretSettings {
    fn default() -> Self {
        Self {
            vault: None,
            vault_overrides: Vec::new(),
            env_prefix: None,
            file_root: None,
            fetch_timeout: super::DEFAULT_FETCH_TIMEOUT,
            cache_ttls: Vec::new(),
        }
    }
}

impl SecretSettings {
    /// The providers these settings describe. Nothing is contacted: a
    /// provider that is down makes fetches fail (clearly), not the start.
    pub async fn build(&self) -> Result<SecretProviders, String> {
        let mut providers = SecretProviders::default().with_fetch_timeout(self.fetch_timeout);
        if let Some(prefix) = &self.env_prefix {
            providers.insert("env", Arc::new(EnvProvider::new(prefix.clone())));
        }
        if let Some(root) = &self.file_root {
            let file = FileProvider::new(root)
                .map_err(|e| format!("--secrets-file-root (GANTRY_SECRETS_FILE_ROOT): {e}"))?;
            providers.insert("file", Arc::new(file));
        }
        if let Some(vault) = &self.vault {
            providers.insert("vault", super::vault::provider(vault.clone()).await?);
            providers.insert(
                "vault-db",
                super::vault::dynamic_provider(vault.clone()).await?,
            );
        }
        for (environment, vault) in &self.vault_overrides {
            let named = |e: String| format!("--vault-env-override {environment}: {e}");
            let kv = super::vault::provider(vault.clone()).await.map_err(named)?;
            providers.insert_for(environment, "vault", kv);
            let db = super::vault::dynamic_provider(vault.clone())
                .await
                .map_err(named)?;
            providers.insert_for(environment, "vault-db", db);
        }
        for (name, ttl) in &self.cache_ttls {
            providers.cache(name, *ttl);
        }
        Ok(providers)
    }

    /// Files a step must never read: the credentials these settings name
    /// and the file provider's directory.
    pub fn protected_paths(&self) -> Vec<PathBuf> {
        let vaults = self
            .vault
            .iter()
            .chain(self.vault_overrides.iter().map(|(_, v)| v));
        let mut paths: Vec<PathBuf> = vaults
            .map(|v| match &v.auth {
                super::vault::VaultAuth::TokenFile(p) => p.clone(),
                super::vault::VaultAuth::AppRole { secret_id_file, .. } => secret_id_file.clone(),
            })
            .collect();
        paths.extend(self.file_root.clone());
        paths
    }
}
