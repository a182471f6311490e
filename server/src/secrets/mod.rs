//! Secret providers: where a step's `secrets:` references are fetched from
//! at the moment an attempt starts (issue 16). The port is
//! `gantry_core::secret::SecretProvider`; this folder holds its adapters
//! (`vault/`, `env.rs`, `file.rs`), the registry that picks one per
//! reference and environment, and the per-attempt resolution.

pub mod cache;
pub mod env;
pub mod file;
pub mod keeper;
pub mod own;
pub mod registry;
pub mod remote;
pub mod resolve;
pub mod settings;
pub mod vault;

pub use registry::{DEFAULT_FETCH_TIMEOUT, SecretProviders, SharedProvider};
pub use resolve::{AttemptSecrets, resolve};
pub use settings::SecretSettings;
