//! Server functions for canaries: one with its evaluations (the promotion
//! request page's canary section), and the manual controls, which post as
//! plain forms and return to the request's page.

use crate::error::AppError;
use gantry_core::canary::{Canary, CanaryDetail};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server(prefix = "/ui", endpoint = "canary")]
pub async fn get_canary(id: String) -> Result<CanaryDetail, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.canary(&ctx, &id).await)
}

/// Pause, resume, promote, abort or clear-hold (`control`), with an
/// optional reason (required to promote or abort).
#[server(prefix = "/ui", endpoint = "control_canary")]
pub async fn control_canary(
    id: String,
    control: String,
    #[server(default)] reason: Option<String>,
) -> Result<Canary, AppError> {
    use gantry_core::PortError;
    use gantry_core::canary::{CanaryAct, CanaryControl};
    let (plane, ctx) = ssr::port().await?;
    let Some(control) = CanaryControl::parse(&control) else {
        return ssr::answer(Err(PortError::invalid(
            "control",
            format!(
                "{control:?} is not a canary control; use pause, resume, promote, abort or clear-hold"
            ),
        )));
    };
    let act = CanaryAct {
        reason: reason.filter(|r| !r.trim().is_empty()),
    };
    let canary = ssr::answer(plane.control_canary(&ctx, &id, control, act).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&super::promotion_href(&canary.request_id));
    }
    Ok(canary)
}
