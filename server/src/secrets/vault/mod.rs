//! The OpenBao/Vault provider (`vault:` KV v2 references) through `vaultrs`.

mod settings;

pub use settings::{VaultAuth, VaultSettings};

use super::registry::SharedProvider;

/// The provider for `settings` (wired to the adapter once it lands).
pub async fn provider(settings: VaultSettings) -> Result<SharedProvider, String> {
    Err(format!(
        "the Vault provider for {} is not built into this version yet",
        settings.addr
    ))
}
