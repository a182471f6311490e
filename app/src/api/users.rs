//! Server functions for the Users page: the account list (admins and
//! auditors) and disabling or enabling an account (admin everywhere). The
//! port decides both.

use crate::error::AppError;
use gantry_core::PortError;
use gantry_core::user::{UserQuery, UserSource, UserSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The Users page, where its forms return to without JavaScript.
pub const USERS_PAGE: &str = "/admin/users";

/// The accounts the search form asks for, with their roles and what
/// granted each. The fields arrive as text (empty: any), so a bad value is
/// named rather than a decode failure.
#[server(prefix = "/ui", endpoint = "users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] source: String,
    #[server(default)] state: String,
) -> Result<Vec<UserSummary>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let query = match user_query(&q, &source, &state) {
        Ok(query) => query,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.list_users(&ctx, query).await)
}

/// The search form's fields as a query; empty fields mean "any".
pub fn user_query(q: &str, source: &str, state: &str) -> Result<UserQuery, PortError> {
    let source = match source.trim() {
        "" => None,
        s => Some(UserSource::parse(s).ok_or_else(|| {
            PortError::invalid("source", format!("{s:?} is not dev, oidc or scim"))
        })?),
    };
    let disabled = match state.trim() {
        "" => None,
        "active" => Some(false),
        "disabled" => Some(true),
        other => {
            return Err(PortError::invalid(
                "state",
                format!("{other:?} is neither active nor disabled"),
            ));
        }
    };
    let q = q.trim();
    Ok(UserQuery {
        q: (!q.is_empty()).then(|| q.to_owned()),
        source,
        disabled,
    })
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

/// Erases a departed person (admin everywhere, a recent sign-in, a disabled
/// account). `confirm` must repeat the account's username: the form's guard
/// against erasing the wrong row, which can't be undone.
#[server(prefix = "/ui", endpoint = "erase_user")]
pub async fn erase_user(
    id: String,
    #[server(default)] confirm: String,
) -> Result<gantry_core::privacy::ErasureReport, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let user = ssr::answer(plane.user(&ctx, &id).await)?;
    if confirm.trim() != user.username {
        return ssr::answer(Err(PortError::invalid(
            "confirm",
            format!(
                "type the account's username, {}, to confirm the erasure",
                user.username
            ),
        )));
    }
    let report = ssr::answer(plane.erase_user(&ctx, &id).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(USERS_PAGE);
    }
    Ok(report)
}
