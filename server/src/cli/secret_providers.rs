//! The secret providers' flags, shared by `serve` and `worker` (flattened
//! into `cli::WorkerFlags`: a remote worker may resolve references with its
//! own Vault role). `cli/settings/secrets.rs` checks them into
//! `secrets::SecretSettings`. Documented in docs/secrets.md.

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct SecretProviderFlags {
    /// OpenBao/Vault address for `vault:` references, e.g. https://vault.example.com:8200
    /// (http only to loopback).
    #[arg(long, env = "GANTRY_VAULT_ADDR", value_name = "URL")]
    pub vault_addr: Option<String>,

    /// File holding the Vault token Gantry uses (re-read when a login is needed, so an agent may
    /// rotate it).
    #[arg(long, env = "GANTRY_VAULT_TOKEN_FILE", value_name = "FILE")]
    pub vault_token_file: Option<PathBuf>,

    /// AppRole role id (with --vault-secret-id-file) instead of a token file.
    #[arg(long, env = "GANTRY_VAULT_ROLE_ID", value_name = "ID")]
    pub vault_role_id: Option<String>,

    /// File holding the AppRole secret id.
    #[arg(long, env = "GANTRY_VAULT_SECRET_ID_FILE", value_name = "FILE")]
    pub vault_secret_id_file: Option<PathBuf>,

    /// Where AppRole is mounted.
    #[arg(
        long,
        env = "GANTRY_VAULT_APPROLE_MOUNT",
        value_name = "NAME",
        default_value = "approle"
    )]
    pub vault_approle_mount: String,

    /// Vault/OpenBao namespace for every request.
    #[arg(long, env = "GANTRY_VAULT_NAMESPACE", value_name = "NAMESPACE")]
    pub vault_namespace: Option<String>,

    /// PEM file of the CA certificates Vault's certificate chains to.
    #[arg(long, env = "GANTRY_VAULT_CA_CERT", value_name = "FILE")]
    pub vault_ca_cert: Option<PathBuf>,

    /// Longest wait for one Vault request.
    #[arg(long, env = "GANTRY_VAULT_TIMEOUT", value_name = "DURATION", default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub vault_timeout: Duration,

    /// Another Vault, mount or login for one environment, e.g.
    /// `prod:addr=https://vault-prod:8200,token_file=/etc/gantry/prod-token,mount=kv-prod`
    /// (keys: addr, token_file, role_id, secret_id_file, approle_mount, namespace, ca_cert,
    /// mount; the rest comes from the --vault-* flags). Repeatable.
    #[arg(
        long,
        env = "GANTRY_VAULT_ENV_OVERRIDE",
        value_name = "ENV:KEY=VALUE,…"
    )]
    pub vault_env_override: Vec<String>,

    /// Longest one secret fetch may take, whatever the provider (the step's own timeout may cut
    /// it shorter); a fetch that takes longer fails the attempt, and the step's retries apply.
    #[arg(long, env = "GANTRY_SECRETS_FETCH_TIMEOUT", value_name = "DURATION", default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub secrets_fetch_timeout: Duration,

    /// Cache a provider's values for a while, e.g. `vault=30s` (off by default: every attempt
    /// fetches afresh, so a rotation is picked up at once). Cached values live in memory for the
    /// TTL; `gantry secrets invalidate` drops them. Not for `vault-db` (each attempt needs its own
    /// lease).
    #[arg(
        long,
        env = "GANTRY_SECRETS_CACHE_TTL",
        value_name = "PROVIDER=DURATION,…",
        value_delimiter = ','
    )]
    pub secrets_cache_ttl: Vec<String>,

    /// Enables `env:NAME` references for variables whose names start with this prefix (for
    /// development, or platforms that inject secrets as variables); e.g. APP_SECRET_.
    #[arg(long, env = "GANTRY_SECRETS_ENV_PREFIX", value_name = "PREFIX")]
    pub secrets_env_prefix: Option<String>,

    /// Enables `file:/PATH` references for files under this directory (for development, or
    /// platforms that mount secrets as files).
    #[arg(long, env = "GANTRY_SECRETS_FILE_ROOT", value_name = "DIR")]
    pub secrets_file_root: Option<PathBuf>,
}
