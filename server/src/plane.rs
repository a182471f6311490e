//! The control-plane port's implementation. Every method authorizes through
//! `gantry_core::rbac::decide` here, once, whichever edge called it.
//! (Audit records join here in the audit-log work.)

use crate::auth::principal_for;
use crate::clock::Clock;
use crate::store::SharedStore;
use async_trait::async_trait;
use gantry_core::overview::{Overview, ShellInfo, SignInOptions, SystemInfo};
use gantry_core::port::{ControlPlane, RequestContext};
use gantry_core::rbac::{Action, Decision, decide};
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerRequest,
};
use gantry_core::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};
use gantry_core::{DevUser, Environments, PortError, Preferences, Principal};
use std::sync::Arc;

pub struct PlaneSettings {
    pub dev_mode: bool,
    pub environments: Environments,
    pub version: String,
}

pub struct GantryPlane {
    pub(crate) store: SharedStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: PlaneSettings,
}

impl GantryPlane {
    pub fn new(store: SharedStore, clock: Arc<dyn Clock>, settings: PlaneSettings) -> Self {
        Self {
            store,
            clock,
            settings,
        }
    }

    /// The caller, if allowed to do `action`.
    pub(crate) fn authorize<'a>(
        &self,
        ctx: &'a RequestContext,
        action: &Action,
    ) -> Result<&'a Principal, PortError> {
        let principal = ctx.require_principal()?;
        match decide(principal, action) {
            Decision::Allow => Ok(principal),
            Decision::Deny { reason } => {
                tracing::info!(
                    request_id = %ctx.request_id,
                    user = %principal.username,
                    ?action,
                    %reason,
                    "authorization denied"
                );
                Err(PortError::Forbidden { reason })
            }
        }
    }
}

/// Logs the cause under a reference the caller sees; the cause itself never
/// leaves the server.
pub fn internal(err: impl std::fmt::Display) -> PortError {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, error = %err, "internal error");
    PortError::Internal { reference }
}

#[async_trait]
impl ControlPlane for GantryPlane {
    async fn shell(&self, ctx: &RequestContext) -> Result<ShellInfo, PortError> {
        let preferences = match &ctx.principal {
            Some(p) => self
                .store
                .user_by_id(&p.id)
                .await
                .map_err(internal)?
                .map(|u| u.preferences)
                .unwrap_or_default(),
            None => Preferences::default(),
        };
        Ok(ShellInfo {
            dev_mode: self.settings.dev_mode,
            principal: ctx.principal.clone(),
            preferences,
            version: self.settings.version.clone(),
        })
    }

    async fn sign_in_options(&self, _ctx: &RequestContext) -> Result<SignInOptions, PortError> {
        Ok(SignInOptions {
            dev_users: if self.settings.dev_mode {
                DevUser::seeds()
            } else {
                Vec::new()
            },
            sso: false,
        })
    }

    async fn dev_sign_in(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<Principal, PortError> {
        if !self.settings.dev_mode {
            return Err(PortError::not_found("dev sign-in"));
        }
        if !DevUser::seeds().iter().any(|u| u.username == username) {
            let names: Vec<String> = DevUser::seeds().into_iter().map(|u| u.username).collect();
            return Err(PortError::invalid(
                "username",
                format!(
                    "no demo user named {username:?}; pick one of {}",
                    names.join(", ")
                ),
            ));
        }
        let user = self
            .store
            .user_by_username(username)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("demo user {username:?}")))?;
        let principal = principal_for(&self.store, &user.id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::forbidden(format!("the account {username:?} is disabled")))?;
        tracing::info!(request_id = %ctx.request_id, user = %principal.username, "dev sign-in");
        Ok(principal)
    }

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError> {
        self.authorize(ctx, &Action::ViewDashboard)?;
        let migrations = self.store.migration_status().await.map_err(internal)?;
        Ok(Overview {
            environments: self.settings.environments.iter().cloned().collect(),
            system: SystemInfo {
                version: self.settings.version.clone(),
                database: self.store.backend().to_string(),
                migrations_applied: migrations.applied,
            },
        })
    }

    async fn preferences(&self, ctx: &RequestContext) -> Result<Preferences, PortError> {
        let me = self.authorize(ctx, &Action::UpdateOwnPreferences)?;
        let user = self.store.user_by_id(&me.id).await.map_err(internal)?;
        user.map(|u| u.preferences)
            .ok_or(PortError::Unauthenticated)
    }

    async fn update_preferences(
        &self,
        ctx: &RequestContext,
        preferences: Preferences,
    ) -> Result<Preferences, PortError> {
        let me = self.authorize(ctx, &Action::UpdateOwnPreferences)?;
        let found = self
            .store
            .set_preferences(&me.id, &preferences, self.clock.now())
            .await
            .map_err(internal)?;
        if !found {
            return Err(PortError::Unauthenticated);
        }
        Ok(preferences)
    }

    async fn apply_workflow(
        &self,
        ctx: &RequestContext,
        source: &str,
    ) -> Result<ApplyOutcome, PortError> {
        self.do_apply(ctx, source).await
    }

    async fn list_workflows(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<WorkflowSummary>, PortError> {
        self.do_list_workflows(ctx).await
    }

    async fn workflow(
        &self,
        ctx: &RequestContext,
        name: &str,
        version: Option<u32>,
    ) -> Result<WorkflowDetail, PortError> {
        self.do_workflow(ctx, name, version).await
    }

    async fn trigger_run(
        &self,
        ctx: &RequestContext,
        request: TriggerRequest,
        trigger: Trigger,
    ) -> Result<RunSummary, PortError> {
        self.do_trigger(ctx, request, trigger).await
    }

    async fn list_runs(
        &self,
        ctx: &RequestContext,
        filter: RunFilter,
    ) -> Result<RunPage, PortError> {
        self.do_list_runs(ctx, filter).await
    }

    async fn run(&self, ctx: &RequestContext, id: &str) -> Result<RunDetail, PortError> {
        self.do_run(ctx, id).await
    }

    async fn run_logs(
        &self,
        ctx: &RequestContext,
        id: &str,
        query: LogQuery,
    ) -> Result<LogPage, PortError> {
        self.do_run_logs(ctx, id, query).await
    }

    async fn set_schedule(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<ActiveVersion, PortError> {
        self.do_set_schedule(ctx, workflow, environment, enabled)
            .await
    }

    async fn cancel_run(&self, ctx: &RequestContext, id: &str) -> Result<RunSummary, PortError> {
        self.do_cancel(ctx, id).await
    }
}
