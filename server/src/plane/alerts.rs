//! Alerting in the port: rules, channels and silences, authorized and
//! audited here; reading instances, history and notifications narrowed to
//! the environments the caller may see. Evaluation and delivery run in
//! `alerting/`, not through the port: they act for no caller.

use crate::alerting::seal::Credentials;
use crate::alerting::silences;
use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::alerts::{NewNotification, StoredChannel, StoredRule, Withdrawal};
use async_trait::async_trait;
use chrono::Utc;
use gantry_core::alert::channel::PAGERDUTY_EVENTS_URL;
use gantry_core::alert::notification::Links;
use gantry_core::alert::view::{
    AlertFilter, BacktestView, CreatedChannel, InstanceBacktest, InstanceView, NotificationView,
    RuleView, SilenceSpec, SilenceView, TransitionView,
};
use gantry_core::alert::{
    ChannelKind, ChannelSpec, ChannelView, NoticeKind, Notification, Phase, RuleSpec, RunOutcome,
    Severity, SigningKey, backtest, channel::shown_url,
};
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{AlertPort, RequestContext};
use gantry_core::rbac::Action;
use gantry_core::spec::SpecProblem;
use gantry_core::{EnvScope, PortError};

/// Lists stop here.
const LIST_LIMIT: u32 = 500;
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

    async fn checked_rule(&self, spec: &RuleSpec) -> Result<EnvScope, PortError> {
        let mut problems: Vec<(String, String)> = spec
            .validate()
            .into_iter()
            .map(|e| (e.field.to_owned(), e.message))
            .collect();
        let channels = self.store.alert_channels().await.map_err(internal)?;
        for (i, name) in spec.channels.iter().enumerate() {
            if !channels.iter().any(|c| &c.name == name) {
                problems.push((
                    format!("channels[{i}]"),
                    format!(
                        "no channel named {name:?}; create it first (POST /api/v1/alerts/channels)"
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(unprocessable("the rule is not valid", problems));
        }
        self.alert_scope(spec.environment.as_deref())
    }

    async fn rule_view(&self, rule: StoredRule) -> Result<RuleView, PortError> {
        let instances = self.store.alert_instances().await.map_err(internal)?;
        Ok(self.view_rule(rule, &instances))
    }

    fn view_rule(
        &self,
        rule: StoredRule,
        instances: &[crate::store::alerts::StoredInstance],
    ) -> RuleView {
        let mine = instances.iter().filter(|i| i.rule_id == rule.id);
        let (mut firing, mut pending, mut last) = (0, 0, None);
        for i in mine {
            match i.state.phase {
                Phase::Firing => firing += 1,
                Phase::Pending => pending += 1,
                _ => {}
            }
            last = last.max(Some(i.state.since));
        }
        RuleView {
            id: rule.id,
            spec: rule.spec,
            origin: rule.origin,
            created_by: rule.created_by,
            created_at: rule.created_at,
            updated_at: rule.updated_at,
            firing,
            pending,
            last_change: last,
        }
    }

    async fn rule_named(&self, name: &str) -> Result<StoredRule, PortError> {
        self.store
            .alert_rule_named(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("alert rule {name:?}")))
    }

    /// For the resolves owed when a rule's firing instances go with it.
    fn withdrawal(&self) -> Withdrawal {
        Withdrawal {
            links: Links {
                public_url: self.settings.public_url.clone(),
            },
            at: self.clock.now(),
        }
    }

    fn api_owned(rule: &StoredRule) -> Result<(), PortError> {
        match rule.origin.strip_prefix("workflow:") {
            Some(workflow) => Err(PortError::Conflict {
                message: format!(
                    "this rule comes from workflow {workflow}'s spec (`alerts:`); change it there and apply the workflow"
                ),
            }),
            None => Ok(()),
        }
    }

    async fn create_rule_checked(
        &self,
        ctx: &RequestContext,
        spec: RuleSpec,
        event: &mut AuditEvent,
    ) -> Result<RuleView, PortError> {
        let me = ctx.require_principal()?;
        let spec = RuleSpec {
            name: spec.name.trim().to_owned(),
            ..spec
        };
        event.resource = format!("alert_rule/{}", spec.name);
        event.environment = spec.environment.clone();
        let scope = self.alert_scope(spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        self.checked_rule(&spec).await?;
        let now = self.clock.now();
        let rule = StoredRule {
            id: uuid::Uuid::now_v7().to_string(),
            spec,
            origin: "api".into(),
            created_by: me.display_name.clone(),
            created_at: now,
            updated_at: now,
        };
        event.set_detail("rule", serde_json::to_value(&rule.spec).unwrap_or_default());
        if !self
            .store
            .insert_alert_rule(&rule, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!(
                    "an alert rule named {:?} exists; pick another name",
                    rule.spec.name
                ),
            });
        }
        self.wake_alerting();
        self.rule_view(rule).await
    }

    async fn replace_rule_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: RuleSpec,
        event: &mut AuditEvent,
    ) -> Result<RuleView, PortError> {
        self.may_manage_some_alerts(ctx)?;
        let old = self.rule_named(name).await?;
        event.environment = old.spec.environment.clone();
        // Both where it applied and where it will: moving a prod rule to
        // dev needs prod rights too.
        let old_scope = self.alert_scope(old.spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope: old_scope })?;
        Self::api_owned(&old)?;
        let spec = RuleSpec {
            name: spec.name.trim().to_owned(),
            ..spec
        };
        let scope = self.alert_scope(spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        self.checked_rule(&spec).await?;
        let reset = old.spec.kind != spec.kind
            || old.spec.workflow != spec.workflow
            || old.spec.environment != spec.environment;
        let rule = StoredRule {
            spec,
            updated_at: self.clock.now(),
            ..old
        };
        event.set_detail("rule", serde_json::to_value(&rule.spec).unwrap_or_default());
        event.set_detail("instances_reset", reset);
        match self
            .store
            .replace_alert_rule(name, &rule, reset, event.clone(), &self.withdrawal())
            .await
            .map_err(internal)?
        {
            None => Err(PortError::not_found(format!("alert rule {name:?}"))),
            Some(false) => Err(PortError::Conflict {
                message: format!(
                    "an alert rule named {:?} exists; pick another name",
                    rule.spec.name
                ),
            }),
            Some(true) => {
                self.wake_alerting();
                self.rule_view(rule).await
            }
        }
    }

    async fn delete_rule_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        self.may_manage_some_alerts(ctx)?;
        let old = self.rule_named(name).await?;
        event.environment = old.spec.environment.clone();
        let scope = self.alert_scope(old.spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        Self::api_owned(&old)?;
        if !self
            .store
            .delete_alert_rule(name, event.clone(), &self.withdrawal())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("alert rule {name:?}")));
        }
        Ok(())
    }

    fn sealer(&self) -> Result<&crate::alerting::seal::Sealer, PortError> {
        self.settings
            .alerts
            .sealer
            .as_deref()
            .ok_or_else(|| PortError::Unavailable {
                message: "channel credentials can't be stored: start the server with \
                      --alert-credentials-key-file (the same file for every serve process)"
                    .into(),
            })
    }

    /// The stored form of `spec`, and the signing key Gantry made for it.
    fn stored_channel(
        &self,
        spec: &ChannelSpec,
        created_by: &str,
        created_at: chrono::DateTime<Utc>,
    ) -> Result<(StoredChannel, Option<SigningKey>), PortError> {
        let problems: Vec<(String, String)> = spec
            .validate()
            .into_iter()
            .map(|e| (e.field.to_owned(), e.message))
            .collect();
        if !problems.is_empty() {
            return Err(unprocessable("the channel is not valid", problems));
        }
        let kind = spec.kind.ok_or_else(|| {
            PortError::invalid("kind", "webhook, slack, pagerduty or alertmanager")
        })?;
        let mut generated = None;
        let mut signing_keys = spec.signing_keys.clone();
        if kind == ChannelKind::Webhook && signing_keys.is_empty() {
            let key = SigningKey {
                id: "k1".into(),
                secret: random_secret(),
            };
            generated = Some(key.clone());
            signing_keys.push(key);
        }
        let url = match spec.url.clone() {
            Some(url) => url,
            None if kind == ChannelKind::Pagerduty => PAGERDUTY_EVENTS_URL.to_owned(),
            None => String::new(),
        };
        // What may be a credential in the URL is sealed, never shown.
        let shown = shown_url(kind, &url);
        let secret_url = (shown != url).then_some(url);
        let credentials = Credentials {
            url: secret_url,
            signing_keys: signing_keys.clone(),
            routing_key: spec.routing_key.clone(),
            bearer_token: spec.bearer_token.clone(),
        };
        let name = spec.name.trim().to_owned();
        let sealed = self.sealer()?.seal(&name, &credentials).map_err(internal)?;
        Ok((
            StoredChannel {
                name,
                kind,
                url: shown,
                signing_key_ids: signing_keys.into_iter().map(|k| k.id).collect(),
                sealed,
                created_by: created_by.to_owned(),
                created_at,
                updated_at: created_at,
            },
            generated,
        ))
    }

    async fn create_channel_checked(
        &self,
        ctx: &RequestContext,
        spec: ChannelSpec,
        event: &mut AuditEvent,
    ) -> Result<CreatedChannel, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        event.resource = format!("alert_channel/{}", spec.name.trim());
        let (channel, generated) =
            self.stored_channel(&spec, &me.display_name, self.clock.now())?;
        event.set_detail("kind", channel.kind.as_str());
        event.set_detail("url", channel.url.clone());
        event.set_detail("signing_key_ids", channel.signing_key_ids.clone());
        if !self
            .store
            .insert_alert_channel(&channel, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!(
                    "a channel named {:?} exists; pick another name",
                    channel.name
                ),
            });
        }
        Ok(CreatedChannel {
            channel: channel_view(&channel),
            generated_signing_key: generated,
        })
    }

    async fn replace_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: ChannelSpec,
        event: &mut AuditEvent,
    ) -> Result<CreatedChannel, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        if spec.name.trim() != name {
            return Err(PortError::invalid(
                "name",
                format!(
                    "the body names {:?}, the path {name:?}; channels can't be renamed (rules name them)",
                    spec.name
                ),
            ));
        }
        let old = self
            .store
            .alert_channel(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("channel {name:?}")))?;
        let (mut channel, generated) =
            self.stored_channel(&spec, &me.display_name, self.clock.now())?;
        channel.created_by = old.created_by;
        channel.created_at = old.created_at;
        event.set_detail("kind", channel.kind.as_str());
        event.set_detail("url", channel.url.clone());
        event.set_detail("signing_key_ids", channel.signing_key_ids.clone());
        if !self
            .store
            .update_alert_channel(&channel, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("channel {name:?}")));
        }
        Ok(CreatedChannel {
            channel: channel_view(&channel),
            generated_signing_key: generated,
        })
    }

    async fn delete_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        self.authorize(ctx, &Action::ManageAlertChannels)?;
        let users: Vec<String> = self
            .store
            .alert_rules()
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|r| r.spec.channels.iter().any(|c| c == name))
            .map(|r| r.spec.name)
            .collect();
        if !users.is_empty() {
            return Err(PortError::Conflict {
                message: format!(
                    "rules still send to this channel: {}; change them first",
                    users.join(", ")
                ),
            });
        }
        if !self
            .store
            .delete_alert_channel(name, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("channel {name:?}")));
        }
        Ok(())
    }

    async fn test_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<NotificationView, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        let channel = self
            .store
            .alert_channel(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("channel {name:?}")))?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let base = self.settings.public_url.trim_end_matches('/');
        let notification = Notification {
            id: id.clone(),
            notice: NoticeKind::Test,
            fingerprint: format!("test-{}", &id[id.len() - 12..]),
            rule: "test".into(),
            rule_kind: "test".into(),
            severity: Severity::Info,
            workflow: String::new(),
            environment: String::new(),
            summary: format!(
                "A test notification from Gantry, sent by {}",
                me.display_name
            ),
            started_at: now,
            resolved_at: None,
            run_id: None,
            run_url: None,
            alert_url: format!("{base}/alerts"),
        };
        event.set_detail("notification", id.clone());
        self.store
            .enqueue_notifications(
                &[NewNotification {
                    channel: channel.name.clone(),
                    notification,
                    at: now,
                }],
                event.clone(),
            )
            .await
            .map_err(internal)?;
        self.wake_alerting();
        let filter = AlertFilter::default();
        self.store
            .alert_notifications(&filter, None, LIST_LIMIT)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| internal("a queued test notification vanished"))
    }

    async fn create_silence_checked(
        &self,
        ctx: &RequestContext,
        spec: SilenceSpec,
        event: &mut AuditEvent,
    ) -> Result<SilenceView, PortError> {
        let me = ctx.require_principal()?;
        event.environment = spec.environment.clone();
        let scope = self.alert_scope(spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        let now = self.clock.now();
        let view = self.checked_silence(spec, &me.display_name, now)?;
        event.resource = format!("silence/{}", view.id);
        event.set_detail("rule", view.rule.clone());
        event.set_detail("workflow", view.workflow.clone());
        event.set_detail("starts_at", view.starts_at.to_rfc3339());
        event.set_detail("ends_at", view.ends_at.map(|e| e.to_rfc3339()));
        event.set_detail("cron", view.cron.clone());
        event.set_detail("reason", view.reason.clone());
        self.store
            .insert_silence(&view, event.clone())
            .await
            .map_err(internal)?;
        self.wake_alerting();
        Ok(with_activity(view, now))
    }

    fn checked_silence(
        &self,
        spec: SilenceSpec,
        creator: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<SilenceView, PortError> {
        let mut problems = Vec::new();
        let reason = spec.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 {
            problems.push((
                "reason".to_owned(),
                "say why, in 1 to 500 characters".to_owned(),
            ));
        }
        let starts_at = spec.starts_at.unwrap_or(now);
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        match (&spec.cron, spec.duration, spec.ends_at) {
            (Some(cron), Some(duration), None) => {
                if let Err(e) =
                    gantry_core::schedule::CronSchedule::parse(cron, spec.time_zone.as_deref())
                {
                    problems.push(("cron".to_owned(), e));
                }
                if duration.0.is_zero() || duration.0 > MAX_MUTE {
                    problems.push((
                        "duration".to_owned(),
                        "a mute window lasts from 1s to 7d".to_owned(),
                    ));
                }
            }
            (None, None, Some(ends_at)) => {
                if ends_at <= starts_at || ends_at <= now {
                    problems.push((
                        "ends_at".to_owned(),
                        "a silence ends after it starts, in the future".to_owned(),
                    ));
                } else if ends_at - starts_at > MAX_SILENCE {
                    problems.push((
                        "ends_at".to_owned(),
                        "a silence lasts at most 90 days; use a mute window for recurring quiet"
                            .to_owned(),
                    ));
                }
                if spec.time_zone.is_some() {
                    problems.push((
                        "time_zone".to_owned(),
                        "only mute windows (cron) take a time zone".to_owned(),
                    ));
                }
            }
            _ => problems.push((
                "ends_at".to_owned(),
                "give either ends_at (a silence) or cron and duration (a mute window)".to_owned(),
            )),
        }
        if !problems.is_empty() {
            return Err(unprocessable("the silence is not valid", problems));
        }
        Ok(SilenceView {
            id: uuid::Uuid::now_v7().to_string(),
            rule: blank(spec.rule),
            workflow: blank(spec.workflow),
            environment: blank(spec.environment),
            starts_at,
            ends_at: spec.ends_at,
            cron: spec.cron,
            duration_secs: spec.duration.map(|d| d.0.as_secs()),
            time_zone: spec.time_zone,
            reason,
            created_by: creator.to_owned(),
            created_at: now,
            expired_at: None,
            active: false,
        })
    }

    async fn expire_silence_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        event: &mut AuditEvent,
    ) -> Result<SilenceView, PortError> {
        self.may_manage_some_alerts(ctx)?;
        uuid_or_not_found("silence", id)?;
        let silence = self
            .store
            .silence(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("silence {id}")))?;
        event.environment = silence.environment.clone();
        let scope = self.alert_scope(silence.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        if silence.expired_at.is_some() {
            return Err(PortError::Conflict {
                message: "this silence was expired already".into(),
            });
        }
        let now = self.clock.now();
        let view = self
            .store
            .expire_silence(id, now, event.clone())
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("silence {id}")))?;
        self.wake_alerting();
        Ok(with_activity(view, now))
    }

    fn wake_alerting(&self) {
        self.settings.alerts.wake.notify_one();
    }
}

/// 256 bits, hex: a signing key Gantry makes when none was given.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn with_activity(mut view: SilenceView, now: chrono::DateTime<Utc>) -> SilenceView {
    view.active = silences::active(&view, now);
    view
}

fn channel_view(c: &StoredChannel) -> ChannelView {
    ChannelView {
        name: c.name.clone(),
        kind: c.kind,
        url: c.url.clone(),
        signing_key_ids: c.signing_key_ids.clone(),
        created_by: c.created_by.clone(),
        created_at: c.created_at,
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
        out.truncate(filter.limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT) as usize);
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
        let limit = filter.limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT);
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
        let limit = filter.limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT);
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
