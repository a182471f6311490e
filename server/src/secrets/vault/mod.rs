//! The OpenBao/Vault provider (`vault:` KV v2 references) through `vaultrs`.
//!
//! `client` checks the settings and holds the connection, `session` the
//! token and how to get a new one, `kv` reads an entry, `path` says which,
//! `failure` sorts what went wrong, and `provider` puts them behind the
//! `SecretProvider` port.

mod client;
mod failure;
mod kv;
mod path;
mod provider;
mod session;
mod settings;

pub use provider::VaultProvider;
pub use settings::{VaultAuth, VaultSettings};
