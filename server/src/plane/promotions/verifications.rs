//! Verification after promotion in the port: the pass that starts the run
//! of each pending verification (the row was written with its ledger row)
//! and records each finished one, rolling back a promotion whose
//! verification failed when the policy says so. The rules are
//! `core::promotion::verification`'s.

use super::rollback::MoveBack;
use super::*;
use crate::engine::admission;
use crate::store::runs::NewRun;
use crate::store::verifications::{VerificationOutcome, VerificationQuery};
use crate::store::{StoreError, versions::ActiveSpec};
use gantry_core::promotion::verification::{
    Verification, VerificationState, inputs_for, outcome_of,
};
use gantry_core::run::Trigger;
use gantry_core::spec;

/// Who starts verification runs and rolls back after a failed one.
const VERIFIER_ID: &str = "system:verification";
const VERIFIER_NAME: &str = "Gantry (verification)";

/// A claimed verification whose run doesn't exist after this long was
/// claimed by a process that stopped before creating it.
const LOST_RUN_AFTER: chrono::Duration = chrono::Duration::minutes(1);

impl GantryPlane {
    /// Starts pending verifications and records finished ones. `serve`
    /// calls it with the promotion gate; racing callers start and finish
    /// each one once (the store's compare-and-set on its state).
    pub async fn advance_verifications(&self) -> Result<(), PortError> {
        let open = self
            .store
            .open_verifications(LIST_LIMIT)
            .await
            .map_err(internal)?;
        for v in open {
            let step = match v.state {
                VerificationState::Pending => self.start_verification(&v).await,
                _ => self.settle_verification(&v).await,
            };
            if let Err(e) = step {
                tracing::warn!(verification = %v.id, error = %e, "could not advance a verification");
            }
        }
        Ok(())
    }

    fn verification_event(&self, action: AuditAction, v: &Verification) -> AuditEvent {
        let mut event = self.event(
            &verification_context(),
            action,
            format!("workflow/{}", v.workflow),
        );
        event.environment = Some(v.environment.clone());
        event.set_detail("verification", v.id.clone());
        event.set_detail("verifier", v.verifier.clone());
        event.set_detail("version", v.version);
        event.set_detail("deployment", v.deployment_id.clone());
        event
    }

    /// Claims `v` and creates its run (whose id is the verification's). A
    /// run that can't be created fails the verification with the reason.
    async fn start_verification(&self, v: &Verification) -> Result<(), PortError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_verification(
                &v.id,
                now,
                self.verification_event(AuditAction::VerificationStart, v),
            )
            .await
            .map_err(internal)?;
        if !claimed {
            return Ok(());
        }
        match self.create_verification_run(v).await {
            Ok(()) => Ok(()),
            Err(why) => {
                let failed = Verification {
                    state: VerificationState::Failed,
                    why: Some(why),
                    ..v.clone()
                };
                self.finish_verification(&failed).await
            }
        }
    }

    /// The verification's run, admitted like any run there (a canary of
    /// the verification workflow takes its share). Four-eyes approval
    /// doesn't apply: Gantry starts it as part of a move people already
    /// made. `Err`: why it can't run, for the record.
    async fn create_verification_run(&self, v: &Verification) -> Result<(), String> {
        let env = &v.environment;
        let active = self
            .store
            .active_spec(&v.verifier, env)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "the verification workflow {} has no active version in {env}; apply and \
                     promote it there",
                    v.verifier
                )
            })?;
        let inputs_of = |active: &ActiveSpec| {
            spec::resolve_inputs(&active.spec.inputs, &inputs_for(&active.spec.inputs, v)).map_err(
                |problems| {
                    format!(
                        "the verification workflow {}'s inputs can't be filled: {}",
                        v.verifier,
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                },
            )
        };
        let now = self.clock.now();
        let mut tries = 0;
        loop {
            tries += 1;
            let admission = admission::admit(
                &*self.store,
                active.clone(),
                env,
                &v.id,
                &BTreeMap::new(),
                None,
            )
            .await
            .map_err(|e| e.to_string())?
            .map_err(|refused| refused.message)?;
            let inputs = inputs_of(&admission.active)?;
            let mut audit = self
                .event(
                    &verification_context(),
                    AuditAction::RunTrigger,
                    format!("workflow/{}", v.verifier),
                )
                .detail("version", admission.active.version)
                .detail("verification", v.id.clone())
                .detail("verifies", format!("{} version {}", v.workflow, v.version));
            audit.environment = Some(env.clone());
            if let Some((_, arm)) = &admission.canary {
                audit.set_detail("canary_arm", arm.as_str());
            }
            let created = self
                .store
                .create_run(
                    NewRun {
                        id: v.id.clone(),
                        active: &admission.active,
                        canary: admission.canary_tag(),
                        pinned: false,
                        environment: env,
                        inputs: &inputs,
                        trigger: Trigger::Api,
                        triggered_by: VERIFIER_NAME,
                        triggered_by_id: VERIFIER_ID,
                        scheduled_for: None,
                        traceparent: None,
                        // Part of a move people already made: no backpressure.
                        backlog: None,
                        rerun: None,
                    },
                    now,
                    audit,
                )
                .await;
            match created {
                Err(StoreError::CanaryEnded) if tries < 3 => continue,
                Err(e) => return Err(e.to_string()),
                Ok(run) => {
                    self.store
                        .admit(&active.workflow_id, env, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(verification = %v.id, run = %run.id, workflow = %v.workflow,
                        environment = %env, verifier = %v.verifier, "verification started");
                    crate::runtime::metrics::run_started(&v.verifier, env, Trigger::Api.as_str());
                    return Ok(());
                }
            }
        }
    }

    /// Records the outcome of a running verification whose run finished.
    async fn settle_verification(&self, v: &Verification) -> Result<(), PortError> {
        let run = self.store.run_summary(&v.id).await.map_err(internal)?;
        let (state, why) = match run {
            Some(run) => match outcome_of(&run.id, run.status) {
                Some(outcome) => outcome,
                None => return Ok(()),
            },
            None if v
                .started_at
                .is_some_and(|at| self.clock.now() - at > LOST_RUN_AFTER) =>
            {
                (
                    VerificationState::Failed,
                    "its run was never created (the process starting it stopped)".to_owned(),
                )
            }
            None => return Ok(()),
        };
        self.finish_verification(&Verification {
            state,
            why: Some(why),
            ..v.clone()
        })
        .await
    }

    /// Records `v`'s outcome, rolling back first when its failure does.
    async fn finish_verification(&self, v: &Verification) -> Result<(), PortError> {
        let rollback_id = if v.state == VerificationState::Failed {
            self.roll_back_failed_verification(v).await?
        } else {
            None
        };
        let action = if v.state == VerificationState::Passed {
            AuditAction::VerificationPass
        } else {
            AuditAction::VerificationFail
        };
        let why = v.why.clone().unwrap_or_default();
        let mut event = self.verification_event(action, v);
        event.set_detail("why", why.clone());
        if let Some(id) = &rollback_id {
            event.set_detail("rollback", id.clone());
        }
        let finished = self
            .store
            .finish_verification(
                VerificationOutcome {
                    id: &v.id,
                    state: v.state,
                    why: &why,
                    rollback_id: rollback_id.as_deref(),
                    at: self.clock.now(),
                },
                event,
            )
            .await
            .map_err(internal)?;
        if finished {
            tracing::info!(verification = %v.id, workflow = %v.workflow,
                environment = %v.environment, state = v.state.as_str(), "verification finished");
        }
        Ok(())
    }

    /// Rolls `v`'s environment back to what its promotion replaced, when
    /// its policy says so and that promotion is still the last move there.
    /// Returns the rollback's ledger row. A live canary there ends first,
    /// as for a person's rollback.
    async fn roll_back_failed_verification(
        &self,
        v: &Verification,
    ) -> Result<Option<String>, PortError> {
        let workflow_id = self
            .store
            .workflow_id(&v.workflow)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("workflow {}", v.workflow)))?;
        let history = self
            .store
            .deployment_history(&workflow_id, &v.environment)
            .await
            .map_err(internal)?;
        let last = last_move(&history, &v.environment);
        if !v.rolls_back(last.map(|d| d.id.as_str())) {
            return Ok(None);
        }
        let Some(to) = last.and_then(|d| d.from_version) else {
            return Ok(None);
        };
        let ctx = verification_context();
        let system = Person {
            id: VERIFIER_ID.into(),
            name: VERIFIER_NAME.into(),
        };
        let run = v.run_id.as_deref().unwrap_or(&v.id);
        let reason = format!(
            "verification {} of version {} failed: {} (run {run})",
            v.verifier,
            v.version,
            v.why.as_deref().unwrap_or("no reason recorded")
        );
        let mut event = self.event(
            &ctx,
            AuditAction::WorkflowRollback,
            format!("workflow/{}", v.workflow),
        );
        event.environment = Some(v.environment.clone());
        event.set_detail("reason", reason.clone());
        event.set_detail("verification", v.id.clone());
        let moved = self
            .move_back(
                &ctx,
                MoveBack {
                    workflow_id: &workflow_id,
                    workflow: &v.workflow,
                    environment: &v.environment,
                    from: v.version,
                    to,
                    actor: &system,
                    reason: &reason,
                },
                event,
            )
            .await?;
        Ok(match moved {
            Moved::Done(d) => {
                tracing::info!(workflow = %v.workflow, environment = %v.environment,
                    from = v.version, to, deployment = %d.id, "rolled back after a failed verification");
                Some(d.id)
            }
            // Someone moved it meanwhile: theirs stands.
            Moved::Stale { .. } | Moved::NotPending(_) => None,
        })
    }

    /// The verifications a caller may see, newest first.
    pub(super) async fn visible_verifications(
        &self,
        ctx: &RequestContext,
        workflow: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<Verification>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "verification/")
            .await?;
        if let Some(env) = environment {
            self.environment(env)?;
            self.authorize_environment_view(ctx, env, "verification/")
                .await?;
        }
        let visible = self.visible_environments(me);
        self.store
            .verifications(VerificationQuery {
                workflow,
                environment,
                visible: visible.as_deref(),
                limit: LIST_LIMIT,
            })
            .await
            .map_err(internal)
    }
}

/// The verification pass acting on its own.
fn verification_context() -> RequestContext {
    super::gate::system_context(VERIFIER_ID, "gantry-verification", VERIFIER_NAME)
}
