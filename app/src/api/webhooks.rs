//! The Webhooks page's data and forms. Reading is a server function; every
//! change is a plain form posted to the server's `POST /admin/webhooks`
//! route (with or without JavaScript), because creating and rotating answer
//! a secret shown once, which may travel neither in a redirect's URL nor
//! in a cookie: the server calls the port and renders this page around a
//! [`PlainWebhookForm`].

use crate::error::AppError;
use gantry_core::webhook::{CreatedWebhook, SignatureMode, WebhookAsk, WebhookDetail};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use super::ssr;

/// The Webhooks page, and where its forms post.
pub const WEBHOOKS_PAGE: &str = "/admin/webhooks";

/// What a form on the Webhooks page did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WebhookChange {
    Created(CreatedWebhook),
    Rotated(CreatedWebhook),
    Retired(String),
    Deleted(String),
}

/// The outcome of a form posted to the Webhooks page, provided as context
/// while the server renders the page in answer to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainWebhookForm {
    /// What a create form asked for, to fill the form again after a refusal.
    pub ask: Option<WebhookAsk>,
    pub result: Result<WebhookChange, AppError>,
}

/// A hook from the create form's fields: `inputs` holds one
/// `input = /pointer` a line, `events` a comma-separated list. Empty fields
/// stay empty, so the port names what is missing.
pub fn webhook_ask_from_form(pairs: &[(String, String)]) -> WebhookAsk {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
            .trim()
    };
    let inputs: BTreeMap<String, String> = field("inputs")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some((input, pointer)) => (input.trim().to_owned(), pointer.trim().to_owned()),
            // No `=`: the port names the line as a pointer to fix.
            None => (line.to_owned(), line.to_owned()),
        })
        .collect();
    WebhookAsk {
        name: field("name").to_owned(),
        environment: field("environment").to_owned(),
        workflow: field("workflow").to_owned(),
        mode: SignatureMode::parse(field("mode")).unwrap_or_default(),
        inputs,
        events: field("events")
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Every hook the caller administers, each with its recent deliveries.
#[server(prefix = "/ui", endpoint = "webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookDetail>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let hooks = ssr::answer(plane.webhooks(&ctx).await)?;
    let mut details = Vec::with_capacity(hooks.len());
    for hook in hooks {
        details.push(ssr::answer(plane.webhook(&ctx, &hook.name).await)?);
    }
    Ok(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_a_hook() {
        let pairs: Vec<(String, String)> = [
            ("name", " gh "),
            ("environment", "dev"),
            ("workflow", "deploy"),
            ("mode", "github"),
            ("inputs", "git_ref = /ref\n\n sha=/head_commit/id \nbare"),
            ("events", "push, release,,"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let ask = webhook_ask_from_form(&pairs);
        assert_eq!(ask.name, "gh");
        assert_eq!(ask.mode, SignatureMode::Github);
        assert_eq!(ask.inputs["git_ref"], "/ref");
        assert_eq!(ask.inputs["sha"], "/head_commit/id");
        assert_eq!(ask.inputs["bare"], "bare");
        assert_eq!(ask.events, ["push", "release"]);
        assert_eq!(webhook_ask_from_form(&[]), WebhookAsk::default());
    }
}
