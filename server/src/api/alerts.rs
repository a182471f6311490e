//! `/api/v1/alerts…`: alert rules (with a backtest before saving),
//! notification channels, silences and mute windows, and reading what
//! fired (instances, their history) and what was sent (notifications).
//! Thin: every handler calls one `AlertPort` method.

use super::error::{ApiResult, ErrorEnvelope};
use super::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gantry_core::alert::view::{
    AlertFilter, BacktestView, CreatedChannel, DeliveryStatus, InstanceView, NotificationView,
    RuleView, SilenceSpec, SilenceView, TransitionView,
};
use gantry_core::alert::{ChannelSpec, ChannelView, RuleSpec};
use gantry_core::port::{RequestContext, SharedControlPlane};
use serde::Deserialize;

/// Every rule with how many of its instances fire or wait.
#[utoipa::path(get, path = "/api/v1/alerts/rules", operation_id = "list_alert_rules", tag = "alerts",
    responses(
        (status = 200, description = "Rules by name.", body = Vec<RuleView>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_rules(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<RuleView>>> {
    Ok(Json(plane.list_alert_rules(&ctx).await?))
}

/// Creates a rule (operator or admin where it applies; a rule for every
/// environment needs that role in every one).
#[utoipa::path(post, path = "/api/v1/alerts/rules", operation_id = "create_alert_rule", tag = "alerts",
    request_body = RuleSpec,
    responses(
        (status = 201, description = "Created.", body = RuleView),
        (status = 400, description = "An unknown environment, or a malformed body.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No operator or admin role where the rule applies.", body = ErrorEnvelope),
        (status = 409, description = "A rule with that name exists.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields (each named: threshold, ratio, channels[0], …) or a field missing.", body = ErrorEnvelope),
    ))]
pub async fn create_rule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    Ok((
        StatusCode::CREATED,
        Json(plane.create_alert_rule(&ctx, spec).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/alerts/rules/{name}", operation_id = "get_alert_rule", tag = "alerts",
    params(("name" = String, Path, description = "The rule's name.")),
    responses(
        (status = 200, description = "The rule.", body = RuleView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
        (status = 404, description = "No such rule.", body = ErrorEnvelope),
    ))]
pub async fn get_rule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<Json<RuleView>> {
    Ok(Json(plane.alert_rule(&ctx, &name).await?))
}

/// Replaces a rule; its instances start over if what it watches changed.
#[utoipa::path(put, path = "/api/v1/alerts/rules/{name}", operation_id = "replace_alert_rule", tag = "alerts",
    params(("name" = String, Path, description = "The rule's current name.")),
    request_body = RuleSpec,
    responses(
        (status = 200, description = "Replaced.", body = RuleView),
        (status = 400, description = "An unknown environment, or a malformed body.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No operator or admin role where the rule applied or will apply.", body = ErrorEnvelope),
        (status = 404, description = "No such rule.", body = ErrorEnvelope),
        (status = 409, description = "The new name is taken, or the rule comes from a workflow's spec.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, each named.", body = ErrorEnvelope),
    ))]
pub async fn replace_rule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<Json<RuleView>> {
    Ok(Json(plane.replace_alert_rule(&ctx, &name, spec).await?))
}

#[utoipa::path(delete, path = "/api/v1/alerts/rules/{name}", operation_id = "delete_alert_rule", tag = "alerts",
    params(("name" = String, Path, description = "The rule's name.")),
    responses(
        (status = 204, description = "Deleted, with its instances (their history stays)."),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No operator or admin role where the rule applies.", body = ErrorEnvelope),
        (status = 404, description = "No such rule.", body = ErrorEnvelope),
        (status = 409, description = "The rule comes from a workflow's spec.", body = ErrorEnvelope),
    ))]
pub async fn delete_rule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    plane.delete_alert_rule(&ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BacktestQuery {
    /// How far back to replay (1 to 90 days; default 7).
    #[serde(default)]
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// Replays a rule over real runs before saving it: how often it would
/// have fired and resolved, and when.
#[utoipa::path(post, path = "/api/v1/alerts/rules/backtest", operation_id = "backtest_alert_rule", tag = "alerts",
    params(BacktestQuery),
    request_body = RuleSpec,
    responses(
        (status = 200, description = "What the rule would have done, per workflow and environment.", body = BacktestView),
        (status = 400, description = "Days out of range, an unknown environment, or a malformed body.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, each named.", body = ErrorEnvelope),
    ))]
pub async fn backtest_rule(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(q): ApiQuery<BacktestQuery>,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<Json<BacktestView>> {
    Ok(Json(
        plane
            .backtest_alert_rule(&ctx, spec, q.days.unwrap_or(7))
            .await?,
    ))
}

/// Channels, never with their credentials.
#[utoipa::path(get, path = "/api/v1/alerts/channels", operation_id = "list_alert_channels", tag = "alerts",
    responses(
        (status = 200, description = "Channels by name.", body = Vec<ChannelView>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_channels(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<ChannelView>>> {
    Ok(Json(plane.list_alert_channels(&ctx).await?))
}

/// Creates a channel (admin in every environment). A webhook without
/// signing keys gets one, shown in this answer only.
#[utoipa::path(post, path = "/api/v1/alerts/channels", operation_id = "create_alert_channel", tag = "alerts",
    request_body = ChannelSpec,
    responses(
        (status = 201, description = "Created.", body = CreatedChannel),
        (status = 400, description = "A malformed body.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 409, description = "A channel with that name exists.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, each named (url, routing_key, signing_keys, …).", body = ErrorEnvelope),
        (status = 503, description = "No key to seal credentials with (--alert-credentials-key-file).", body = ErrorEnvelope),
    ))]
pub async fn create_channel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(spec): ApiJson<ChannelSpec>,
) -> ApiResult<(StatusCode, Json<CreatedChannel>)> {
    Ok((
        StatusCode::CREATED,
        Json(plane.create_alert_channel(&ctx, spec).await?),
    ))
}

/// Replaces a channel's settings and credentials (rotate a webhook's keys
/// by sending the new key next to the old, then the new one alone).
#[utoipa::path(put, path = "/api/v1/alerts/channels/{name}", operation_id = "replace_alert_channel", tag = "alerts",
    params(("name" = String, Path, description = "The channel's name.")),
    // `ChannelSpec` without `name` (`openapi::request_rules`).
    request_body(content = Object, description = "The channel's new settings: `ChannelReplacement`."),
    responses(
        (status = 200, description = "Replaced.", body = CreatedChannel),
        (status = 400, description = "A malformed body, or a name different from the path's.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such channel.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, each named.", body = ErrorEnvelope),
        (status = 503, description = "No key to seal credentials with.", body = ErrorEnvelope),
    ))]
pub async fn replace_channel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
    ApiJson(mut body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<CreatedChannel>> {
    // The path names the channel; a body may repeat the name (a different
    // one is refused: channels can't be renamed).
    body.entry("name")
        .or_insert_with(|| serde_json::Value::from(name.as_str()));
    let bytes = serde_json::to_vec(&body).map_err(|e| {
        super::error::ApiError::bad_request(format!("could not read the JSON body: {e}"))
    })?;
    let axum::Json(spec) =
        axum::Json::<ChannelSpec>::from_bytes(&bytes).map_err(super::error::ApiError::from)?;
    Ok(Json(plane.replace_alert_channel(&ctx, &name, spec).await?))
}

#[utoipa::path(delete, path = "/api/v1/alerts/channels/{name}", operation_id = "delete_alert_channel", tag = "alerts",
    params(("name" = String, Path, description = "The channel's name.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such channel.", body = ErrorEnvelope),
        (status = 409, description = "Rules still send to it (named).", body = ErrorEnvelope),
    ))]
pub async fn delete_channel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    plane.delete_alert_channel(&ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a test notification to the channel; see it in the history.
#[utoipa::path(post, path = "/api/v1/alerts/channels/{name}/test", operation_id = "test_alert_channel", tag = "alerts",
    params(("name" = String, Path, description = "The channel's name.")),
    responses(
        (status = 202, description = "Queued; its delivery shows in the notification history.", body = NotificationView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "Not admin in every environment.", body = ErrorEnvelope),
        (status = 404, description = "No such channel.", body = ErrorEnvelope),
    ))]
pub async fn test_channel(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> ApiResult<(StatusCode, Json<NotificationView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(plane.test_alert_channel(&ctx, &name).await?),
    ))
}

/// Alert instances (rule × workflow × environment), firing first.
#[utoipa::path(get, path = "/api/v1/alerts", operation_id = "list_alerts", tag = "alerts",
    params(AlertFilter),
    responses(
        (status = 200, description = "Instances in environments the caller may see (state: ok, pending, firing, resolved).", body = Vec<InstanceView>),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_instances(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Vec<InstanceView>>> {
    Ok(Json(plane.list_alert_instances(&ctx, filter).await?))
}

/// Every phase change, newest first.
#[utoipa::path(get, path = "/api/v1/alerts/history", operation_id = "list_alert_history", tag = "alerts",
    params(AlertFilter),
    responses(
        (status = 200, description = "Transitions in environments the caller may see.", body = Vec<TransitionView>),
        (status = 400, description = "A malformed query.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_history(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Vec<TransitionView>>> {
    Ok(Json(plane.list_alert_transitions(&ctx, filter).await?))
}

/// Every notification with its delivery: status, attempts, the last
/// response and the request (credentials masked).
#[utoipa::path(get, path = "/api/v1/alerts/notifications", operation_id = "list_alert_notifications", tag = "alerts",
    // `AlertFilter`'s, with `state` a delivery status (the instance and
    // history lists read it as a phase).
    params(
        ("rule" = Option<String>, Query, description = "Only this rule's."),
        ("workflow" = Option<String>, Query, description = "Only this workflow's."),
        ("environment" = Option<String>, Query, description = "Only this environment's."),
        ("state" = Option<DeliveryStatus>, Query, description = "Only notifications in this delivery status."),
        ("limit" = Option<u32>, Query, description = "Most entries to return, 1 to 500 (default 500).", minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "Notifications, newest first (state: pending, delivered, failed).", body = Vec<NotificationView>),
        (status = 400, description = "A malformed query or an unknown state.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_notifications(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Vec<NotificationView>>> {
    Ok(Json(plane.list_alert_notifications(&ctx, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts/silences", operation_id = "list_silences", tag = "alerts",
    responses(
        (status = 200, description = "Silences and mute windows: active first, then scheduled, then ended within 7 days.", body = Vec<SilenceView>),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No role in any environment.", body = ErrorEnvelope),
    ))]
pub async fn list_silences(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Json<Vec<SilenceView>>> {
    Ok(Json(plane.list_silences(&ctx).await?))
}

/// Holds notifications (state is still tracked): a silence until
/// `ends_at`, or a mute window recurring by `cron` for `duration`.
#[utoipa::path(post, path = "/api/v1/alerts/silences", operation_id = "create_silence", tag = "alerts",
    request_body = SilenceSpec,
    responses(
        (status = 201, description = "Created.", body = SilenceView),
        (status = 400, description = "An unknown environment, or a malformed body.", body = ErrorEnvelope),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No operator or admin role where it applies.", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, each named (reason, ends_at, cron, duration).", body = ErrorEnvelope),
    ))]
pub async fn create_silence(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    ApiJson(spec): ApiJson<SilenceSpec>,
) -> ApiResult<(StatusCode, Json<SilenceView>)> {
    Ok((
        StatusCode::CREATED,
        Json(plane.create_silence(&ctx, spec).await?),
    ))
}

/// Ends a silence or mute window now.
#[utoipa::path(post, path = "/api/v1/alerts/silences/{id}/expire", operation_id = "expire_silence", tag = "alerts",
    params(("id" = String, Path, description = "The silence's id.")),
    responses(
        (status = 200, description = "Expired.", body = SilenceView),
        (status = 401, description = "No or bad credentials.", body = ErrorEnvelope),
        (status = 403, description = "No operator or admin role where it applies.", body = ErrorEnvelope),
        (status = 404, description = "No such silence.", body = ErrorEnvelope),
        (status = 409, description = "Expired already.", body = ErrorEnvelope),
    ))]
pub async fn expire_silence(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult<Json<SilenceView>> {
    Ok(Json(plane.expire_silence(&ctx, &id).await?))
}
