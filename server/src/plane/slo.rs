//! SLOs through the port: the list and one SLO's status, read from exact
//! run tallies (`store/slo.rs`) and shaped by `gantry_core::slo::view`.
//! Reads are environment-scoped like runs: the list leaves out what the
//! caller may not see, and one SLO needs a role in its environment.

use crate::plane::{GantryPlane, internal};
use crate::store::slo::SloQuery;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::port::{RequestContext, SloPort};
use gantry_core::rbac::Action;
use gantry_core::slo::view::{
    BAD_RUNS_LIMIT, SloStatus, SloSubject, SloSummary, history_start, status, summarize,
};

#[async_trait]
impl SloPort for GantryPlane {
    async fn list_slos(
        &self,
        ctx: &RequestContext,
        workflow: Option<&str>,
    ) -> Result<Vec<SloSummary>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "slo/")
            .await?;
        let visible = self.visible_environments(me);
        let mut slos: Vec<_> = self
            .store
            .active_slos()
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|s| workflow.is_none_or(|w| s.workflow == w))
            .filter(|s| {
                visible
                    .as_ref()
                    .is_none_or(|envs| envs.contains(&s.environment))
            })
            .collect();
        // Promotion order within a workflow (dev, stage, prod), not the
        // alphabet.
        let order = |env: &str| {
            self.settings
                .environments
                .iter()
                .position(|e| e.as_str() == env)
                .unwrap_or(usize::MAX)
        };
        slos.sort_by(|a, b| {
            (a.workflow.as_str(), order(&a.environment))
                .cmp(&(b.workflow.as_str(), order(&b.environment)))
        });
        let now = self.clock.now();
        let mut summaries = Vec::with_capacity(slos.len());
        for s in &slos {
            let tallies = self
                .store
                .slo_tallies(SloQuery {
                    workflow: &s.workflow,
                    environment: &s.environment,
                    slo: &s.slo,
                    now,
                })
                .await
                .map_err(internal)?;
            summaries.push(summarize(
                SloSubject {
                    workflow: &s.workflow,
                    environment: &s.environment,
                    version: s.version,
                    slo: &s.slo,
                },
                &tallies,
            ));
        }
        Ok(summaries)
    }

    async fn slo_status(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
    ) -> Result<SloStatus, PortError> {
        let resource = format!("slo/{workflow}/{environment}");
        self.authorize_view(ctx, &Action::ViewDashboard, &resource)
            .await?;
        let env = self.environment(environment)?;
        // Before any lookup: whether an SLO exists there is the
        // environment's business too.
        self.authorize_environment_view(ctx, env.as_str(), &resource)
            .await?;
        let active = self
            .store
            .active_spec(workflow, env.as_str())
            .await
            .map_err(internal)?;
        let not_declared = || {
            PortError::not_found(format!(
                "an SLO of workflow {workflow:?} in {env}: its active version there declares no slo.{env} (see docs/slo.md)"
            ))
        };
        let Some(active) = active else {
            return Err(
                if self
                    .store
                    .workflow_exists(workflow)
                    .await
                    .map_err(internal)?
                {
                    not_declared()
                } else {
                    PortError::not_found(format!("workflow {workflow:?}"))
                },
            );
        };
        let slo = active.spec.slo.get(env.as_str()).ok_or_else(not_declared)?;
        let now = self.clock.now();
        let query = SloQuery {
            workflow,
            environment: env.as_str(),
            slo,
            now,
        };
        let tallies = self.store.slo_tallies(query).await.map_err(internal)?;
        let hours = self
            .store
            .slo_hours(query, history_start(now))
            .await
            .map_err(internal)?;
        // One more than shown: tells the page the list is cut.
        let bad_runs = self
            .store
            .slo_bad_runs(query, BAD_RUNS_LIMIT + 1)
            .await
            .map_err(internal)?;
        Ok(status(
            SloSubject {
                workflow,
                environment: env.as_str(),
                version: active.version,
                slo,
            },
            &tallies,
            &hours,
            bad_runs,
            now,
        ))
    }
}
