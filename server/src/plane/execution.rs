//! The execution API's half of the port: remote workers lease, heartbeat,
//! log and report step attempts here. Only a worker token's principal gets
//! through (`Action::ExecuteSteps`; a refusal is audited), and it acts as
//! the lease owner `token/instance`, so one worker can't touch another's
//! attempts: the store compares owners on every heartbeat and report, and
//! log lines are taken only for an attempt the caller holds.

use crate::engine::source::{LocalSource, Outcome, WorkSource};
use crate::plane::audit::actor_for;
use crate::plane::{GantryPlane, internal};
use crate::secrets::remote::Resolver;
use crate::store::queue::AttemptKey;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::execution::{
    self, AttemptReport, Beat, ClaimRequest, HeartbeatRequest, Lease, LogBatch, SecretAccessBatch,
    SecretsDelivery, SecretsRequest, Settlement,
};
use gantry_core::port::{ExecutionPort, RequestContext};
use gantry_core::rbac::Action;
use gantry_core::secret::FetchedBy;
use std::time::Duration;

/// A claim re-checks the queue at least this often while it waits (the
/// work signal normally wakes it first).
const CLAIM_POLL: Duration = Duration::from_secs(1);

impl GantryPlane {
    /// The caller's lease owner name, once it is known to be a worker.
    async fn worker_owner(
        &self,
        ctx: &RequestContext,
        instance: &str,
        resource: &str,
    ) -> Result<String, PortError> {
        let worker = self
            .authorize_view(ctx, &Action::ExecuteSteps, resource)
            .await?;
        execution::check_instance(instance).map_err(invalid)?;
        Ok(execution::lease_owner(&worker.username, instance))
    }

    /// Whether the server fetches remote workers' secrets in `environment`.
    fn server_resolves(&self, environment: &str) -> bool {
        self.settings
            .remote_worker_secrets
            .resolver_for(environment)
            == Resolver::Server
    }

    /// Refuses a call about an attempt whose lease `owner` doesn't hold.
    async fn require_held(
        &self,
        attempt: &execution::AttemptRef,
        owner: &str,
    ) -> Result<(), PortError> {
        let held = self
            .store
            .attempt_held_by(key(attempt), owner)
            .await
            .map_err(internal)?;
        if held {
            Ok(())
        } else {
            Err(PortError::Conflict {
                message: "you don't hold this attempt's lease (it expired, or another worker holds it): stop the attempt".into(),
            })
        }
    }

    async fn run_of(&self, run_id: &str) -> Result<gantry_core::run::RunSummary, PortError> {
        self.store
            .run_summary(run_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {run_id}")))
    }

    fn source_for(&self, owner: String) -> LocalSource {
        LocalSource::new(self.store.clone(), self.clock.clone(), owner, CLAIM_POLL)
    }
}

fn invalid((field, message): (&'static str, String)) -> PortError {
    PortError::invalid(field, message)
}

/// The attempt a request names, as the store addresses it.
fn key(attempt: &execution::AttemptRef) -> AttemptKey<'_> {
    AttemptKey {
        run_id: &attempt.run_id,
        step_id: &attempt.step_id,
        attempt: attempt.attempt,
    }
}

#[async_trait]
impl ExecutionPort for GantryPlane {
    async fn claim_steps(
        &self,
        ctx: &RequestContext,
        request: ClaimRequest,
    ) -> Result<Vec<Lease>, PortError> {
        let owner = self
            .worker_owner(ctx, &request.instance, "exec/claim")
            .await?;
        execution::check_claim(&request).map_err(invalid)?;
        let mut leases = self
            .source_for(owner)
            .claim(
                request.limit,
                Duration::from_millis(u64::from(request.wait_ms)),
                Duration::from_millis(u64::from(request.lease_ms)),
            )
            .await
            .map_err(internal)?;
        for lease in &mut leases {
            lease.secrets_from_server = self.server_resolves(&lease.environment);
        }
        Ok(leases)
    }

    async fn heartbeat(
        &self,
        ctx: &RequestContext,
        request: HeartbeatRequest,
    ) -> Result<Beat, PortError> {
        let owner = self
            .worker_owner(ctx, &request.attempt.instance, "exec/heartbeat")
            .await?;
        execution::check_lease(request.lease_ms).map_err(invalid)?;
        self.store
            .heartbeat(
                key(&request.attempt),
                &owner,
                self.clock.now(),
                Duration::from_millis(u64::from(request.lease_ms)),
            )
            .await
            .map_err(internal)
    }

    async fn append_logs(&self, ctx: &RequestContext, batch: LogBatch) -> Result<(), PortError> {
        let owner = self
            .worker_owner(ctx, &batch.attempt.instance, "exec/logs")
            .await?;
        execution::check_logs(&batch).map_err(invalid)?;
        self.require_held(&batch.attempt, &owner).await?;
        self.source_for(owner)
            .append_logs_of(key(&batch.attempt), batch.lines)
            .await
            .map_err(internal)
    }

    async fn record_secret_accesses(
        &self,
        ctx: &RequestContext,
        batch: SecretAccessBatch,
    ) -> Result<(), PortError> {
        let owner = self
            .worker_owner(ctx, &batch.attempt.instance, "exec/secret-accesses")
            .await?;
        execution::check_secret_accesses(&batch).map_err(invalid)?;
        self.require_held(&batch.attempt, &owner).await?;
        // The run's environment from the store, not the worker's word.
        let run = self.run_of(&batch.attempt.run_id).await?;
        let actor = actor_for(ctx);
        let by = FetchedBy {
            run_id: &batch.attempt.run_id,
            step_id: &batch.attempt.step_id,
            attempt: batch.attempt.attempt,
            environment: &run.environment,
        };
        self.source_for(owner)
            .record_secret_accesses_of(by, &actor, &batch.accesses, false)
            .await
            .map_err(internal)
    }

    async fn deliver_secrets(
        &self,
        ctx: &RequestContext,
        request: SecretsRequest,
    ) -> Result<SecretsDelivery, PortError> {
        let attempt = &request.attempt;
        let owner = self
            .worker_owner(ctx, &attempt.instance, "exec/secrets")
            .await?;
        self.require_held(attempt, &owner).await?;
        let run = self.run_of(&attempt.run_id).await?;
        // Deny by default: values leave the server only where configured.
        if !self.server_resolves(&run.environment) {
            return Err(PortError::Forbidden {
                reason: format!(
                    "the server doesn't hand out {}'s secrets (--remote-worker-secrets): this worker resolves them with its own credentials",
                    run.environment
                ),
            });
        }
        let workflow_id = self
            .store
            .workflow_id(&run.workflow)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::NotFound {
                what: format!("workflow {}", run.workflow),
            })?;
        let spec = self
            .store
            .version_spec(&workflow_id, run.version)
            .await
            .map_err(internal)?;
        let step = spec
            .step(&attempt.step_id)
            .ok_or_else(|| PortError::NotFound {
                what: format!(
                    "step {} of {} v{}",
                    attempt.step_id, run.workflow, run.version
                ),
            })?;
        let fetched = crate::secrets::resolve(
            &self.settings.secrets,
            step,
            &run.environment,
            &run.workflow,
            None,
        )
        .await;
        let actor = actor_for(ctx);
        let by = FetchedBy {
            run_id: &attempt.run_id,
            step_id: &attempt.step_id,
            attempt: attempt.attempt,
            environment: &run.environment,
        };
        // Fail closed: no value leaves unless every fetch is on record.
        self.source_for(owner)
            .record_secret_accesses_of(by, &actor, &fetched.accesses, true)
            .await
            .map_err(internal)?;
        let secrets = match fetched.failure {
            Some(_) => Vec::new(),
            None => fetched.to_delivery(),
        };
        Ok(SecretsDelivery {
            secrets,
            accesses: fetched.accesses.clone(),
            failure: fetched.failure.clone(),
        })
    }

    async fn report_attempt(
        &self,
        ctx: &RequestContext,
        report: AttemptReport,
    ) -> Result<Settlement, PortError> {
        let owner = self
            .worker_owner(ctx, &report.attempt.instance, "exec/report")
            .await?;
        execution::check_report(&report).map_err(invalid)?;
        let accepted = self
            .source_for(owner)
            .report_of(
                key(&report.attempt),
                Outcome {
                    end: report.end,
                    exit_code: report.exit_code,
                    error: report.error,
                    outputs: report.outputs,
                },
            )
            .await
            .map_err(internal)?;
        Ok(Settlement { accepted })
    }
}
