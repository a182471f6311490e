//! Server functions for SLOs: the list (for a workflow's page) and one
//! SLO's status (the SLO page).

use crate::error::AppError;
use gantry_core::slo::view::{SloStatus, SloSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// SLOs in environments the caller may see; only `workflow`'s when given
/// (empty means every workflow's).
#[server(prefix = "/ui", endpoint = "slos")]
pub async fn get_slos(workflow: Option<String>) -> Result<Vec<SloSummary>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let workflow = workflow.filter(|w| !w.is_empty());
    ssr::answer(plane.list_slos(&ctx, workflow.as_deref()).await)
}

#[server(prefix = "/ui", endpoint = "slo")]
pub async fn get_slo(workflow: String, environment: String) -> Result<SloStatus, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.slo_status(&ctx, &workflow, &environment).await)
}
