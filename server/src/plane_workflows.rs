//! The workflow and run half of the control-plane port: authorization and
//! input checks in front of the store and the engine.

use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::records::{CancelOutcome, NewRun, NewVersion};
use crate::store::workflows::WorkflowView;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::RequestContext;
use gantry_core::rbac::Action;
use gantry_core::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerOutcome,
    TriggerRequest,
};
use gantry_core::schedule::CronSchedule;
use gantry_core::spec::{self, MAX_SPEC_BYTES, SpecProblem, SpecRejection, WorkflowSpec};
use gantry_core::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};
use gantry_core::{Environment, PortError};

impl GantryPlane {
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

    fn environment_names(&self) -> Vec<String> {
        self.settings
            .environments
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect()
    }

    pub(crate) async fn do_apply(
        &self,
        ctx: &RequestContext,
        source: &str,
    ) -> Result<ApplyOutcome, PortError> {
        let mut event = self.event(ctx, AuditAction::WorkflowApply, "workflow");
        event.environment = Some(self.settings.environments.first().as_str().to_owned());
        event.set_detail("bytes", source.len());
        if let Some(name) = spec::name_hint(source) {
            event.resource = format!("workflow/{name}");
        }
        let result = self.apply_checked(ctx, source, &mut event).await;
        self.settle(event, result).await
    }

    async fn apply_checked(
        &self,
        ctx: &RequestContext,
        source: &str,
        event: &mut AuditEvent,
    ) -> Result<ApplyOutcome, PortError> {
        let first = self.settings.environments.first().clone();
        let me = self.authorize(
            ctx,
            &Action::ApplyWorkflow {
                environment: first.clone(),
            },
        )?;
        if source.len() > MAX_SPEC_BYTES {
            return Err(too_large(source.len()));
        }
        let spec = spec::parse(source).map_err(|r| match r {
            SpecRejection::TooLarge { bytes, .. } => too_large(bytes),
            SpecRejection::Invalid { problems } => invalid_spec(problems),
        })?;
        event.resource = format!("workflow/{}", spec.name);
        check_schedulable(&spec)?;
        let now = self.clock.now();
        let next_fire_at = match &spec.schedule {
            Some(expr) => CronSchedule::parse(expr, spec.timezone.as_deref())
                .map_err(|e| PortError::invalid("schedule", e))?
                .next_after(now),
            None => None,
        };
        let author = self.person_behind(me).await?;
        let outcome = self
            .store
            .apply_version(
                NewVersion {
                    spec: &spec,
                    source,
                    created_by: &me.display_name,
                    created_by_person: author.as_ref().map(|p| p.id.as_str()),
                    activate_in: first.as_str(),
                    next_fire_at,
                },
                now,
                event.clone(),
            )
            .await
            .map_err(internal)?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, workflow = %outcome.workflow,
            version = outcome.version, created = outcome.created, "workflow applied");
        Ok(outcome)
    }

    pub(crate) async fn do_list_workflows(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<WorkflowSummary>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "workflow/")
            .await?;
        let visible = self.visible_environments(me);
        self.store
            .list_workflows(WorkflowView {
                environments: &self.environment_names(),
                runs_in: visible.as_deref(),
            })
            .await
            .map_err(internal)
    }

    pub(crate) async fn do_workflow(
        &self,
        ctx: &RequestContext,
        name: &str,
        version: Option<u32>,
    ) -> Result<WorkflowDetail, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, &format!("workflow/{name}"))
            .await?;
        // Runs (the last one, the recent ones) only from environments the
        // reader may see: their ids, triggers and people are prod's business.
        let visible = self.visible_environments(me);
        let found = self
            .store
            .workflow_detail(
                name,
                version,
                WorkflowView {
                    environments: &self.environment_names(),
                    runs_in: visible.as_deref(),
                },
            )
            .await
            .map_err(internal)?;
        found.ok_or_else(|| match version {
            Some(v) => PortError::not_found(format!("version {v} of workflow {name:?}")),
            None => PortError::not_found(format!("workflow {name:?}")),
        })
    }

    pub(crate) async fn do_trigger(
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
        let run = self
            .store
            .create_run(
                NewRun {
                    active: &active,
                    environment: env.as_str(),
                    inputs: &inputs,
                    trigger,
                    triggered_by: &me.display_name,
                    triggered_by_id: &me.id.0,
                    scheduled_for: None,
                },
                now,
                event.clone().detail("version", active.version),
            )
            .await
            .map_err(internal)?;
        self.store
            .admit(&active.workflow_id, env.as_str(), now)
            .await
            .map_err(internal)?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, run = %run.id,
            workflow = %run.workflow, environment = %env, "run triggered");
        let fresh = self.store.run_summary(&run.id).await.map_err(internal)?;
        Ok(TriggerOutcome::Started {
            run: fresh.unwrap_or(run),
        })
    }

    pub(crate) async fn do_list_runs(
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

    pub(crate) async fn do_run(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<RunDetail, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("run/{id}"))
            .await?;
        check_run_id(id)?;
        let detail = self
            .store
            .run_detail(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("run {id}")))?;
        self.authorize_environment_view(ctx, &detail.summary.environment, &format!("run/{id}"))
            .await?;
        Ok(detail)
    }

    pub(crate) async fn do_run_logs(
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

    pub(crate) async fn do_set_schedule(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<ActiveVersion, PortError> {
        let mut event = self
            .event(
                ctx,
                AuditAction::ScheduleSet,
                format!("workflow/{workflow}"),
            )
            .detail("enabled", enabled);
        event.environment = Some(environment.to_owned());
        let result = self
            .set_schedule_checked(ctx, workflow, environment, enabled, &event)
            .await;
        self.settle(event, result).await
    }

    async fn set_schedule_checked(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
        enabled: bool,
        event: &AuditEvent,
    ) -> Result<ActiveVersion, PortError> {
        let env = self.environment(environment)?;
        let me = self.authorize(
            ctx,
            &Action::ConfigureSchedule {
                environment: env.clone(),
            },
        )?;
        let active = self
            .store
            .active_spec(workflow, env.as_str())
            .await
            .map_err(internal)?;
        let Some(active) = active else {
            return Err(
                if self
                    .store
                    .workflow_exists(workflow)
                    .await
                    .map_err(internal)?
                {
                    PortError::Conflict {
                        message: format!("workflow {workflow:?} has no active version in {env}"),
                    }
                } else {
                    PortError::not_found(format!("workflow {workflow:?}"))
                },
            );
        };
        let Some(expr) = active.spec.schedule.as_deref() else {
            return Err(PortError::Conflict {
                message: format!(
                    "version {} of {workflow:?} has no schedule; add `schedule:` to its spec first",
                    active.version
                ),
            });
        };
        // Re-enabling starts at the next slot: slots missed while the
        // schedule was off are not caught up.
        let next_fire_at = if enabled {
            CronSchedule::parse(expr, active.spec.timezone.as_deref())
                .map_err(|e| PortError::invalid("schedule", e))?
                .next_after(self.clock.now())
        } else {
            None
        };
        let updated = self
            .store
            .set_schedule_enabled(workflow, env.as_str(), enabled, next_fire_at, event.clone())
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("workflow {workflow:?} in {env}")))?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, %workflow, environment = %env,
            enabled, "schedule switched");
        Ok(updated)
    }

    pub(crate) async fn do_cancel(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<RunSummary, PortError> {
        let mut event = self.event(ctx, AuditAction::RunCancel, format!("run/{id}"));
        let result = self.cancel_checked(ctx, id, &mut event).await;
        self.settle(event, result).await
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

fn too_large(bytes: usize) -> PortError {
    PortError::TooLarge {
        message: format!(
            "the workflow spec is {bytes} bytes; the limit is {MAX_SPEC_BYTES} bytes (1 MiB)"
        ),
    }
}

fn invalid_spec(problems: Vec<SpecProblem>) -> PortError {
    PortError::Unprocessable {
        message: "the workflow spec is invalid".into(),
        problems,
    }
}

/// A scheduled workflow must be runnable with no one there to fill in
/// inputs.
fn check_schedulable(spec: &WorkflowSpec) -> Result<(), PortError> {
    if spec.schedule.is_none() {
        return Ok(());
    }
    let missing: Vec<SpecProblem> = spec
        .inputs
        .iter()
        .filter(|(_, i)| i.default.is_none())
        .map(|(name, _)| {
            SpecProblem::new(
                format!("inputs.{name}"),
                "a scheduled workflow's inputs all need a default (nobody fills them in at 3 a.m.)",
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(invalid_spec(missing))
    }
}

fn check_run_id(id: &str) -> Result<(), PortError> {
    uuid_or_not_found("run", id)
}
