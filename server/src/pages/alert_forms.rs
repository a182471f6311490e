//! The Alerts page's forms posted without JavaScript: `POST
//! /alerts/rules/new` and `/alerts/rules/edit` (save or backtest a rule),
//! `/alerts/channels` (create or change a channel) and `/alerts/silences`.
//!
//! A server function answers a plain post with a redirect back, which
//! would lose what was typed, a backtest's result and a webhook's
//! generated signing key (which may travel in neither a URL nor the
//! session). So these routes read the form with the same functions the
//! server functions use, call the port themselves, and either redirect to
//! the list (saved) or answer with the page rendered around the outcome:
//! the fields as typed (credentials left out) with the problems beside
//! them, the backtest, or the new key shown once. Those answers are never
//! cached.

use super::plain_form::{read, render, status_of};
use crate::state::AppState;
use app::api::{
    ALERTS_PAGE, CHANNELS_PAGE, ChannelFields, PlainChannelPost, PlainRulePost, PlainSilencePost,
    RuleFields, RuleOutcome, SILENCES_PAGE, SilenceFields,
};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use gantry_core::PortError;

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Save (`intent=save`, the default) or backtest (`intent=backtest`) a
/// rule; a form with `original` changes that rule.
pub async fn rule(State(state): State<AppState>, req: Request) -> Response {
    let (parts, pairs, ctx) = match read(req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let fields = RuleFields::from_pairs(&pairs);
    let backtest = field(&pairs, "intent") == "backtest";
    let result: Result<RuleOutcome, AppError> = match fields.to_spec() {
        Err(e) => Err(e.into()),
        Ok(spec) if backtest => state
            .plane
            .backtest_alert_rule(&ctx, spec, fields.backtest_days())
            .await
            .map(RuleOutcome::Backtest)
            .map_err(AppError::from),
        Ok(spec) => {
            let saved = if fields.original.trim().is_empty() {
                state.plane.create_alert_rule(&ctx, spec).await
            } else {
                state
                    .plane
                    .replace_alert_rule(&ctx, &fields.original, spec)
                    .await
            };
            match saved {
                Ok(rule) => {
                    let to = format!("{ALERTS_PAGE}?saved={}", encoded(&rule.spec.name));
                    return Redirect::to(&to).into_response();
                }
                Err(e) => Err(e.into()),
            }
        }
    };
    let status = status_of(&result);
    render(state, parts, PlainRulePost { fields, result }, status).await
}

/// Create a channel, or change the one named by `original`. Saved without
/// a generated key: back to the list; with one: the page showing it once.
pub async fn channel(State(state): State<AppState>, req: Request) -> Response {
    let (parts, pairs, ctx) = match read(req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let fields = ChannelFields::from_pairs(&pairs);
    let result = match fields.to_spec() {
        Err(e) => Err(AppError::from(e)),
        Ok(spec) if fields.original.trim().is_empty() => state
            .plane
            .create_alert_channel(&ctx, spec)
            .await
            .map_err(AppError::from),
        Ok(spec) => state
            .plane
            .replace_alert_channel(&ctx, &fields.original, spec)
            .await
            .map_err(AppError::from),
    };
    if let Ok(created) = &result
        && created.generated_signing_key.is_none()
    {
        return Redirect::to(CHANNELS_PAGE).into_response();
    }
    let status = status_of(&result);
    let outcome = PlainChannelPost {
        fields: fields.without_credentials(),
        result,
    };
    render(state, parts, outcome, status).await
}

pub async fn silence(State(state): State<AppState>, req: Request) -> Response {
    let (parts, pairs, ctx) = match read(req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let fields = SilenceFields::from_pairs(&pairs);
    let result = match fields.to_spec(app::time::now()) {
        Err(e) => Err(e),
        Ok(spec) => state.plane.create_silence(&ctx, spec).await,
    };
    let result: Result<_, AppError> = result.map_err(|e: PortError| e.into());
    if result.is_ok() {
        return Redirect::to(SILENCES_PAGE).into_response();
    }
    let status = status_of(&result);
    render(state, parts, PlainSilencePost { fields, result }, status).await
}
