//! The Rate limits page's server functions: the limits in force, and
//! admins' overrides set and deleted (each form works without JavaScript).

use crate::error::AppError;
use gantry_core::ratelimit::{RateLimitOverride, RateLimits};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The Rate limits page.
pub const RATE_LIMITS_PAGE: &str = "/admin/rate-limits";

#[server(prefix = "/ui", endpoint = "rate_limits")]
pub async fn get_rate_limits() -> Result<RateLimits, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.rate_limits(&ctx).await)
}

/// Sets a token's or group's quota in one class (`off`: no limit).
#[server(prefix = "/ui", endpoint = "set_rate_limit_override")]
pub async fn set_rate_limit_override(
    subject_kind: String,
    subject: String,
    class: String,
    quota: String,
    #[server(default)] note: String,
) -> Result<RateLimitOverride, AppError> {
    use gantry_core::PortError;
    use gantry_core::ratelimit::{OverrideAsk, OverrideSubject, RouteClass};
    let (plane, ctx) = ssr::port().await?;
    let Some(subject_kind) = OverrideSubject::parse(&subject_kind) else {
        return ssr::answer(Err(PortError::invalid(
            "subject_kind",
            "choose token or group",
        )));
    };
    let Some(class) = RouteClass::parse(&class) else {
        return ssr::answer(Err(PortError::invalid(
            "class",
            "choose read, trigger, write, sign_in, scim or webhook",
        )));
    };
    let ask = OverrideAsk {
        subject_kind,
        subject,
        class,
        quota,
        note,
    };
    let set = ssr::answer(plane.set_rate_limit_override(&ctx, ask).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(RATE_LIMITS_PAGE);
    }
    Ok(set)
}

#[server(prefix = "/ui", endpoint = "delete_rate_limit_override")]
pub async fn delete_rate_limit_override(id: String) -> Result<RateLimitOverride, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let gone = ssr::answer(plane.delete_rate_limit_override(&ctx, &id).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(RATE_LIMITS_PAGE);
    }
    Ok(gone)
}
