//! How to reach and authenticate to one OpenBao/Vault server. Built from the
//! `--vault-*` flags (and `[vault]` in `gantry.toml`) by `cli/settings`;
//! plain data, so this folder never sees clap.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSettings {
    /// `https://vault.example.com:8200` (http only on loopback).
    pub addr: String,
    pub auth: VaultAuth,
    /// Enterprise/OpenBao namespace sent with every request.
    pub namespace: Option<String>,
    /// A PEM file of CA certificates the server's certificate chains to.
    pub ca_cert: Option<PathBuf>,
    /// Longest wait for one request, connection included.
    pub timeout: Duration,
    /// Replaces the first segment (the mount) of every reference's path:
    /// one spec's `vault:kv/data/{env}/db#password` reads `kv-prod/…` in an
    /// environment whose override says `mount=kv-prod`.
    pub mount: Option<String>,
}

/// How Gantry logs in. Secrets are read from files (never flags), at start
/// and again whenever the token stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultAuth {
    /// A token in a file (`--vault-token-file`), re-read on each login so an
    /// agent may rewrite it.
    TokenFile(PathBuf),
    /// AppRole (`--vault-role-id` + `--vault-secret-id-file`): logs in, and
    /// logs in again when the token expires or is revoked.
    AppRole {
        role_id: String,
        secret_id_file: PathBuf,
        /// The auth mount, `approle` unless told.
        mount: String,
    },
}
