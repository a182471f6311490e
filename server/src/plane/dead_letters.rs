//! Dead letters through the port: re-running failed runs (same version,
//! active version, or from the failed step) and dismissing them, each run
//! authorized and audited on its own, in the transaction that changes it.
//! Listing them is `list_runs` with `attention`.

use crate::plane::runs::overloaded;
use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::StoreError;
use crate::store::runs::{Dismissed, NewRun, RerunLink};
use crate::store::versions::ActiveSpec;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{DeadLetterPort, RequestContext};
use gantry_core::rbac::Action;
use gantry_core::run::attention::{
    BulkResult, DismissAsk, MAX_NOTE_CHARS, RerunAsk, RerunMode, check_bulk,
};
use gantry_core::run::{RunDetail, Trigger};
use gantry_core::spec;
use std::sync::Arc;

#[async_trait]
impl DeadLetterPort for GantryPlane {
    async fn rerun_runs(
        &self,
        ctx: &RequestContext,
        ask: RerunAsk,
    ) -> Result<Vec<BulkResult>, PortError> {
        ctx.require_principal()?;
        check_bulk(&ask.runs)?;
        self.authorize_all(ctx, &ask.runs, AuditAction::RunRerun, |environment| {
            Action::TriggerRun { environment }
        })
        .await?;
        let mut results = Vec::with_capacity(ask.runs.len());
        for id in &ask.runs {
            let mut event = self
                .event(ctx, AuditAction::RunRerun, format!("run/{id}"))
                .detail("mode", ask.mode.as_str());
            let result = self.rerun_one(ctx, id, ask.mode, &mut event).await;
            results.push(match self.settle(event, result).await {
                Ok(rerun) => BulkResult {
                    run: id.clone(),
                    ok: true,
                    rerun: Some(rerun),
                    approval: None,
                    error: None,
                },
                Err(e) => failed(id, &e),
            });
        }
        Ok(results)
    }

    async fn dismiss_runs(
        &self,
        ctx: &RequestContext,
        ask: DismissAsk,
    ) -> Result<Vec<BulkResult>, PortError> {
        ctx.require_principal()?;
        check_bulk(&ask.runs)?;
        let note = ask.note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
            return Err(PortError::invalid(
                "note",
                format!("say why (1 to {MAX_NOTE_CHARS} characters): it stays with the runs"),
            ));
        }
        gantry_core::text::check(note, MAX_NOTE_CHARS, gantry_core::text::Lines::Many)
            .map_err(|why| PortError::invalid("note", format!("the note {why}")))?;
        self.authorize_all(ctx, &ask.runs, AuditAction::RunDismiss, |environment| {
            Action::CancelRun { environment }
        })
        .await?;
        let mut results = Vec::with_capacity(ask.runs.len());
        for id in &ask.runs {
            let mut event = self.event(ctx, AuditAction::RunDismiss, format!("run/{id}"));
            let result = self.dismiss_one(ctx, id, note, &mut event).await;
            results.push(match self.settle(event, result).await {
                Ok(()) => BulkResult {
                    run: id.clone(),
                    ok: true,
                    rerun: None,
                    approval: None,
                    error: None,
                },
                Err(e) => failed(id, &e),
            });
        }
        Ok(results)
    }
}

fn failed(id: &str, e: &PortError) -> BulkResult {
    BulkResult {
        run: id.to_owned(),
        ok: false,
        rerun: None,
        approval: None,
        error: Some(e.to_string()),
    }
}

impl GantryPlane {
    /// Refuses the whole request, before anything changes, when the caller
    /// may not act on one of the runs (on the record as denied): a bulk
    /// action is not half done for want of a role. Runs that don't exist
    /// are left to their own result.
    async fn authorize_all(
        &self,
        ctx: &RequestContext,
        runs: &[String],
        audit: AuditAction,
        action: impl Fn(gantry_core::Environment) -> Action,
    ) -> Result<(), PortError> {
        for id in runs {
            if uuid_or_not_found("run", id).is_err() {
                continue;
            }
            let Some(run) = self.store.run_summary(id).await.map_err(internal)? else {
                continue;
            };
            let env = self.environment(&run.environment)?;
            let action = action(env.clone());
            let checked = self.authorize(ctx, &action).and_then(|me| {
                if matches!(action, Action::TriggerRun { .. }) {
                    self.require_recent_sign_in(me, Some(&action))
                } else {
                    Ok(())
                }
            });
            if let Err(e) = checked {
                let mut event = self.event(ctx, audit, format!("run/{id}"));
                event.environment = Some(run.environment.clone());
                return self.settle(event, Err(e)).await;
            }
        }
        Ok(())
    }

    /// A failed run still on the list, after the caller may `action` in
    /// its environment (`action` is built from it).
    async fn open_failure(
        &self,
        ctx: &RequestContext,
        id: &str,
        event: &mut AuditEvent,
        action: impl Fn(gantry_core::Environment) -> Action,
    ) -> Result<(RunDetail, gantry_core::Environment), PortError> {
        uuid_or_not_found("run", id)?;
        let run = self
            .store
            .run_detail(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))?;
        let env = self.environment(&run.summary.environment)?;
        event.environment = Some(env.as_str().to_owned());
        event.set_detail("workflow", run.summary.workflow.clone());
        let action = action(env.clone());
        let me = self.authorize(ctx, &action)?;
        if matches!(action, Action::TriggerRun { .. }) {
            self.require_recent_sign_in(me, Some(&action))?;
        }
        match &run.attention {
            Some(a) if a.open => Ok((run, env)),
            Some(a) => Err(PortError::Conflict {
                message: match &a.rerun {
                    Some(rerun) => format!("run {id} was re-run already (run {rerun})"),
                    None => format!("run {id} was dismissed already"),
                },
            }),
            None => Err(PortError::Conflict {
                message: format!(
                    "run {id} {}: only failed or timed-out runs need attention",
                    run.summary.status
                ),
            }),
        }
    }

    async fn rerun_one(
        &self,
        ctx: &RequestContext,
        id: &str,
        mode: RerunMode,
        event: &mut AuditEvent,
    ) -> Result<String, PortError> {
        let (original, env) = self
            .open_failure(ctx, id, event, |environment| Action::TriggerRun {
                environment,
            })
            .await?;
        let me = ctx.require_principal()?;
        let workflow = &original.summary.workflow;
        let active = self
            .store
            .active_spec(workflow, env.as_str())
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::Conflict {
                message: format!("workflow {workflow} has no active version in {env} any more"),
            })?;
        // Same version and from the failed step run the original's
        // version, whatever is active now (the steps it keeps came from it).
        let (chosen, pinned) = match mode {
            RerunMode::ActiveVersion => (active, false),
            RerunMode::SameVersion | RerunMode::FromFailedStep => {
                let version = original.summary.version;
                let spec = self
                    .store
                    .version_spec(&active.workflow_id, version)
                    .await
                    .map_err(internal)?;
                (
                    ActiveSpec {
                        workflow_id: active.workflow_id.clone(),
                        workflow: workflow.clone(),
                        version,
                        spec: Arc::clone(&spec),
                    },
                    true,
                )
            }
        };
        if chosen.spec.needs_approval_in(env.as_str()) {
            return Err(PortError::Conflict {
                message: format!(
                    "runs of {workflow} in {env} need approval, which a re-run can't ask for: \
                     trigger it from the workflow's page (an approval request is filed), then \
                     dismiss this run with a note"
                ),
            });
        }
        let inputs = spec::resolve_inputs(&chosen.spec.inputs, &original.inputs).map_err(
            |problems| PortError::Unprocessable {
                message: format!(
                    "run {id}'s inputs don't fit version {} (re-run with the same version instead)",
                    chosen.version
                ),
                problems,
            },
        )?;
        let rerun_id = uuid::Uuid::now_v7().to_string();
        event.set_detail("rerun", rerun_id.clone());
        event.set_detail("version", chosen.version);
        let now = self.clock.now();
        let created = self
            .store
            .create_run(
                NewRun {
                    id: rerun_id.clone(),
                    active: &chosen,
                    canary: None,
                    pinned,
                    environment: env.as_str(),
                    inputs: &inputs,
                    trigger: Trigger::Manual,
                    triggered_by: &me.display_name,
                    triggered_by_id: &me.id.0,
                    scheduled_for: None,
                    traceparent: crate::runtime::telemetry::context::current_traceparent(),
                    backlog: Some(self.settings.backlog),
                    rerun: Some(RerunLink { of: id, mode }),
                },
                now,
                event.clone(),
            )
            .await;
        match created {
            Ok(_) => {}
            Err(StoreError::Backlogged(refused)) => {
                crate::runtime::metrics::backpressure(refused.scope);
                return Err(overloaded(refused, workflow, env.as_str()));
            }
            Err(StoreError::AttentionClosed) => {
                return Err(PortError::Conflict {
                    message: format!("run {id} was re-run or dismissed meanwhile"),
                });
            }
            Err(e) => return Err(internal(e)),
        }
        self.admit_committed(&chosen.workflow_id, env.as_str(), now)
            .await;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, run = %id,
            rerun = %rerun_id, mode = mode.as_str(), "failed run re-run");
        crate::runtime::metrics::run_started(workflow, env.as_str(), Trigger::Manual.as_str());
        Ok(rerun_id)
    }

    async fn dismiss_one(
        &self,
        ctx: &RequestContext,
        id: &str,
        note: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        self.open_failure(ctx, id, event, |environment| Action::CancelRun {
            environment,
        })
        .await?;
        let me = ctx.require_principal()?;
        event.set_detail("note", note);
        match self
            .store
            .dismiss_run(id, &me.display_name, note, self.clock.now(), event.clone())
            .await
            .map_err(internal)?
        {
            Dismissed::Done => Ok(()),
            Dismissed::NotFound => Err(PortError::not_found(format!("run {id}"))),
            Dismissed::NotOpen => Err(PortError::Conflict {
                message: format!("run {id} was re-run or dismissed meanwhile"),
            }),
        }
    }
}
