//! Alerting in the port: rules, channels and silences, authorized and
//! audited here; reading instances, history and notifications narrowed to
//! the environments the caller may see. Evaluation and delivery run in
//! `alerting/`, not through the port: they act for no caller.
//!
//! The port's methods are here; what each change checks and writes is in
//! `rules.rs`, `channels.rs` and `silencing.rs`.

mod channels;
mod rules;
mod silencing;

use channels::channel_view;
use silencing::with_activity;

use crate::alerting::silences;
use crate::plane::{GantryPlane, internal};
use async_trait::async_trait;
use gantry_core::alert::view::{
    AlertFilter, BacktestView, CreatedChannel, InstanceBacktest, InstanceView, NotificationView,
    RuleView, SilenceSpec, SilenceView, TransitionView,
};
use gantry_core::alert::{ChannelSpec, ChannelView, Phase, RuleSpec, RunOutcome, backtest};
use gantry_core::audit::AuditAction;
use gantry_core::port::{AlertPort, RequestContext};
use gantry_core::rbac::Action;
use gantry_core::spec::SpecProblem;
use gantry_core::{EnvScope, PortError};

/// Lists stop here.
const LIST_LIMIT: u32 = AlertFilter::MAX_LIMIT;
/// Backtests look back at most this far.
const MAX_BACKTEST_DAYS: u32 = 90;
/// Runs read per instance in a backtest.
const BACKTEST_RUNS: u32 = 10_000;
/// The longest silence, and the longest mute window.
const MAX_SILENCE: chrono::Duration = chrono::Duration::days(90);
const MAX_MUTE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

fn unprocessable(message: &str, problems: Vec<(String, String)>) -> PortError {
    PortError::Unprocessable {
        message: message.to_owned(),
        problems: problems
            .into_iter()
            .map(|(path, message)| SpecProblem {
                path,
                line: None,
                message,
            })
            .collect(),
    }
}

impl GantryPlane {
    /// Where a rule or silence applies, checked against this server's
    /// environments.
    fn alert_scope(&self, environment: Option<&str>) -> Result<EnvScope, PortError> {
        environment
            .map(|e| self.environment(e).map(EnvScope::Only))
            .transpose()
            .map(|s| s.unwrap_or(EnvScope::All))
    }

    /// Refuses, before anything is looked up, callers who manage alerts
    /// nowhere: whether a rule or silence exists is not theirs to learn
    /// from a 404. The scoped check follows once the object is known.
    fn may_manage_some_alerts(&self, ctx: &RequestContext) -> Result<(), PortError> {
        let principal = ctx.require_principal()?;
        let somewhere = self.settings.environments.iter().any(|env| {
            gantry_core::rbac::decide(
                principal,
                &Action::ManageAlerts {
                    scope: EnvScope::Only(env.clone()),
                },
            )
            .is_allowed()
        });
        if somewhere {
            return Ok(());
        }
        self.authorize(
            ctx,
            &Action::ManageAlerts {
                scope: EnvScope::All,
            },
        )
        .map(|_| ())
    }

    fn wake_alerting(&self) {
        self.settings.alerts.wake.notify_one();
    }
}

#[async_trait]
impl AlertPort for GantryPlane {
    async fn list_alert_rules(&self, ctx: &RequestContext) -> Result<Vec<RuleView>, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "alert_rule/")
            .await?;
        let rules = self.store.alert_rules().await.map_err(internal)?;
        let instances = self.store.alert_instances().await.map_err(internal)?;
        Ok(rules
            .into_iter()
            .map(|r| self.view_rule(r, &instances))
            .collect())
    }

    async fn alert_rule(&self, ctx: &RequestContext, name: &str) -> Result<RuleView, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "alert_rule/")
            .await?;
        let rule = self.rule_named(name).await?;
        self.rule_view(rule).await
    }

    async fn create_alert_rule(
        &self,
        ctx: &RequestContext,
        spec: RuleSpec,
    ) -> Result<RuleView, PortError> {
        let mut event = self.event(ctx, AuditAction::AlertRuleCreate, "alert_rule/");
        let result = self.create_rule_checked(ctx, spec, &mut event).await;
        self.settle(event, result).await
    }

    async fn replace_alert_rule(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: RuleSpec,
    ) -> Result<RuleView, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::AlertRuleUpdate,
            format!("alert_rule/{name}"),
        );
        let result = self.replace_rule_checked(ctx, name, spec, &mut event).await;
        self.settle(event, result).await
    }

    async fn delete_alert_rule(&self, ctx: &RequestContext, name: &str) -> Result<(), PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::AlertRuleDelete,
            format!("alert_rule/{name}"),
        );
        let result = self.delete_rule_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn backtest_alert_rule(
        &self,
        ctx: &RequestContext,
        spec: RuleSpec,
        days: u32,
    ) -> Result<BacktestView, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "alert_rule/")
            .await?;
        if !(1..=MAX_BACKTEST_DAYS).contains(&days) {
            return Err(PortError::invalid(
                "days",
                "look back 1 to 90 days (7 and 30 are usual)",
            ));
        }
        let problems: Vec<(String, String)> = spec
            .validate()
            .into_iter()
            .map(|e| (e.field.to_owned(), e.message))
            .collect();
        if !problems.is_empty() {
            return Err(unprocessable("the rule is not valid", problems));
        }
        self.alert_scope(spec.environment.as_deref())?;
        let visible = self.visible_environments(me);
        let to = self.clock.now();
        let from = to - chrono::Duration::days(i64::from(days));
        let mut out = BacktestView {
            days,
            from,
            to,
            runs: 0,
            fired: 0,
            resolved: 0,
            instances: Vec::new(),
        };
        for (workflow, environment) in self.store.run_pairs_since(from).await.map_err(internal)? {
            // Label selectors: see the evaluator (labels aren't read yet).
            let covered = spec.matches(&workflow, &Default::default(), &environment)
                && visible.as_ref().is_none_or(|v| v.contains(&environment));
            if !covered {
                continue;
            }
            let history: Vec<RunOutcome> = self
                .store
                .run_history(&workflow, &environment, to, Some(from), BACKTEST_RUNS)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|h| RunOutcome {
                    finished_at: h.finished_at,
                    succeeded: h.succeeded,
                })
                .collect();
            let result = backtest(&spec, &history);
            out.runs += result.runs;
            out.fired += result.fired;
            out.resolved += result.resolved;
            out.instances.push(InstanceBacktest {
                workflow,
                environment,
                result,
            });
        }
        Ok(out)
    }

    async fn list_alert_channels(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<ChannelView>, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "alert_channel/")
            .await?;
        Ok(self
            .store
            .alert_channels()
            .await
            .map_err(internal)?
            .iter()
            .map(channel_view)
            .collect())
    }

    async fn create_alert_channel(
        &self,
        ctx: &RequestContext,
        spec: ChannelSpec,
    ) -> Result<CreatedChannel, PortError> {
        let mut event = self.event(ctx, AuditAction::AlertChannelCreate, "alert_channel/");
        let result = self.create_channel_checked(ctx, spec, &mut event).await;
        self.settle(event, result).await
    }

    async fn replace_alert_channel(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: ChannelSpec,
    ) -> Result<CreatedChannel, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::AlertChannelUpdate,
            format!("alert_channel/{name}"),
        );
        let result = self
            .replace_channel_checked(ctx, name, spec, &mut event)
            .await;
        self.settle(event, result).await
    }

    async fn delete_alert_channel(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<(), PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::AlertChannelDelete,
            format!("alert_channel/{name}"),
        );
        let result = self.delete_channel_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn test_alert_channel(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<NotificationView, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::AlertChannelTest,
            format!("alert_channel/{name}"),
        );
        let result = self.test_channel_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn list_alert_instances(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<InstanceView>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "alert/")
            .await?;
        let limit = filter.checked_limit()?;
        let visible = self.visible_environments(me);
        let now = self.clock.now();
        let rules = self.store.alert_rules().await.map_err(internal)?;
        let silences = self.store.silences(now).await.map_err(internal)?;
        let mut out: Vec<InstanceView> = self
            .store
            .alert_instances()
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|i| visible.as_ref().is_none_or(|v| v.contains(&i.environment)))
            .filter_map(|i| {
                let rule = rules.iter().find(|r| r.id == i.rule_id)?;
                Some(InstanceView {
                    silenced: silences::silenced(
                        &silences,
                        &rule.spec.name,
                        &i.workflow,
                        &i.environment,
                        now,
                    ),
                    fingerprint: i.fingerprint,
                    rule_id: i.rule_id,
                    rule: rule.spec.name.clone(),
                    workflow: i.workflow,
                    environment: i.environment,
                    subject: i.subject,
                    phase: i.state.phase,
                    since: i.state.since,
                    summary: i.summary,
                    last_run_id: i.last_run_id,
                })
            })
            .filter(|i| filter.rule.as_ref().is_none_or(|r| r == &i.rule))
            .filter(|i| filter.workflow.as_ref().is_none_or(|w| w == &i.workflow))
            .filter(|i| {
                filter
                    .environment
                    .as_ref()
                    .is_none_or(|e| e == &i.environment)
            })
            .filter(|i| filter.state.as_ref().is_none_or(|s| s == i.phase.as_str()))
            .collect();
        let rank = |p: Phase| match p {
            Phase::Firing => 0,
            Phase::Pending => 1,
            Phase::Resolved => 2,
            Phase::Ok => 3,
        };
        out.sort_by(|a, b| {
            rank(a.phase)
                .cmp(&rank(b.phase))
                .then(b.since.cmp(&a.since))
        });
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn list_alert_transitions(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<TransitionView>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "alert/")
            .await?;
        let visible = self.visible_environments(me);
        let limit = filter.checked_limit()?;
        self.store
            .alert_transitions(&filter, visible.as_deref(), limit)
            .await
            .map_err(internal)
    }

    async fn list_alert_notifications(
        &self,
        ctx: &RequestContext,
        filter: AlertFilter,
    ) -> Result<Vec<NotificationView>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "alert/")
            .await?;
        if let Some(s) = &filter.state
            && gantry_core::alert::view::DeliveryStatus::parse(s).is_none()
        {
            return Err(PortError::invalid("state", "pending, delivered or failed"));
        }
        let visible = self.visible_environments(me);
        let limit = filter.checked_limit()?;
        self.store
            .alert_notifications(&filter, visible.as_deref(), limit)
            .await
            .map_err(internal)
    }

    async fn create_silence(
        &self,
        ctx: &RequestContext,
        spec: SilenceSpec,
    ) -> Result<SilenceView, PortError> {
        let mut event = self.event(ctx, AuditAction::SilenceCreate, "silence/");
        let result = self.create_silence_checked(ctx, spec, &mut event).await;
        self.settle(event, result).await
    }

    async fn list_silences(&self, ctx: &RequestContext) -> Result<Vec<SilenceView>, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "silence/")
            .await?;
        let now = self.clock.now();
        let mut out: Vec<SilenceView> = self
            .store
            .silences(now - chrono::Duration::days(7))
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| with_activity(s, now))
            .collect();
        out.sort_by_key(|s| {
            (
                !s.active,
                s.expired_at.is_some(),
                std::cmp::Reverse(s.created_at),
            )
        });
        Ok(out)
    }

    async fn expire_silence(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SilenceView, PortError> {
        let mut event = self.event(ctx, AuditAction::SilenceExpire, format!("silence/{id}"));
        let result = self.expire_silence_checked(ctx, id, &mut event).await;
        self.settle(event, result).await
    }
}
