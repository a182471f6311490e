//! Workflows through the port: applying specs as versions, reading them,
//! and switching their schedules per environment.

use crate::plane::{GantryPlane, internal};
use crate::store::schedules::ScheduleSwitch;
use crate::store::versions::NewVersion;
use crate::store::versions::WorkflowView;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, WorkflowPort};
use gantry_core::rbac::Action;
use gantry_core::schedule::CronSchedule;
use gantry_core::spec::{self, MAX_SPEC_BYTES, SpecProblem, SpecRejection, WorkflowSpec};
use gantry_core::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};

#[async_trait]
impl WorkflowPort for GantryPlane {
    async fn apply_workflow(
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

    async fn list_workflows(
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

    async fn workflow_names(&self, ctx: &RequestContext) -> Result<Vec<String>, PortError> {
        // The same permission as the summaries: names are no more private.
        self.authorize_view(ctx, &Action::ViewDashboard, "workflow/")
            .await?;
        self.store.workflow_names().await.map_err(internal)
    }

    async fn workflow(
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

    async fn set_schedule(
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
}

impl GantryPlane {
    fn environment_names(&self) -> Vec<String> {
        self.settings
            .environments
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect()
    }

    /// A spec's own rules must name environments and channels that exist
    /// here (the spec alone can't tell), or they would never fire or be
    /// heard.
    pub(super) async fn check_spec_alerts(&self, spec: &WorkflowSpec) -> Result<(), PortError> {
        if spec.alerts.is_empty() {
            return Ok(());
        }
        let channels: Vec<String> = self
            .store
            .alert_channels()
            .await
            .map_err(internal)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let environments = self.environment_names();
        let mut problems = Vec::new();
        for (i, rule) in spec.alerts.iter().enumerate() {
            if let Some(env) = &rule.environment
                && !environments.contains(env)
            {
                problems.push(SpecProblem::new(
                    format!("alerts[{i}].environment"),
                    format!(
                        "there is no environment {env:?} here (there are {})",
                        environments.join(", ")
                    ),
                ));
            }
            for channel in rule.channels.iter().filter(|c| !channels.contains(c)) {
                problems.push(SpecProblem::new(
                    format!("alerts[{i}].channels"),
                    format!(
                        "there is no alert channel {channel:?}; create it on the Alerts page (or POST /api/v1/alerts/channels) first"
                    ),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid_spec(problems))
        }
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
        check_secret_providers(&spec, &self.settings.secrets)?;
        self.check_spec_alerts(&spec).await?;
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
            .set_schedule_enabled(
                ScheduleSwitch {
                    workflow,
                    environment: env.as_str(),
                    enabled,
                    next_fire_at,
                },
                event.clone(),
            )
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("workflow {workflow:?} in {env}")))?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, %workflow, environment = %env,
            enabled, "schedule switched");
        Ok(updated)
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

/// Deny by default: a spec naming a provider this server has not configured
/// is refused at apply rather than run with its secrets missing. Nothing is
/// fetched here: whether a value exists is the attempt's question.
pub(super) fn check_secret_providers(
    spec: &WorkflowSpec,
    providers: &crate::secrets::SecretProviders,
) -> Result<(), PortError> {
    let configured = providers.names();
    let problems: Vec<SpecProblem> = spec
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, step)| {
            let configured = &configured;
            step.secrets.iter().filter_map(move |(name, secret)| {
                let provider = secret
                    .reference
                    .split_once(':')
                    .map_or(secret.reference.as_str(), |(p, _)| p);
                if configured.iter().any(|c| c == provider) {
                    return None;
                }
                let known = if configured.is_empty() {
                    "none is".to_owned()
                } else {
                    format!("configured: {}", configured.join(", "))
                };
                Some(SpecProblem::new(
                    format!("steps[{i}].secrets.{name}"),
                    format!(
                        "no secret provider {provider:?} is configured on this server ({known}), \
                         so this reference can't be resolved; configure it (docs/secrets.md) or \
                         name a configured one"
                    ),
                ))
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid_spec(problems))
    }
}

/// A scheduled workflow must be runnable with no one there to fill in
/// inputs.
pub(super) fn check_schedulable(spec: &WorkflowSpec) -> Result<(), PortError> {
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
