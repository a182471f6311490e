//! Who is calling, through the port: the page frame and sign-in options,
//! dev and single sign-on sign-in, sign-out, `me`, preferences and the
//! overview. Single sign-on: an identity the edge verified (`auth/oidc.rs`)
//! becomes an account with the roles its groups map to, and every attempt,
//! successful or not, is on the record. Also who an account is as a
//! principal (`principal_for`), which the edges ask on every request.

use crate::plane::audit::actor_of;
use crate::plane::{GantryPlane, internal};
use crate::store::users::OidcUpsert;
use crate::store::versions::WorkflowView;
use crate::store::{SharedStore, StoreResult};
use async_trait::async_trait;
use gantry_core::audit::{
    Actor, ActorKind, AuditAction, AuditEvent, MAX_FIELD_CHARS, Outcome, clip,
};
use gantry_core::overview::health::{
    EnvironmentHealth, HealthFacts, RUN_WINDOW_HOURS, environment_health,
};
use gantry_core::overview::{Overview, ShellInfo, SignInOptions, SystemInfo};
use gantry_core::port::{IdentityPort, RequestContext};
use gantry_core::rbac::Action;
use gantry_core::{
    DevUser, Me, PortError, Preferences, Principal, PrincipalKind, UserId, VerifiedIdentity,
};
use std::sync::atomic::{AtomicBool, Ordering};

/// How audit records name the sign-in method.
const METHOD: &str = "oidc";

/// Whether the provider answered the last discovery: what the sign-in page
/// says before anyone clicks, shared with the port.
#[derive(Debug, Default)]
pub struct SsoStatus {
    reachable: AtomicBool,
}

impl SsoStatus {
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// What the last discovery found (`auth/oidc.rs` sets it).
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::Relaxed);
    }
}

/// The user as a principal, or `None` when the account is gone or disabled,
/// or (for a session of generation `session_epoch`) when disabling the
/// account has ended that session since. Loaded on every request, so
/// disabling an account takes effect at once.
pub async fn principal_for(
    store: &SharedStore,
    id: &UserId,
    session_epoch: Option<i64>,
) -> StoreResult<Option<Principal>> {
    let Some((user, grants)) = store.user_with_grants(id).await? else {
        return Ok(None);
    };
    if user.disabled || session_epoch.is_some_and(|epoch| epoch != user.session_epoch) {
        return Ok(None);
    }
    Ok(Some(Principal {
        id: user.id,
        kind: PrincipalKind::User,
        username: user.username,
        display_name: user.display_name,
        email: user.email,
        grants,
        signed_in_at: None,
        break_glass_until: None,
    }))
}

/// Most pending run approvals the Overview counts per read: more than a
/// team can work through, so "200" is as good as the exact number.
const PENDING_APPROVALS_READ: u32 = 200;

impl GantryPlane {
    /// Each environment `me` may see, as the Overview shows it.
    async fn environment_health(
        &self,
        me: &Principal,
    ) -> Result<Vec<EnvironmentHealth>, PortError> {
        let all: Vec<String> = self
            .settings
            .environments
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        let visible = self.visible_environments(me);
        let now = self.clock.now();
        let since = now - chrono::Duration::hours(i64::from(RUN_WINDOW_HOURS));
        let workflows = self
            .store
            .list_workflows(WorkflowView {
                environments: &all,
                runs_in: visible.as_deref(),
            })
            .await
            .map_err(internal)?;
        let run_counts = self.store.run_counts_since(since).await.map_err(internal)?;
        let last_finished = self.store.last_finished_runs().await.map_err(internal)?;
        let pending_approvals = self
            .store
            .list_approvals(Some(true), now, PENDING_APPROVALS_READ)
            .await
            .map_err(internal)?;
        let needs_attention = self
            .store
            .needs_attention_counts()
            .await
            .map_err(internal)?;
        Ok(environment_health(HealthFacts {
            needs_attention: &needs_attention,
            environments: visible.as_deref().unwrap_or(&all),
            workflows: &workflows,
            run_counts: &run_counts,
            last_finished: &last_finished,
            pending_approvals: &pending_approvals,
        }))
    }
}

#[async_trait]
impl IdentityPort for GantryPlane {
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
        let environments = match &ctx.principal {
            Some(_) => self.settings.environments.iter().cloned().collect(),
            None => Vec::new(),
        };
        Ok(ShellInfo {
            dev_mode: self.settings.dev_mode,
            principal: ctx.principal.clone(),
            preferences,
            version: self.settings.version.clone(),
            environments,
        })
    }

    async fn sign_in_options(&self, _ctx: &RequestContext) -> Result<SignInOptions, PortError> {
        Ok(SignInOptions {
            dev_users: if self.settings.dev_mode {
                DevUser::seeds()
            } else {
                Vec::new()
            },
            sso: self.settings.sso.is_some(),
            sso_unavailable: self.settings.sso.as_ref().is_some_and(|s| !s.reachable()),
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
        let event = self
            .event(ctx, AuditAction::SignIn, format!("user/{username}"))
            .detail("method", "dev");
        match self.dev_sign_in_checked(ctx, username).await {
            Ok(principal) => {
                // Signing in changes nothing in our tables, so the record is
                // its own transaction; if it can't be written, no session.
                let event = AuditEvent {
                    actor: actor_of(&principal),
                    resource: format!("user/{}", principal.id),
                    ..event
                };
                let recorded = self
                    .store
                    .record_sign_in(&principal.id, self.clock.now(), event.clone())
                    .await
                    .map_err(internal)?;
                if !recorded {
                    let denied = PortError::forbidden(format!(
                        "the account {username:?} was disabled meanwhile"
                    ));
                    return self.settle(event, Err(denied)).await;
                }
                Ok(principal)
            }
            Err(e) => self.settle(event, Err(e)).await,
        }
    }

    async fn sign_out(&self, ctx: &RequestContext) -> Result<(), PortError> {
        let Some(principal) = &ctx.principal else {
            return Ok(());
        };
        let event = self.event(ctx, AuditAction::SignOut, format!("user/{}", principal.id));
        self.store.append_audit(event).await.map_err(internal)?;
        Ok(())
    }

    async fn record_rejected_credential(&self, ctx: &RequestContext, reason: &str) {
        let mut event = self
            .event(ctx, AuditAction::TokenRejected, "token")
            .detail("reason", reason);
        event.outcome = Outcome::Denied;
        self.append_standalone(event).await;
    }

    async fn authorize_metrics_scrape(&self, ctx: &RequestContext) -> Result<(), PortError> {
        self.authorize_view(ctx, &Action::ScrapeMetrics, "metrics")
            .await
            .map(|_| ())
    }

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "overview")
            .await?;
        let migrations = self.store.migration_status().await.map_err(internal)?;
        let health = self.environment_health(me).await?;
        Ok(Overview {
            environments: self.settings.environments.iter().cloned().collect(),
            health,
            run_window_hours: RUN_WINDOW_HOURS,
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
        let resource = ctx
            .principal
            .as_ref()
            .map_or_else(|| "user".to_owned(), |p| format!("user/{}", p.id));
        let event = self
            .event(ctx, AuditAction::PreferencesUpdate, resource)
            .detail(
                "preferences",
                serde_json::to_value(preferences).unwrap_or_default(),
            );
        let result = async {
            let me = self.authorize(ctx, &Action::UpdateOwnPreferences)?;
            let found = self
                .store
                .set_preferences(&me.id, &preferences, self.clock.now(), event.clone())
                .await
                .map_err(internal)?;
            if !found {
                return Err(PortError::Unauthenticated);
            }
            Ok(preferences)
        }
        .await;
        self.settle(event, result).await
    }

    async fn me(&self, ctx: &RequestContext) -> Result<Me, PortError> {
        Ok(Me::from(ctx.require_principal()?))
    }

    async fn oidc_sign_in(
        &self,
        ctx: &RequestContext,
        identity: VerifiedIdentity,
    ) -> Result<Principal, PortError> {
        if self.settings.sso.is_none() {
            return Err(PortError::not_found("single sign-on"));
        }
        let grants = self.settings.role_mapping.grants_for(&identity.groups);
        let base = self
            .event(
                ctx,
                AuditAction::SignIn,
                format!("user/{}", clip(identity.username.clone(), MAX_FIELD_CHARS)),
            )
            .detail("method", METHOD)
            .detail("groups", identity.groups.clone());
        let record = {
            let base = base.clone();
            let name = identity.display_name.clone();
            Box::new(move |id: &UserId| AuditEvent {
                actor: Actor {
                    kind: ActorKind::User,
                    id: id.0.clone(),
                    name,
                },
                resource: format!("user/{id}"),
                ..base
            })
        };
        let outcome = self
            .store
            .upsert_oidc_user(&identity, &grants, self.clock.now(), record)
            .await
            .map_err(internal);
        let result = match outcome {
            Ok(OidcUpsert::SignedIn(id)) => principal_for(&self.store, &id, None)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::forbidden("the account was disabled meanwhile")),
            Ok(OidcUpsert::Disabled(_)) => Err(PortError::forbidden(format!(
                "the account {:?} is disabled; ask an administrator",
                identity.username
            ))),
            Ok(OidcUpsert::UsernameTaken) => Err(PortError::Conflict {
                message: format!(
                    "the username {:?} belongs to another account here; ask an administrator",
                    identity.username
                ),
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(principal) => {
                tracing::info!(
                    request_id = %ctx.request_id,
                    user = %principal.username,
                    roles = %principal.roles_summary(),
                    "single sign-on"
                );
                Ok(principal)
            }
            Err(e) => self.settle(base, Err(e)).await,
        }
    }

    async fn record_failed_sign_in(&self, ctx: &RequestContext, reason: &str) {
        let mut event = self
            .event(ctx, AuditAction::SignIn, "user")
            .detail("method", METHOD)
            .detail("error", clip(reason.to_owned(), MAX_FIELD_CHARS));
        event.outcome = Outcome::Failed;
        self.append_standalone(event).await;
    }
}

impl GantryPlane {
    async fn dev_sign_in_checked(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<Principal, PortError> {
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
        let principal = principal_for(&self.store, &user.id, None)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::forbidden(format!("the account {username:?} is disabled")))?;
        tracing::info!(request_id = %ctx.request_id, user = %principal.username, "dev sign-in");
        Ok(principal)
    }
}
