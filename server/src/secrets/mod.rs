//! Secret providers: where a step's `secrets:` references are fetched from
//! at the moment an attempt starts (issue 16). The port is
//! `gantry_core::secret::SecretProvider`; this folder holds its adapters and
//! the registry that picks one per reference and environment.

pub mod vault;
