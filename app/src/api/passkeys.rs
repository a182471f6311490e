//! Server functions for break-glass passkeys: the Users page's list,
//! registration (two halves around the browser's authenticator) and
//! revocation, and the first half of the `/break-glass` sign-in (its
//! second half is the form route `/auth/break-glass`, which starts the
//! session). The port decides all of them.

use crate::error::AppError;
use gantry_core::break_glass::{PasskeyCeremony, PasskeyView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server(prefix = "/ui", endpoint = "passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeyView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.passkeys(&ctx).await)
}

/// The options for `navigator.credentials.create`.
#[server(prefix = "/ui", endpoint = "start_passkey_registration")]
pub async fn begin_passkey_registration() -> Result<PasskeyCeremony, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.start_passkey_registration(&ctx).await)
}

/// `credential`: the browser's answer as JSON text.
#[server(prefix = "/ui", endpoint = "finish_passkey_registration")]
pub async fn complete_passkey_registration(
    ceremony: String,
    name: String,
    credential: String,
) -> Result<PasskeyView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let credential = match serde_json::from_str(&credential) {
        Ok(c) => c,
        Err(e) => {
            return ssr::answer(Err(gantry_core::PortError::invalid(
                "credential",
                format!("the authenticator's answer is not JSON: {e}"),
            )));
        }
    };
    ssr::answer(
        plane
            .finish_passkey_registration(&ctx, &ceremony, &name, credential)
            .await,
    )
}

#[server(prefix = "/ui", endpoint = "revoke_passkey")]
pub async fn revoke_passkey(id: String) -> Result<PasskeyView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let revoked = ssr::answer(plane.revoke_passkey(&ctx, &id).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(super::USERS_PAGE);
    }
    Ok(revoked)
}

/// The options for `navigator.credentials.get`: anyone may ask (the
/// passkey is the credential).
#[server(prefix = "/ui", endpoint = "start_break_glass")]
pub async fn begin_break_glass(username: String) -> Result<PasskeyCeremony, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.start_break_glass(&ctx, &username).await)
}
