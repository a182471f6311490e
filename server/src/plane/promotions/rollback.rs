//! Rolling an environment back to a version that was active there before,
//! without a new approval; optionally cancelling the old version's runs.

use super::*;

/// A rollback's move, by a person or by Gantry.
pub(super) struct MoveBack<'a> {
    pub workflow_id: &'a str,
    pub workflow: &'a str,
    pub environment: &'a str,
    /// The version expected active now (the move is refused otherwise).
    pub from: u32,
    pub to: u32,
    pub actor: &'a Person,
    pub reason: &'a str,
}

impl GantryPlane {
    /// Ends a live canary there (the rollback decides what is active), then
    /// moves the pointer back with a `rollback` ledger row and `event`.
    pub(super) async fn move_back(
        &self,
        ctx: &RequestContext,
        m: MoveBack<'_>,
        event: AuditEvent,
    ) -> Result<Moved, PortError> {
        self.end_canary_for_rollback(ctx, m.workflow_id, m.environment, m.actor, m.reason)
            .await?;
        let spec = self.spec_of(m.workflow_id, m.to).await?;
        self.store
            .move_pointer(
                PointerMove {
                    workflow_id: m.workflow_id,
                    workflow: m.workflow,
                    environment: m.environment,
                    expected: Some(m.from),
                    to_version: m.to,
                    kind: DeploymentKind::Rollback,
                    actor: m.actor,
                    at: self.clock.now(),
                    reason: Some(m.reason),
                    request: None,
                    approvers: &[],
                    checklist: None,
                    next_fire_at: self.next_fire(&spec),
                },
                event,
            )
            .await
            .map_err(internal)
    }

    pub(super) async fn roll_back_checked(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: RollbackAsk,
        event: &mut AuditEvent,
    ) -> Result<RollbackOutcome, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(&ask.environment)?;
        event.environment = Some(env.as_str().to_owned());
        let reason = clean_reason(&ask.reason)?;
        let pointers = self.pointers(workflow).await?;
        let (policy, _) = self.policy_in(&env).await?;
        let target = Target {
            environment: &env,
            position: self.position(&env),
            policy: &policy,
        };
        let person = self.acting_person(me).await?;
        let actor = Actor {
            principal: me,
            person: Some(&person.id),
        };
        may_roll_back(&actor, &target, &self.freshness())?;
        let history = self
            .store
            .deployment_history(&pointers.workflow_id, env.as_str())
            .await
            .map_err(internal)?;
        let plan = rollback_target(&history, env.as_str(), ask.to_version)?;
        event.set_detail("reason", reason.clone());
        let moved = self
            .move_back(
                ctx,
                MoveBack {
                    workflow_id: &pointers.workflow_id,
                    workflow,
                    environment: env.as_str(),
                    from: plan.from,
                    to: plan.to,
                    actor: &person,
                    reason: &reason,
                },
                event.clone(),
            )
            .await?;
        let deployment = match moved {
            Moved::Done(d) => *d,
            Moved::Stale { active } => {
                return Err(PortError::Conflict {
                    message: format!(
                        "{workflow} in {env} moved meanwhile (now {}); look again before rolling back",
                        active.map_or("nothing".to_owned(), |v| format!("version {v}"))
                    ),
                });
            }
            Moved::NotPending(_) => return Err(internal("rollback has no request")),
        };
        tracing::info!(request_id = %ctx.request_id, %workflow, environment = %env,
            from = plan.from, to = plan.to, "rolled back");
        let mut cancelled_runs = Vec::new();
        if ask.cancel_running {
            for run in self
                .store
                .unfinished_runs(&pointers.workflow_id, env.as_str(), plan.from)
                .await
                .map_err(internal)?
            {
                if self.cancel_run(ctx, &run).await.is_ok() {
                    cancelled_runs.push(run);
                }
            }
        }
        Ok(RollbackOutcome {
            deployment,
            cancelled_runs,
        })
    }
}
