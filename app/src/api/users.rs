//! Server functions for the Users page: the account list (admins and
//! auditors) and disabling or enabling an account (admin everywhere). The
//! port decides both.

use crate::error::AppError;
use gantry_core::user::UserSummary;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The Users page, where its forms return to without JavaScript.
pub const USERS_PAGE: &str = "/admin/users";

/// Every account with its roles and what granted each.
#[server(prefix = "/ui", endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.list_users(&ctx).await)
}

/// Disables (`disabled` = `true`) or enables (`false`) an account. The
/// field arrives as text so a bad value is named, not a decode failure.
#[server(prefix = "/ui", endpoint = "set_user_access")]
pub async fn set_user_access(id: String, disabled: String) -> Result<UserSummary, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let disabled = match disabled.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return ssr::answer(Err(gantry_core::PortError::invalid(
                "disabled",
                format!("{other:?} is neither true nor false"),
            )));
        }
    };
    let user = ssr::answer(plane.set_user_disabled(&ctx, &id, disabled).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(USERS_PAGE);
    }
    Ok(user)
}
