//! The Overview's retention facts: the database's size and what the
//! retention settings would purge now (admins and auditors; the port
//! decides).

use crate::error::AppError;
use gantry_core::retention::RetentionStatus;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server(prefix = "/ui", endpoint = "retention")]
pub async fn get_retention() -> Result<RetentionStatus, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.retention(&ctx).await)
}
