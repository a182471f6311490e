//! The OpenBao/Vault provider (`vault:` KV v2 references) through `vaultrs`.

mod settings;

pub use settings::{VaultAuth, VaultSettings};
