//! Server functions for alerting: rules (with the backtest), channels
//! (with Send test), silences, instances, their transitions and the
//! notification history. Each calls one `AlertPort` method.
//!
//! The rule, channel and silence forms arrive as text ([`RuleFields`] and
//! the others in `alert_forms`). Posted without JavaScript they go to the
//! server's plain form routes instead (`/alerts/rules/new`,
//! `/alerts/channels`, `/alerts/silences`), which render the page again
//! with the fields as typed and the outcome: a server function would
//! answer a plain post with a redirect that loses both, and a webhook's
//! generated signing key must travel in neither a URL nor the session.

pub use super::alert_forms::*;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::alert::ChannelView;
use gantry_core::alert::view::{
    BacktestView, CreatedChannel, InstanceView, NotificationView, RuleView, SilenceView,
    TransitionView,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// The page that lists rules and instances.
pub const ALERTS_PAGE: &str = "/alerts";
/// Where the rule forms are, and where they post without JavaScript.
pub const NEW_RULE_PAGE: &str = "/alerts/rules/new";
pub const EDIT_RULE_PAGE: &str = "/alerts/rules/edit";
pub const CHANNELS_PAGE: &str = "/alerts/channels";
pub const SILENCES_PAGE: &str = "/alerts/silences";
pub const NOTIFICATIONS_PAGE: &str = "/alerts/notifications";

/// The edit page of rule `name`.
pub fn rule_href(name: &str) -> String {
    format!("{EDIT_RULE_PAGE}?name={}", crate::pages::runs::encode(name))
}

/// The state history of one instance.
pub fn instance_href(fingerprint: &str) -> String {
    format!("/alerts/instances/{fingerprint}")
}

/// What a rule form posted without JavaScript came to; the server provides
/// it as context while it renders the rule page in answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainRulePost {
    pub fields: RuleFields,
    pub result: Result<RuleOutcome, AppError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RuleOutcome {
    Backtest(BacktestView),
    Saved(Box<RuleView>),
}

/// The same for a channel form: the fields without credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainChannelPost {
    pub fields: ChannelFields,
    pub result: Result<CreatedChannel, AppError>,
}

/// The same for a silence form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainSilencePost {
    pub fields: SilenceFields,
    pub result: Result<SilenceView, AppError>,
}

/// Rules with the time they were read (for "last change … ago").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleList {
    pub rules: Vec<RuleView>,
    pub now: DateTime<Utc>,
}

#[server(prefix = "/ui", endpoint = "alert_rules")]
pub async fn list_alert_rules() -> Result<RuleList, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let rules = ssr::answer(plane.list_alert_rules(&ctx).await)?;
    Ok(RuleList {
        rules,
        now: crate::time::now(),
    })
}

#[server(prefix = "/ui", endpoint = "alert_rule")]
pub async fn get_alert_rule(name: String) -> Result<RuleView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.alert_rule(&ctx, &name).await)
}

#[server(prefix = "/ui", endpoint = "create_alert_rule")]
pub async fn create_alert_rule(rule: RuleFields) -> Result<RuleView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let spec = match rule.to_spec() {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.create_alert_rule(&ctx, spec).await)
}

/// Replaces the rule named `rule.original`.
#[server(prefix = "/ui", endpoint = "replace_alert_rule")]
pub async fn replace_alert_rule(rule: RuleFields) -> Result<RuleView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let spec = match rule.to_spec() {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.replace_alert_rule(&ctx, &rule.original, spec).await)
}

#[server(prefix = "/ui", endpoint = "backtest_alert_rule")]
pub async fn backtest_alert_rule(rule: RuleFields) -> Result<BacktestView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let spec = match rule.to_spec() {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(
        plane
            .backtest_alert_rule(&ctx, spec, rule.backtest_days())
            .await,
    )
}

/// Deletes a rule; a plain post goes on to the Alerts page.
#[server(prefix = "/ui", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(name: String) -> Result<(), AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.delete_alert_rule(&ctx, &name).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(ALERTS_PAGE);
    }
    Ok(())
}

#[server(prefix = "/ui", endpoint = "alert_channels")]
pub async fn list_alert_channels() -> Result<Vec<ChannelView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.list_alert_channels(&ctx).await)
}

/// Creates a channel (`channel.original` empty) or replaces the channel
/// of that name. The answer may hold a generated signing key, so it is
/// never cached, and a plain post is refused before anything is made (its
/// route is [`CHANNELS_PAGE`]).
#[server(prefix = "/ui", endpoint = "create_alert_channel")]
pub async fn create_alert_channel(channel: ChannelFields) -> Result<CreatedChannel, AppError> {
    let (plane, ctx) = ssr::port().await?;
    if let Err(e) = plain_post_refused() {
        return ssr::answer(Err(e));
    }
    ssr::no_store();
    let spec = match channel.to_spec() {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.create_alert_channel(&ctx, spec).await)
}

#[server(prefix = "/ui", endpoint = "replace_alert_channel")]
pub async fn replace_alert_channel(channel: ChannelFields) -> Result<CreatedChannel, AppError> {
    let (plane, ctx) = ssr::port().await?;
    if let Err(e) = plain_post_refused() {
        return ssr::answer(Err(e));
    }
    ssr::no_store();
    let spec = match channel.to_spec() {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(
        plane
            .replace_alert_channel(&ctx, &channel.original, spec)
            .await,
    )
}

#[cfg(feature = "ssr")]
fn plain_post_refused() -> Result<(), gantry_core::PortError> {
    if ssr::plain_form_post() {
        return Err(gantry_core::PortError::invalid(
            "form",
            format!("post this form to {CHANNELS_PAGE}, which shows a new signing key"),
        ));
    }
    Ok(())
}

#[server(prefix = "/ui", endpoint = "delete_alert_channel")]
pub async fn delete_alert_channel(name: String) -> Result<(), AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.delete_alert_channel(&ctx, &name).await)?;
    ssr::redirect_back();
    Ok(())
}

/// Queues a test notification; its delivery shows in the history.
#[server(prefix = "/ui", endpoint = "test_alert_channel")]
pub async fn test_alert_channel(name: String) -> Result<NotificationView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let sent = ssr::answer(plane.test_alert_channel(&ctx, &name).await)?;
    ssr::redirect_back();
    Ok(sent)
}

/// Filters as the pages' GET forms send them: empty means any.
#[cfg(feature = "ssr")]
fn filter(
    rule: Option<String>,
    workflow: Option<String>,
    environment: Option<String>,
    state: Option<String>,
) -> gantry_core::alert::view::AlertFilter {
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    gantry_core::alert::view::AlertFilter {
        rule: given(rule),
        workflow: given(workflow),
        environment: given(environment),
        state: given(state),
        limit: None,
    }
}

#[server(prefix = "/ui", endpoint = "alert_instances")]
pub async fn list_alert_instances(
    #[server(default)] rule: Option<String>,
    #[server(default)] workflow: Option<String>,
    #[server(default)] environment: Option<String>,
    #[server(default)] state: Option<String>,
) -> Result<Vec<InstanceView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let filter = filter(rule, workflow, environment, state);
    ssr::answer(plane.list_alert_instances(&ctx, filter).await)
}

#[server(prefix = "/ui", endpoint = "alert_transitions")]
pub async fn list_alert_transitions(
    #[server(default)] rule: Option<String>,
    #[server(default)] workflow: Option<String>,
    #[server(default)] environment: Option<String>,
) -> Result<Vec<TransitionView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let filter = filter(rule, workflow, environment, None);
    ssr::answer(plane.list_alert_transitions(&ctx, filter).await)
}

#[server(prefix = "/ui", endpoint = "alert_notifications")]
pub async fn list_alert_notifications(
    #[server(default)] rule: Option<String>,
    #[server(default)] status: Option<String>,
) -> Result<Vec<NotificationView>, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let filter = filter(rule, None, None, status);
    ssr::answer(plane.list_alert_notifications(&ctx, filter).await)
}

/// Silences with the time they were read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SilenceList {
    pub silences: Vec<SilenceView>,
    pub now: DateTime<Utc>,
}

#[server(prefix = "/ui", endpoint = "silences")]
pub async fn list_silences() -> Result<SilenceList, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let silences = ssr::answer(plane.list_silences(&ctx).await)?;
    Ok(SilenceList {
        silences,
        now: crate::time::now(),
    })
}

#[server(prefix = "/ui", endpoint = "create_silence")]
pub async fn create_silence(silence: SilenceFields) -> Result<SilenceView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let spec = match silence.to_spec(crate::time::now()) {
        Ok(spec) => spec,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.create_silence(&ctx, spec).await)
}

#[server(prefix = "/ui", endpoint = "expire_silence")]
pub async fn expire_silence(id: String) -> Result<SilenceView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let view = ssr::answer(plane.expire_silence(&ctx, &id).await)?;
    ssr::redirect_back();
    Ok(view)
}
