//! `POST /admin/webhooks`: every form of the Webhooks page (create, rotate,
//! retire the previous secret, delete), posted as a plain form with or
//! without JavaScript. Creating and rotating answer a secret shown once,
//! which may travel neither in a redirect's URL nor in a cookie, so this
//! route calls the port itself and answers with the page rendered around
//! the outcome, never cached.

use super::plain_form::{read, render, status_of};
use crate::state::AppState;
use app::api::{PlainWebhookForm, WebhookChange, webhook_ask_from_form};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::response::Response;
use gantry_core::PortError;

pub async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let (parts, pairs, ctx) = match read(req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.trim().to_owned())
    };
    let plane = &state.plane;
    let hook = field("hook");
    let mut ask = None;
    let result = match field("op").as_str() {
        "create" => {
            let asked = webhook_ask_from_form(&pairs);
            ask = Some(asked.clone());
            plane
                .create_webhook(&ctx, asked)
                .await
                .map(WebhookChange::Created)
        }
        "rotate" => plane
            .rotate_webhook_secret(&ctx, &hook)
            .await
            .map(WebhookChange::Rotated),
        "retire" => plane
            .retire_previous_webhook_secret(&ctx, &hook)
            .await
            .map(|h| WebhookChange::Retired(h.name)),
        "delete" => plane
            .delete_webhook(&ctx, &hook)
            .await
            .map(|()| WebhookChange::Deleted(hook.clone())),
        _ => Err(PortError::invalid("op", "create, rotate, retire or delete")),
    }
    .map_err(AppError::from);
    let status = status_of(&result);
    render(state, parts, PlainWebhookForm { ask, result }, status).await
}
