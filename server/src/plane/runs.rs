//! Runs through the port: starting one (or filing an approval request
//! where the workflow needs one), listing and reading runs and their logs,
//! and cancelling.

use crate::engine::admission;
use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::StoreError;
use crate::store::runs::{CancelOutcome, NewRun};
use async_trait::async_trait;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, RunPort};
use gantry_core::rbac::Action;
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerOutcome,
    TriggerRequest,
};
use gantry_core::spec;
use gantry_core::{Environment, PortError};

#[async_trait]
impl RunPort for GantryPlane {
    async fn trigger_run(
        &self,
        ctx: &RequestContext,
        request: TriggerRequest,
        trigger: Trigger,
    ) -> Result<TriggerOutcome, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::RunTrigger,
            format!("workflow/{}", request.workflow),
        );
        event.environment = Some(request.environment.clone());
        event.set_detail("trigger", trigger.as_str());
        // Input names only: values may be sensitive and stay with the run.
        event.set_detail(
            "inputs",
            request.inputs.keys().cloned().collect::<Vec<String>>(),
        );
        let result = self.trigger_checked(ctx, request, trigger, &event).await;
        self.settle(event, result).await
    }

    async fn list_runs(
        &self,
        ctx: &RequestContext,
        filter: RunFilter,
    ) -> Result<RunPage, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "run/")
            .await?;
        let mut filter = filter;
        if let Some(env) = &filter.environment {
            self.environment(env)?;
            self.authorize_environment_view(ctx, env, "run/").await?;
        }
        filter.visible_environments = self.visible_environments(me);
        if let Some(before) = &filter.before
            && uuid::Uuid::parse_str(before).is_err()
        {
            return Err(PortError::invalid(
                "before",
                "not a run id; pass next_before from the previous page",
            ));
        }
        self.store.list_runs(&filter).await.map_err(internal)
    }

    async fn run(&self, ctx: &RequestContext, id: &str) -> Result<RunDetail, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("run/{id}"))
            .await?;
        check_run_id(id)?;
        let mut detail = self
            .store
            .run_detail(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))?;
        self.authorize_environment_view(ctx, &detail.summary.environment, &format!("run/{id}"))
            .await?;
        detail.trace_url = detail
            .trace_id
            .as_deref()
            .zip(self.settings.trace_link_template.as_deref())
            .map(|(id, template)| template.replace("{trace_id}", id));
        Ok(detail)
    }

    async fn run_logs(
        &self,
        ctx: &RequestContext,
        id: &str,
        query: LogQuery,
    ) -> Result<LogPage, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("run/{id}"))
            .await?;
        check_run_id(id)?;
        let run = self
            .store
            .run_summary(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))?;
        self.authorize_environment_view(ctx, &run.environment, &format!("run/{id}"))
            .await?;
        self.store
            .run_logs(id, &query)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))
    }

    async fn cancel_run(&self, ctx: &RequestContext, id: &str) -> Result<RunSummary, PortError> {
        let mut event = self.event(ctx, AuditAction::RunCancel, format!("run/{id}"));
        let result = self.cancel_checked(ctx, id, &mut event).await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    async fn trigger_checked(
        &self,
        ctx: &RequestContext,
        request: TriggerRequest,
        trigger: Trigger,
        event: &AuditEvent,
    ) -> Result<TriggerOutcome, PortError> {
        let env = self.environment(&request.environment)?;
        let action = Action::TriggerRun {
            environment: env.clone(),
        };
        let me = self.authorize(ctx, &action)?;
        self.require_recent_sign_in(me, Some(&action))?;
        let active = self
            .store
            .active_spec(&request.workflow, env.as_str())
            .await
            .map_err(internal)?;
        let Some(active) = active else {
            return Err(
                if self
                    .store
                    .workflow_exists(&request.workflow)
                    .await
                    .map_err(internal)?
                {
                    PortError::Conflict {
                        message: format!(
                            "workflow {:?} has no active version in {env}; promote one there first",
                            request.workflow
                        ),
                    }
                } else {
                    PortError::not_found(format!("workflow {:?}", request.workflow))
                },
            );
        };
        let inputs =
            spec::resolve_inputs(&active.spec.inputs, &request.inputs).map_err(|problems| {
                PortError::Unprocessable {
                    message: "the run's inputs are invalid".into(),
                    problems,
                }
            })?;
        let now = self.clock.now();
        // Four eyes approve the version active now; it runs when approved.
        if trigger != Trigger::Schedule && active.spec.needs_approval_in(env.as_str()) {
            let approval = self
                .request_approval(
                    ctx,
                    &active,
                    env.as_str(),
                    &inputs,
                    request.reason.as_deref(),
                )
                .await?;
            return Ok(TriggerOutcome::AwaitingApproval { approval });
        }
        let run_id = uuid::Uuid::now_v7().to_string();
        // A canary ending between the pick and the write makes the store
        // refuse the canary side; the next pick sees it ended.
        let mut tries = 0;
        let run = loop {
            tries += 1;
            let admission = admission::admit(
                &*self.store,
                active.clone(),
                env.as_str(),
                &run_id,
                &inputs,
                request.version,
            )
            .await
            .map_err(internal)?
            .map_err(|refused| PortError::Conflict {
                message: refused.message,
            })?;
            let inputs = if admission.active.version == active.version {
                inputs.clone()
            } else {
                spec::resolve_inputs(&admission.active.spec.inputs, &request.inputs).map_err(
                    |problems| PortError::Unprocessable {
                        message: format!(
                            "the run's inputs are invalid for version {}, which this run gets \
                             (a canary of it runs in {env})",
                            admission.active.version
                        ),
                        problems,
                    },
                )?
            };
            let mut audit = event.clone().detail("version", admission.active.version);
            if let Some((_, arm)) = &admission.canary {
                audit.set_detail("canary_arm", arm.as_str());
            }
            let created = self
                .store
                .create_run(
                    NewRun {
                        id: run_id.clone(),
                        active: &admission.active,
                        canary: admission.canary_tag(),
                        pinned: admission.pinned,
                        environment: env.as_str(),
                        inputs: &inputs,
                        trigger,
                        triggered_by: &me.display_name,
                        triggered_by_id: &me.id.0,
                        scheduled_for: None,
                        traceparent: crate::runtime::telemetry::context::current_traceparent(),
                        backlog: Some(self.settings.backlog),
                        rerun: None,
                    },
                    now,
                    audit,
                )
                .await;
            match created {
                Err(StoreError::CanaryEnded) if tries < 3 => continue,
                Err(StoreError::Backlogged(refused)) => {
                    crate::runtime::metrics::backpressure(refused.scope);
                    return Err(overloaded(refused, &active.workflow, env.as_str()));
                }
                other => break other.map_err(internal)?,
            }
        };
        self.admit_committed(&active.workflow_id, env.as_str(), now)
            .await;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, run = %run.id,
            workflow = %run.workflow, environment = %env, "run triggered");
        crate::runtime::metrics::run_started(&run.workflow, env.as_str(), trigger.as_str());
        // Committed: the caller is told of the run however this read goes.
        let fresh = self.store.run_summary(&run.id).await.ok().flatten();
        Ok(TriggerOutcome::Started {
            run: fresh.unwrap_or(run),
        })
    }

    /// Moves `workflow_id`'s queued runs in `environment` to running as
    /// far as its concurrency allows, after a change that queued one has
    /// committed. Never fails the request: the change stands whatever
    /// happens here (telling the caller it didn't would be a lie the
    /// disk-full drill caught), and the scheduler admits every lane on its
    /// next pass anyway.
    pub(crate) async fn admit_committed(
        &self,
        workflow_id: &str,
        environment: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        if let Err(e) = self.store.admit(workflow_id, environment, now).await {
            tracing::warn!(workflow_id, environment, error = %e,
                "could not admit queued runs now; the scheduler's next pass will");
        }
    }

    async fn cancel_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        event: &mut AuditEvent,
    ) -> Result<RunSummary, PortError> {
        check_run_id(id)?;
        let run = self
            .store
            .run_summary(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))?;
        event.environment = Some(run.environment.clone());
        event.set_detail("workflow", run.workflow.clone());
        let env = Environment::parse(&run.environment).map_err(internal)?;
        let me = self.authorize(ctx, &Action::CancelRun { environment: env })?;
        match self
            .store
            .cancel_run(id, self.clock.now(), event.clone())
            .await
            .map_err(internal)?
        {
            CancelOutcome::Accepted(summary) => {
                tracing::info!(request_id = %ctx.request_id, user = %me.username, run = %id, "run cancelled");
                // Finished by this cancel (nothing was running): no step's
                // report will count it.
                if summary.status.is_terminal() {
                    crate::runtime::metrics::run_summary_finished(&summary);
                }
                Ok(summary)
            }
            CancelOutcome::AlreadyFinished(status) => Err(PortError::Conflict {
                message: format!(
                    "run {id} already finished ({status}); there is nothing to cancel"
                ),
            }),
            CancelOutcome::NotFound => Err(PortError::not_found(format!("run {id}"))),
        }
    }
}

/// Backpressure's answer: which limit, how to raise it, when to retry.
pub(crate) fn overloaded(
    refused: crate::store::runs::Backlogged,
    workflow: &str,
    environment: &str,
) -> PortError {
    use crate::store::runs::BacklogScope;
    let what = match refused.scope {
        BacklogScope::Workflow => format!(
            "workflow {workflow} has {} unfinished runs in {environment}",
            refused.limit
        ),
        BacklogScope::Environment => format!("{environment} has {} unfinished runs", refused.limit),
        BacklogScope::Server => format!("the server has {} unfinished runs", refused.limit),
    };
    PortError::Overloaded {
        message: format!(
            "{what}, its limit ({}); nothing was started: wait for runs to finish (or cancel \
             some), then trigger again",
            refused.scope.flag()
        ),
        retry_after_seconds: 5,
        saturated: refused.scope == BacklogScope::Server,
    }
}

fn check_run_id(id: &str) -> Result<(), PortError> {
    uuid_or_not_found("run", id)
}
