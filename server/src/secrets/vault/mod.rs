//! The OpenBao/Vault provider (`vault:` KV v2 references) through `vaultrs`.
//!
//! `client` checks the settings and holds the connection, `session` the
//! token and how to get a new one, `kv` reads an entry, `path` says which,
//! `failure` sorts what went wrong, and `provider` puts them behind the
//! `SecretProvider` port.

mod client;
mod dynamic;
mod failure;
mod kv;
mod path;
mod provider;
mod session;
mod settings;

pub use provider::VaultProvider;
pub use settings::{VaultAuth, VaultSettings};

use super::registry::SharedProvider;

/// The provider of `vault:` (KV v2) references for `settings`; nothing is
/// sent until the first fetch.
pub async fn provider(settings: VaultSettings) -> Result<SharedProvider, String> {
    Ok(std::sync::Arc::new(VaultProvider::connect(settings).await?))
}

/// The provider of `vault-db:` (dynamic database credentials) references,
/// on the same server and login.
pub async fn dynamic_provider(settings: VaultSettings) -> Result<SharedProvider, String> {
    Ok(std::sync::Arc::new(
        VaultProvider::connect(settings).await?.dynamic(),
    ))
}
