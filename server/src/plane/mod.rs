//! The control-plane port's implementation: one file per capability, each
//! implementing its trait of `gantry_core::port` directly. Every method
//! authorizes through `gantry_core::rbac::decide` here, once, whichever edge
//! called it, and every change and refusal is audited here (`audit.rs`).
//! This file holds the plane itself and the helpers every capability shares.

mod alerts;
mod approvals;
mod audit;
mod audit_log;
pub mod bundles;
mod dead_letters;
mod delegations;
mod execution;
mod freezes;
mod identity;
pub mod passkeys;
mod people;
mod privacy;
mod promotions;
mod rate_limits;
mod retention;
pub(crate) mod runs;
pub mod scim;
mod secrets;
mod slo;
pub mod tokens;
mod users;
mod webhooks;
mod workflows;

pub use audit::actor_of;
pub use identity::{SsoStatus, principal_for};

use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use gantry_core::port::RequestContext;
use gantry_core::rbac::{Action, Decision, decide};
use gantry_core::role_mapping::RoleMapping;
use gantry_core::step_up;
use gantry_core::{Environment, Environments, PortError, Principal};
use std::sync::Arc;

pub struct PlaneSettings {
    pub dev_mode: bool,
    /// Checks checkpoint signatures in the Audit page's verification.
    pub audit_key: Option<ed25519_dalek::VerifyingKey>,
    pub environments: Environments,
    pub version: String,
    /// Single sign-on, when configured (the sign-in page offers it), with
    /// whether its provider answers.
    pub sso: Option<Arc<SsoStatus>>,
    /// Identity-provider groups → roles, applied at every single sign-on.
    pub role_mapping: RoleMapping,
    /// Sensitive actions need a sign-in at most this old (`--step-up-max-age`).
    pub step_up_max_age: std::time::Duration,
    /// Where tokens may decide approvals (`--token-approvals`; by default
    /// every environment but the last).
    pub token_approvals: Vec<Environment>,
    /// Where people and identity providers reach this server (`--public-url`,
    /// or the bound address): SCIM resource locations start with it.
    pub public_url: String,
    /// Where steps' secret references are fetched from (apply checks a
    /// spec's providers against it; the Admin page shows their health).
    pub secrets: Arc<crate::secrets::SecretProviders>,
    /// Who resolves remote workers' secrets, per environment.
    pub remote_worker_secrets: crate::secrets::remote::RemoteWorkerSecrets,
    /// Where a run's trace is shown (`--trace-link-template`).
    pub trace_link_template: Option<String>,
    /// Channel credentials' sealer and the evaluation loop's wake-up.
    pub alerts: crate::alerting::AlertSettings,
    /// Public keys whose signed bundles this server imports
    /// (`--bundle-trusted-key`); none: it imports none.
    pub bundle_keys: Vec<ed25519_dalek::VerifyingKey>,
    /// The edge's rate limiter: its defaults, and told when overrides change.
    pub rate_limits: Arc<crate::ratelimit::Limiter>,
    /// Backpressure on triggers: limits on unfinished runs.
    pub backlog: crate::store::runs::BacklogLimits,
    /// How long runs, step logs and notification history are kept.
    pub retention: gantry_core::retention::Retention,
    /// Break-glass passkeys: the relying party, the cap, the session length.
    pub break_glass: passkeys::relying_party::BreakGlassSettings,
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
                metrics::counter!("gantry_authz_denied_total", "action" => action.name())
                    .increment(1);
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
/// leaves the server. A store error saying the database can't be reached
/// (down, restarting, refusing connections) is no bug of ours: the caller
/// gets 503 and may retry (the PostgreSQL outage drill answered 500 for a
/// request whose connection the shutdown cut).
pub fn internal<E: std::fmt::Display + 'static>(err: E) -> PortError {
    // Every store call site passes its `StoreError` through here; a type
    // check keeps them all `.map_err(internal)`.
    if let Some(store) = (&err as &dyn std::any::Any).downcast_ref::<crate::store::StoreError>()
        && store.is_unavailable()
    {
        tracing::warn!(error = %err, "the database is unavailable");
        return PortError::Unavailable {
            message: "the database can't be reached; try again shortly".to_owned(),
        };
    }
    // Nothing was written (the transaction rolled back, its audit record
    // with it): the operator frees space and the same request succeeds.
    if let Some(store) = (&err as &dyn std::any::Any).downcast_ref::<crate::store::StoreError>()
        && store.is_out_of_space()
    {
        tracing::error!(error = %err, "the database's disk is full");
        return PortError::Unavailable {
            message: "the database's disk is full: nothing was changed; free space on its volume, then try again".to_owned(),
        };
    }
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, error = %err, "internal error");
    PortError::Internal { reference }
}

#[cfg(test)]
mod internal_tests {
    use super::internal;
    use crate::store::StoreError;
    use gantry_core::PortError;

    #[test]
    fn a_database_out_of_reach_is_503_and_any_other_failure_500() {
        assert!(matches!(
            internal(StoreError::Database(sqlx::Error::PoolTimedOut)),
            PortError::Unavailable { .. }
        ));
        assert!(matches!(
            internal(StoreError::Corrupt("run status".to_owned())),
            PortError::Internal { .. }
        ));
        assert!(matches!(
            internal("a queued notification vanished"),
            PortError::Internal { .. }
        ));
    }

    /// SQLite's real "database or disk is full", from a database capped at
    /// a few pages (what a full volume answers, without filling one).
    #[tokio::test]
    async fn a_full_disk_is_503_saying_what_to_free() {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&mut db)
            .await
            .unwrap();
        sqlx::query("PRAGMA max_page_count = 4")
            .execute(&mut db)
            .await
            .unwrap();
        let full = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&mut db)
            .await
            .unwrap_err();
        let err = StoreError::Database(full);
        assert!(err.is_out_of_space(), "{err}");
        assert!(!err.is_unavailable(), "{err}");
        match internal(err) {
            PortError::Unavailable { message } => {
                assert!(message.contains("disk is full"), "{message}");
                assert!(message.contains("free space"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
