//! The control-plane port's implementation, one file per capability. Every
//! method authorizes through `gantry_core::rbac::decide` here, once,
//! whichever edge called it, and every change and refusal is audited here
//! (`audit.rs`). This file holds the plane itself and the helpers every
//! capability shares.

mod approvals;
mod audit;
mod audit_log;
mod execution;
mod identity;
mod people;
mod runs;
pub mod scim;
mod tokens;
mod users;
mod workflows;

use crate::clock::Clock;
use crate::store::SharedStore;
use async_trait::async_trait;
use gantry_core::approval::{ApprovalDecided, ApprovalDecision, ApprovalRequest};
use gantry_core::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus};
use gantry_core::overview::{Overview, ShellInfo, SignInOptions};
use gantry_core::port::{ControlPlane, RequestContext};
use gantry_core::rbac::{Action, Decision, decide};
use gantry_core::role_mapping::RoleMapping;
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerOutcome,
    TriggerRequest,
};
use gantry_core::scim::{ScimAnswer, ScimError, ScimRequest};
use gantry_core::step_up;
use gantry_core::token::{CreatedToken, NewToken, ServiceToken};
use gantry_core::user::{UserQuery, UserSummary};
use gantry_core::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};
use gantry_core::{
    Environment, Environments, Me, PortError, Preferences, Principal, VerifiedIdentity,
};
use std::sync::Arc;

pub struct PlaneSettings {
    pub dev_mode: bool,
    /// Checks checkpoint signatures in the Audit page's verification.
    pub audit_key: Option<ed25519_dalek::VerifyingKey>,
    pub environments: Environments,
    pub version: String,
    /// Single sign-on, when configured (the sign-in page offers it), with
    /// whether its provider answers.
    pub sso: Option<Arc<crate::auth::oidc::SsoStatus>>,
    /// Identity-provider groups → roles, applied at every single sign-on.
    pub role_mapping: RoleMapping,
    /// Sensitive actions need a sign-in at most this old (`--step-up-max-age`).
    pub step_up_max_age: std::time::Duration,
    /// Where tokens may decide approvals (`--token-approvals`; by default
    /// every environment but the last).
    pub token_approvals: Vec<gantry_core::Environment>,
    /// Where people and identity providers reach this server (`--public-url`,
    /// or the bound address): SCIM resource locations start with it.
    pub public_url: String,
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

    /// Step-up: refuses a sensitive action by a person whose sign-in is
    /// older than `--step-up-max-age`. Call after authorization, before
    /// any change. `action` is `None` for creating a token.
    pub(crate) fn require_recent_sign_in(
        &self,
        principal: &Principal,
        action: Option<&Action>,
    ) -> Result<(), PortError> {
        let max_age = chrono::Duration::from_std(self.settings.step_up_max_age)
            .unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now();
        let needed = match action {
            Some(action) => step_up::needs_step_up(
                principal,
                action,
                self.settings.environments.last(),
                now,
                max_age,
            ),
            None => step_up::needs_step_up_for_token_creation(principal, now, max_age),
        };
        if needed {
            tracing::info!(user = %principal.username, ?action, "step-up required");
            return Err(step_up::step_up_required(max_age));
        }
        Ok(())
    }
}

impl GantryPlane {
    /// `name` as one of this server's environments, or why not.
    pub(crate) fn environment(&self, name: &str) -> Result<Environment, PortError> {
        let env = Environment::parse(name)
            .map_err(|e| PortError::invalid("environment", e.to_string()))?;
        if !self.settings.environments.contains(&env) {
            let known: Vec<&str> = self
                .settings
                .environments
                .iter()
                .map(|e| e.as_str())
                .collect();
            return Err(PortError::invalid(
                "environment",
                format!(
                    "unknown environment {name:?}; this server has {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(env)
    }

    /// The environments whose runs and requests `principal` may see; `None`
    /// when that is every one (nothing to narrow).
    pub(crate) fn visible_environments(&self, principal: &Principal) -> Option<Vec<String>> {
        let all = self.settings.environments.iter().count();
        let visible: Vec<String> = self
            .settings
            .environments
            .iter()
            .filter(|e| {
                decide(
                    principal,
                    &Action::ViewEnvironment {
                        environment: (*e).clone(),
                    },
                )
                .is_allowed()
            })
            .map(|e| e.as_str().to_owned())
            .collect();
        (visible.len() < all).then_some(visible)
    }

    /// Authorizes reading something that lives in `environment` (a run, its
    /// logs, an approval request); a refusal is audited as `view.denied`.
    pub(crate) async fn authorize_environment_view(
        &self,
        ctx: &RequestContext,
        environment: &str,
        resource: &str,
    ) -> Result<(), PortError> {
        let environment = gantry_core::Environment::parse(environment).map_err(internal)?;
        self.authorize_view(ctx, &Action::ViewEnvironment { environment }, resource)
            .await
            .map(|_| ())
    }
}

/// Ids Gantry makes are UUIDs; anything else cannot exist, so it is
/// `NotFound` without a lookup. `what` names the kind (`run`, …).
pub(crate) fn uuid_or_not_found(what: &str, id: &str) -> Result<(), PortError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| PortError::not_found(format!("{what} {id:?}")))
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
        self.do_shell(ctx).await
    }

    async fn sign_in_options(&self, ctx: &RequestContext) -> Result<SignInOptions, PortError> {
        self.do_sign_in_options(ctx).await
    }

    async fn dev_sign_in(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<Principal, PortError> {
        self.do_dev_sign_in(ctx, username).await
    }

    async fn oidc_sign_in(
        &self,
        ctx: &RequestContext,
        identity: VerifiedIdentity,
    ) -> Result<Principal, PortError> {
        self.do_oidc_sign_in(ctx, identity).await
    }

    async fn record_failed_sign_in(&self, ctx: &RequestContext, reason: &str) {
        self.do_record_failed_sign_in(ctx, reason).await;
    }

    async fn sign_out(&self, ctx: &RequestContext) -> Result<(), PortError> {
        self.do_sign_out(ctx).await
    }

    async fn record_rejected_credential(&self, ctx: &RequestContext, reason: &str) {
        self.do_record_rejected_credential(ctx, reason).await;
    }

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError> {
        self.do_overview(ctx).await
    }

    async fn preferences(&self, ctx: &RequestContext) -> Result<Preferences, PortError> {
        self.do_preferences(ctx).await
    }

    async fn update_preferences(
        &self,
        ctx: &RequestContext,
        preferences: Preferences,
    ) -> Result<Preferences, PortError> {
        self.do_update_preferences(ctx, preferences).await
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
    ) -> Result<TriggerOutcome, PortError> {
        self.do_trigger(ctx, request, trigger).await
    }

    async fn list_approvals(
        &self,
        ctx: &RequestContext,
        pending: Option<bool>,
    ) -> Result<Vec<ApprovalRequest>, PortError> {
        self.do_list_approvals(ctx, pending).await
    }

    async fn approval(&self, ctx: &RequestContext, id: &str) -> Result<ApprovalRequest, PortError> {
        self.do_approval(ctx, id).await
    }

    async fn decide_approval(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: ApprovalDecision,
    ) -> Result<ApprovalDecided, PortError> {
        self.do_decide_approval(ctx, id, decision).await
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

    async fn list_users(
        &self,
        ctx: &RequestContext,
        query: UserQuery,
    ) -> Result<Vec<UserSummary>, PortError> {
        self.do_list_users(ctx, &query).await
    }

    async fn user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<UserSummary, PortError> {
        self.do_user(ctx, id_or_username).await
    }

    async fn set_user_disabled(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
        disabled: bool,
    ) -> Result<UserSummary, PortError> {
        self.do_set_user_disabled(ctx, id_or_username, disabled)
            .await
    }

    async fn scim(
        &self,
        ctx: &RequestContext,
        request: ScimRequest,
    ) -> Result<ScimAnswer, ScimError> {
        self.do_scim(ctx, request).await
    }

    async fn cancel_run(&self, ctx: &RequestContext, id: &str) -> Result<RunSummary, PortError> {
        self.do_cancel(ctx, id).await
    }

    async fn me(&self, ctx: &RequestContext) -> Result<Me, PortError> {
        self.do_me(ctx)
    }

    async fn list_tokens(&self, ctx: &RequestContext) -> Result<Vec<ServiceToken>, PortError> {
        self.do_list_tokens(ctx).await
    }

    async fn create_token(
        &self,
        ctx: &RequestContext,
        request: NewToken,
    ) -> Result<CreatedToken, PortError> {
        self.do_create_token(ctx, request).await
    }

    async fn revoke_token(
        &self,
        ctx: &RequestContext,
        id_or_name: &str,
    ) -> Result<ServiceToken, PortError> {
        self.do_revoke_token(ctx, id_or_name).await
    }

    async fn audit_log(
        &self,
        ctx: &RequestContext,
        filter: AuditFilter,
    ) -> Result<AuditPage, PortError> {
        self.do_audit_log(ctx, filter).await
    }

    async fn audit_record(&self, ctx: &RequestContext, seq: u64) -> Result<AuditRecord, PortError> {
        self.do_audit_record(ctx, seq).await
    }

    async fn audit_status(&self, ctx: &RequestContext) -> Result<ChainStatus, PortError> {
        self.do_audit_status(ctx).await
    }
}
