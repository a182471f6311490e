//! Alerting: rules, channels, silences, and reading what fired and what
//! was sent. Evaluation and delivery run inside the server; these are the
//! calls people and tools make.

use super::RequestContext;
use crate::alert::view::{
    AlertFilter, BacktestView, CreatedChannel, InstanceView, NotificationView, RuleView,
    SilenceSpec, SilenceView, TransitionView,
};
use crate::alert::{ChannelSpec, ChannelView, RuleSpec};
use crate::error::PortError;

#[async_trait::async_trait]
pub trait AlertPort: Send + Sync {
    /// Every rule with its instances' counts (anyone who sees the dashboard).
    async fn list_alert_rules(&self, ctx: &RequestContext) -> Result<Vec<RuleView>, PortError>;

    /// One rule by name.
    async fn alert_rule(&self, ctx: &RequestContext, name: &str) -> Result<RuleView, PortError>;

    /// A new rule (operator or admin where it applies; all environments
    /// need that role in all). Its channels must exist.
    async fn create_alert_rule(
        &self,
        ctx: &RequestContext,
        spec: RuleSpec,
    ) -> Result<RuleView, PortError>;

    /// Replaces a rule (its name may change); its instances start over
    /// when what it watches changes.
    async fn replace_alert_rule(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: RuleSpec,
    ) -> Result<RuleView, PortError>;

    async fn delete_alert_rule(&self, ctx: &RequestContext, name: &str) -> Result<(), PortError>;

    /// Replays `spec` over the last `days` of real runs, before saving.
    async fn backtest_alert_rule(
        &self,
        ctx: &RequestContext,
        spec: RuleSpec,
        days: u32,
    ) -> Result<BacktestView, PortError>;

    async fn list_alert_channels(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<ChannelView>, PortError>;

    /// A new channel (admin in every environment: a channel carries every
    /// environment's alerts). Credentials are sealed and never shown back.
    async fn create_alert_channel(
        &self,
        ctx: &RequestContext,
        spec: ChannelSpec,
    ) -> Result<CreatedChannel, PortError>;

    /// Replaces a channel's settings and credentials (key rotation).
    async fn replace_alert_channel(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: ChannelSpec,
    ) -> Result<CreatedChannel, PortError>;

    /// Refused while a rule still sends to it.
    async fn delete_alert_channel(&self, ctx: &RequestContext, name: &str)
    -> Result<(), PortError>;

    /// Queues a test notification to the channel; its delivery shows in
    /// the history.
    async fn test_alert_channel(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<NotificationView, PortError>;

    /// Instances, firing first, in environments the caller may see.
    async fn list_alert_instances(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<InstanceView>, PortError>;

    /// Phase changes, newest first.
    async fn list_alert_transitions(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<TransitionView>, PortError>;

    /// Notifications, newest first.
    async fn list_alert_notifications(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<NotificationView>, PortError>;

    async fn create_silence(
        &self,
        ctx: &RequestContext,
        spec: SilenceSpec,
    ) -> Result<SilenceView, PortError>;

    /// Silences and mute windows, active and scheduled first.
    async fn list_silences(&self, ctx: &RequestContext) -> Result<Vec<SilenceView>, PortError>;

    /// Ends a silence now.
    async fn expire_silence(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SilenceView, PortError>;
}
