//! Alert rules through the port: checks, views, and the writes that
//! create, replace and delete them (with the resolves owed when firing
//! instances go).

use super::unprocessable;
use crate::plane::{GantryPlane, internal};
use crate::store::alerts::{StoredRule, Withdrawal};
use gantry_core::alert::notification::Links;
use gantry_core::alert::view::RuleView;
use gantry_core::alert::{Phase, RuleSpec};
use gantry_core::audit::AuditEvent;
use gantry_core::port::RequestContext;
use gantry_core::rbac::Action;
use gantry_core::{EnvScope, PortError};

impl GantryPlane {
    pub(super) async fn checked_rule(&self, spec: &RuleSpec) -> Result<EnvScope, PortError> {
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

    pub(super) async fn rule_view(&self, rule: StoredRule) -> Result<RuleView, PortError> {
        let instances = self.store.alert_instances().await.map_err(internal)?;
        Ok(self.view_rule(rule, &instances))
    }

    pub(super) fn view_rule(
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

    pub(super) async fn rule_named(&self, name: &str) -> Result<StoredRule, PortError> {
        self.store
            .alert_rule_named(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("alert rule {name:?}")))
    }

    /// For the resolves owed when a rule's firing instances go with it.
    pub(super) fn withdrawal(&self) -> Withdrawal {
        Withdrawal {
            links: Links {
                public_url: self.settings.public_url.clone(),
            },
            at: self.clock.now(),
        }
    }

    pub(super) fn api_owned(rule: &StoredRule) -> Result<(), PortError> {
        match rule.origin.strip_prefix("workflow:") {
            Some(workflow) => Err(PortError::Conflict {
                message: format!(
                    "this rule comes from workflow {workflow}'s spec (`alerts:`); change it there and apply the workflow"
                ),
            }),
            None => Ok(()),
        }
    }

    pub(super) async fn create_rule_checked(
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

    pub(super) async fn replace_rule_checked(
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

    pub(super) async fn delete_rule_checked(
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
}
