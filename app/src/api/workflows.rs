//! Server functions for workflow definitions: list, show, register.

use crate::error::AppError;
use gantry_core::bundle::ImportOutcome;
use gantry_core::workflow::{ApplyOutcome, WorkflowDetail, WorkflowSummary};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The Workflows page; a bundle file uploaded from it (multipart, no
/// JavaScript needed) is posted here, and the server answers with the page
/// rendered around a [`PlainImport`] (`server/src/pages/bundle_form.rs`).
pub const WORKFLOWS_PAGE: &str = "/workflows";

/// What an uploaded bundle came to: the server provides it as context
/// while it renders the Workflows page in answer to the upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainImport {
    /// The uploaded file's name, as the browser sent it.
    pub file_name: Option<String>,
    pub result: Result<ImportOutcome, AppError>,
}

#[cfg(feature = "ssr")]
use super::ssr;

#[server(prefix = "/ui", endpoint = "workflows")]
pub async fn list_workflows() -> Result<Vec<WorkflowSummary>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.list_workflows(&ctx).await)
}

/// Every workflow's name, sorted: a filter's choices (the Runs and Ledger
/// pages), without what a summary reads.
#[server(prefix = "/ui", endpoint = "workflow_names")]
pub async fn list_workflow_names() -> Result<Vec<String>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.workflow_names(&ctx).await)
}

/// A workflow with its versions; `version` picks the spec shown (latest
/// when absent).
#[server(prefix = "/ui", endpoint = "workflow")]
pub async fn get_workflow(name: String, version: Option<u32>) -> Result<WorkflowDetail, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.workflow(&ctx, &name, version).await)
}

/// Registers a spec pasted into the form. On success the browser goes to the
/// workflow's page (a real redirect for plain form posts).
#[server(prefix = "/ui", endpoint = "apply_workflow")]
pub async fn apply_workflow(source: String) -> Result<ApplyOutcome, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let outcome = ssr::answer(plane.apply_workflow(&ctx, &source).await)?;
    ssr::redirect_to(&format!("/workflows/{}", outcome.workflow));
    Ok(outcome)
}
