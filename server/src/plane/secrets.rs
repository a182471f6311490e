//! What people see of secrets, through the port: a run's fetches (from
//! their `secret.fetch` audit records), which provider answers where, and
//! each provider's health. Nothing here fetches or holds a value.
//!
//! Who sees what: a run's fetches, resolved paths included, go to whoever
//! may view the run (a role in its environment, like its logs): the spec
//! that names those paths is visible to the same people, and the records
//! never hold a value. Provider health goes to the Admin area's readers.

use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::secrets::SharedProvider;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{AuditAction, AuditFilter, AuditRecord};
use gantry_core::port::{RequestContext, SecretPort};
use gantry_core::rbac::Action;
use gantry_core::secret::{
    AttemptSecretAccess, FetchRequest, ProviderHealth, SecretCoverage, SecretInvalidated,
    SecretInvalidation, SecretProviderStatus, summarize_fetches,
};
use gantry_core::spec::SecretRef;
use std::collections::BTreeSet;
use std::time::Duration;

/// The longest one provider's health check may take on the Admin page.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);
/// Most fetches one run's list shows: a step has at most 32 references,
/// so this covers many retries of many steps.
const MAX_RUN_ACCESSES: usize = 5_000;
/// How far back the Admin page looks for each provider's last fetch and
/// versions: the newest fetches of all providers together.
const RECENT_FETCHES: u32 = AuditFilter::MAX_LIMIT;

#[async_trait]
impl SecretPort for GantryPlane {
    async fn run_secret_accesses(
        &self,
        ctx: &RequestContext,
        run_id: &str,
    ) -> Result<Vec<AttemptSecretAccess>, PortError> {
        let resource = format!("run/{run_id}");
        self.authorize_view(ctx, &Action::ViewDashboard, &resource)
            .await?;
        uuid_or_not_found("run", run_id)?;
        let run = self
            .store
            .run_summary(run_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {run_id}")))?;
        self.authorize_environment_view(ctx, &run.environment, &resource)
            .await?;
        let mut filter = AuditFilter {
            action: Some(AuditAction::SecretFetch.as_str().to_owned()),
            resource: Some(resource),
            limit: Some(AuditFilter::MAX_LIMIT),
            ..AuditFilter::default()
        };
        let mut accesses = Vec::new();
        loop {
            let page = self.store.audit_page(&filter).await.map_err(internal)?;
            accesses.extend(
                page.records
                    .iter()
                    .filter_map(AttemptSecretAccess::from_record),
            );
            match page.next_before {
                Some(before) if accesses.len() < MAX_RUN_ACCESSES => filter.before = Some(before),
                _ => break,
            }
        }
        accesses.truncate(MAX_RUN_ACCESSES);
        // The log answers newest first; the run page reads in time order.
        accesses.reverse();
        Ok(accesses)
    }

    async fn secret_coverage(&self, ctx: &RequestContext) -> Result<SecretCoverage, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "secret-providers/")
            .await?;
        let configured: Vec<(Option<&str>, &str)> = self
            .settings
            .secrets
            .each()
            .into_iter()
            .map(|(env, name, _)| (env, name))
            .collect();
        Ok(SecretCoverage::of(
            self.settings.environments.iter().map(|e| e.as_str()),
            &configured,
        ))
    }

    async fn secret_providers(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<SecretProviderStatus>, PortError> {
        self.authorize_view(ctx, &Action::ViewAdmin, "secret-providers/")
            .await?;
        let each = self.settings.secrets.each();
        let providers = each.iter().map(|(_, _, p)| (*p).clone()).collect();
        let healths = check_all(providers, HEALTH_TIMEOUT).await;
        let checked_at = self.clock.now();
        let recent = self
            .store
            .audit_page(&AuditFilter {
                action: Some(AuditAction::SecretFetch.as_str().to_owned()),
                limit: Some(RECENT_FETCHES),
                ..AuditFilter::default()
            })
            .await
            .map_err(internal)?
            .records;
        // (environment, name) pairs with an adapter of their own.
        let own: BTreeSet<(&str, &str)> = each
            .iter()
            .filter_map(|(env, name, _)| env.map(|e| (e, *name)))
            .collect();
        Ok(each
            .iter()
            .zip(healths)
            .map(|((scope, name, _), health)| {
                status_of(name, *scope, health, checked_at, &recent, |env| {
                    match (scope, env) {
                        (Some(mine), Some(env)) => *mine == env,
                        (Some(_), None) => false,
                        (None, Some(env)) => !own.contains(&(env, *name)),
                        (None, None) => true,
                    }
                })
            })
            .collect())
    }

    async fn invalidate_secrets(
        &self,
        ctx: &RequestContext,
        request: SecretInvalidation,
    ) -> Result<SecretInvalidated, PortError> {
        let mut event = self.event(ctx, AuditAction::SecretInvalidate, "secrets/cache");
        if let Some(r) = &request.reference {
            event.set_detail("reference", r.as_str());
        }
        if let Some(p) = &request.provider {
            event.set_detail("provider", p.as_str());
        }
        let result = self.invalidate_checked(ctx, &request).await;
        if let Ok(done) = &result {
            event.set_detail("removed", done.removed);
            self.append_standalone(event.clone()).await;
        }
        self.settle(event, result).await
    }
}

fn status_of(
    name: &str,
    scope: Option<&str>,
    health: ProviderHealth,
    checked_at: chrono::DateTime<chrono::Utc>,
    recent: &[AuditRecord],
    answers: impl Fn(Option<&str>) -> bool,
) -> SecretProviderStatus {
    let summary = summarize_fetches(recent, name, answers);
    SecretProviderStatus {
        provider: name.to_owned(),
        environment: scope.map(str::to_owned),
        reachable: health.reachable,
        authenticated: health.authenticated,
        error: health.error,
        checked_at,
        last_fetch: summary.last_fetch,
        versions: summary.versions,
    }
}

/// Every provider's health at once, each bounded by `timeout`, in the
/// order given: one slow provider neither delays nor hides the others.
async fn check_all(providers: Vec<SharedProvider>, timeout: Duration) -> Vec<ProviderHealth> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, provider) in providers.into_iter().enumerate() {
        tasks.spawn(async move {
            let health = tokio::time::timeout(timeout, provider.health())
                .await
                .unwrap_or_else(|_| {
                    unhealthy(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    ))
                });
            (i, health)
        });
    }
    let mut healths: Vec<Option<ProviderHealth>> = Vec::new();
    healths.resize_with(tasks.len(), || None);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((i, health)) => healths[i] = Some(health),
            Err(e) => tracing::error!(error = %e, "a secret provider's health check panicked"),
        }
    }
    healths
        .into_iter()
        .map(|h| h.unwrap_or_else(|| unhealthy("the health check failed".to_owned())))
        .collect()
}

fn unhealthy(error: String) -> ProviderHealth {
    ProviderHealth {
        reachable: false,
        authenticated: false,
        error: Some(error),
    }
}

impl GantryPlane {
    async fn invalidate_checked(
        &self,
        ctx: &RequestContext,
        request: &SecretInvalidation,
    ) -> Result<SecretInvalidated, PortError> {
        self.authorize(ctx, &Action::InvalidateSecrets)?;
        let providers = &self.settings.secrets;
        let (name, parsed) = match (&request.reference, &request.provider) {
            (Some(reference), None) => {
                let parsed =
                    SecretRef::parse(reference).map_err(|e| PortError::invalid("reference", e))?;
                if !parsed.placeholders().is_empty() {
                    return Err(PortError::invalid(
                        "reference",
                        "name the reference as fetches do, with {env} and {workflow} filled in (e.g. vault:kv/data/prod/db#password)",
                    ));
                }
                (parsed.provider().to_owned(), Some(parsed))
            }
            (None, Some(provider)) => (provider.clone(), None),
            _ => {
                return Err(PortError::invalid(
                    "reference",
                    "give either reference (one value) or provider (everything it cached)",
                ));
            }
        };
        if !providers.is_configured(&name) {
            return Err(PortError::not_found(format!(
                "secret provider {name:?} (none is configured on this server by that name)"
            )));
        }
        let cached = providers.is_cached(&name);
        let target = parsed.as_ref().map(|r| FetchRequest {
            path: r.path(),
            key: r.key(),
        });
        let removed = providers.invalidate(&name, target).await;
        Ok(SecretInvalidated { removed, cached })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::secret::{FetchError, FetchRequest, Fetched};
    use std::sync::Arc;

    /// Answers its health check after `delay`, or never.
    struct Slow(Option<Duration>);

    #[async_trait]
    impl gantry_core::secret::SecretProvider for Slow {
        async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
            Err(FetchError::NotFound(request.path.to_owned()))
        }

        async fn health(&self) -> ProviderHealth {
            match self.0 {
                Some(delay) => tokio::time::sleep(delay).await,
                None => std::future::pending::<()>().await,
            }
            ProviderHealth {
                reachable: true,
                authenticated: true,
                error: None,
            }
        }
    }

    #[tokio::test]
    async fn a_provider_that_never_answers_is_unreachable_after_the_bound_and_the_rest_are_shown() {
        let providers: Vec<SharedProvider> = vec![
            Arc::new(Slow(None)),
            Arc::new(Slow(Some(Duration::ZERO))),
            Arc::new(Slow(None)),
        ];
        let started = std::time::Instant::now();
        let healths = check_all(providers, Duration::from_millis(500)).await;
        // At once: one bound after the other would take a second.
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1000), "{took:?}");
        assert_eq!(healths.len(), 3);
        assert!(healths[1].reachable && healths[1].error.is_none());
        for stuck in [&healths[0], &healths[2]] {
            assert!(!stuck.reachable && !stuck.authenticated);
            assert_eq!(stuck.error.as_deref(), Some("no answer within 500ms"));
        }
    }
}
