//! Server functions for what the dashboard shows of secrets: a run's
//! fetches, which provider answers where, and the providers' health. Each
//! calls one `SecretPort` method; none ever carries a value.

use crate::error::AppError;
use gantry_core::secret::{AttemptSecretAccess, SecretCoverage, SecretProviderStatus};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The secrets a run's attempts fetched, oldest first.
#[server(prefix = "/ui", endpoint = "run_secret_accesses")]
pub async fn get_run_secret_accesses(id: String) -> Result<Vec<AttemptSecretAccess>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.run_secret_accesses(&ctx, &id).await)
}

/// Which provider answers which reference name in every environment.
#[server(prefix = "/ui", endpoint = "secret_coverage")]
pub async fn get_secret_coverage() -> Result<SecretCoverage, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.secret_coverage(&ctx).await)
}

/// Every configured provider with its health, checked now.
#[server(prefix = "/ui", endpoint = "secret_providers")]
pub async fn get_secret_providers() -> Result<Vec<SecretProviderStatus>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.secret_providers(&ctx).await)
}
