//! Canaries in the port: starting one where a promotion's gate passed into
//! an environment whose policy has a plan, the pass that judges live
//! canaries and carries out what the judgement says (advance, promote,
//! roll back, pause), and the manual controls. The judgement is
//! `core::canary`'s; each change is one store transaction with its audit
//! record.

use super::*;
use crate::store::canaries::{CanaryChange, CanaryQuery, ChangeKind, Changed, NewCanary, Started};
use crate::store::versions::ActiveSpec;
use gantry_core::canary::{
    Canary, CanaryAct, CanaryControl, CanaryDetail, CanaryPolicy, CanaryState, Next,
    RunningOnFailure, look,
};
use gantry_core::port::{CanaryFilter, CanaryPort};
use gantry_core::promotion::evaluation::ChecklistSnapshot;
use gantry_core::promotion::rules::may_control_canary;

/// Longest reason a person may give.
const MAX_REASON: usize = 1_000;

impl GantryPlane {
    /// Starts a canary of `stored`'s version against `stable`, in place of
    /// the promotion its green gate would make. A live canary of the same
    /// workflow there makes it wait (returns false).
    pub(super) async fn start_canary(
        &self,
        ctx: &RequestContext,
        stored: &StoredPromotion,
        plan: &CanaryPolicy,
        stable: u32,
        approvers: &[Person],
        checklist: &ChecklistSnapshot,
    ) -> Result<bool, PortError> {
        let r = &stored.request;
        let mut event = self.event(
            ctx,
            AuditAction::CanaryStart,
            format!("workflow/{}", r.workflow),
        );
        event.environment = Some(r.to_environment.clone());
        event.set_detail("request", r.id.clone());
        event.set_detail("approvers", approvers.len());
        let started = self
            .store
            .start_canary(
                NewCanary {
                    workflow_id: &stored.workflow_id,
                    workflow: &r.workflow,
                    environment: &r.to_environment,
                    request_id: &r.id,
                    stable_version: stable,
                    canary_version: r.version,
                    policy: plan,
                    started_by: &r.requested_by,
                    reason: &r.reason,
                    approvers,
                    checklist,
                    at: self.clock.now(),
                },
                event,
            )
            .await
            .map_err(internal)?;
        Ok(match started {
            Started::Done(c) => {
                tracing::info!(request_id = %ctx.request_id, workflow = %r.workflow,
                    environment = %r.to_environment, version = r.version, canary = %c.id,
                    weight = c.weight, "canary started");
                true
            }
            Started::Stale { .. } | Started::NotPending(_) | Started::Busy => false,
        })
    }

    /// Ends the live canary of a workflow in an environment, if any, as a
    /// person's rollback there does: the rollback decides what is active,
    /// so the canary can't go on comparing against a version that left.
    pub(super) async fn end_canary_for_rollback(
        &self,
        ctx: &RequestContext,
        workflow_id: &str,
        environment: &str,
        person: &Person,
        reason: &str,
    ) -> Result<(), PortError> {
        let Some(live) = self
            .store
            .live_canary(workflow_id, environment)
            .await
            .map_err(internal)?
        else {
            return Ok(());
        };
        let why = format!("ended by {}'s rollback: {reason}", person.name);
        let stable = self.stable_spec(&live).await?;
        self.change(
            ctx,
            &live,
            AuditAction::CanaryAbort,
            ChangeKind::End {
                state: CanaryState::Aborted,
                actor: person,
                why: &why,
                hold: false,
                cancel_running: live.policy.running_on_failure == RunningOnFailure::Cancel,
                stable: &stable,
            },
        )
        .await
        .map(|_| ())
    }

    /// Why a green request into `environment` waits beyond its gate: a
    /// live canary of the workflow there, or the hold an automatic
    /// rollback left.
    pub(super) async fn canary_blocks(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> Result<Option<(String, Canary)>, PortError> {
        if let Some(c) = self
            .store
            .live_canary(workflow_id, environment)
            .await
            .map_err(internal)?
        {
            let why = format!(
                "a canary of version {} is {} in {environment}; this promotion waits until it \
                 ends",
                c.canary_version,
                c.state.as_str()
            );
            return Ok(Some((why, c)));
        }
        if let Some(id) = self
            .store
            .canary_hold(workflow_id, environment)
            .await
            .map_err(internal)?
            && let Some(c) = self.store.canary(&id).await.map_err(internal)?
        {
            let why = format!(
                "the canary of version {} was rolled back automatically; promotions into \
                 {environment} wait until an approver clears the hold",
                c.canary_version
            );
            return Ok(Some((why, c)));
        }
        Ok(None)
    }

    /// Judges every live canary and carries out each judgement. `serve`
    /// calls it with the promotion gate; racing callers change a canary
    /// once (the store's compare-and-set on state and step).
    pub async fn advance_canaries(&self) -> Result<(), PortError> {
        let live = self
            .store
            .canaries(CanaryQuery {
                live_only: true,
                limit: LIST_LIMIT,
                ..CanaryQuery::default()
            })
            .await
            .map_err(internal)?;
        for canary in live {
            if let Err(e) = self.judge_canary(&canary).await {
                tracing::warn!(canary = %canary.id, error = %e, "could not judge a canary");
            }
        }
        Ok(())
    }

    async fn judge_canary(&self, canary: &Canary) -> Result<(), PortError> {
        let now = self.clock.now();
        let mut facts = self
            .store
            .canary_facts(canary, canary.step_started_at)
            .await
            .map_err(internal)?;
        // Steps don't advance while a freeze holds (freeze.rs).
        facts.frozen_until = self
            .active_freeze(&canary.environment, now)
            .await?
            .map(|a| a.until);
        let (evaluation, next) = look(canary, &facts, now);
        if canary.last.as_ref().is_none_or(|l| !l.same_as(&evaluation)) {
            self.store
                .record_evaluation(&canary.id, &evaluation)
                .await
                .map_err(internal)?;
        }
        let ctx = canary_context();
        let system = Person {
            id: "system:canary".into(),
            name: "Gantry (canary analysis)".into(),
        };
        let (action, what) = match next {
            Next::Stay => return Ok(()),
            Next::Advance { step } => {
                let weight = canary
                    .policy
                    .steps
                    .get(step as usize)
                    .map_or(canary.weight, |s| s.weight);
                (
                    AuditAction::CanaryAdvance,
                    ChangeKind::Advance {
                        to_step: step,
                        weight,
                    },
                )
            }
            Next::Pause => (
                AuditAction::CanaryPause,
                ChangeKind::Pause {
                    why: &evaluation.why,
                },
            ),
            Next::Promote => {
                let reason = format!("the canary passed every step: {}", evaluation.why);
                return self
                    .change(
                        &ctx,
                        canary,
                        AuditAction::CanaryPromote,
                        ChangeKind::Promote {
                            actor: &system,
                            reason: &reason,
                            next_fire_at: self.next_fire_of(canary, canary.canary_version).await?,
                        },
                    )
                    .await
                    .map(|_| ());
            }
            Next::RollBack => {
                let why = format!("the canary failed: {}", evaluation.why);
                let stable = self.stable_spec(canary).await?;
                return self
                    .change(
                        &ctx,
                        canary,
                        AuditAction::CanaryRollback,
                        ChangeKind::End {
                            state: CanaryState::RolledBack,
                            actor: &system,
                            why: &why,
                            hold: true,
                            cancel_running: canary.policy.running_on_failure
                                == RunningOnFailure::Cancel,
                            stable: &stable,
                        },
                    )
                    .await
                    .map(|_| ());
            }
        };
        self.change(&ctx, canary, action, what).await.map(|_| ())
    }

    pub(super) async fn stable_spec(&self, canary: &Canary) -> Result<ActiveSpec, PortError> {
        let workflow_id = self.canary_workflow_id(canary).await?;
        Ok(ActiveSpec {
            spec: self.spec_of(&workflow_id, canary.stable_version).await?,
            workflow_id,
            workflow: canary.workflow.clone(),
            version: canary.stable_version,
        })
    }

    async fn canary_workflow_id(&self, canary: &Canary) -> Result<String, PortError> {
        self.store
            .workflow_id(&canary.workflow)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("workflow {}", canary.workflow)))
    }

    async fn next_fire_of(
        &self,
        canary: &Canary,
        version: u32,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, PortError> {
        let workflow_id = self.canary_workflow_id(canary).await?;
        Ok(self.next_fire(&*self.spec_of(&workflow_id, version).await?))
    }

    /// Applies one change with its audit record; an end re-admits the
    /// lane so queued runs moved to stable start.
    pub(super) async fn change(
        &self,
        ctx: &RequestContext,
        canary: &Canary,
        action: AuditAction,
        what: ChangeKind<'_>,
    ) -> Result<Canary, PortError> {
        let ends = matches!(what, ChangeKind::End { .. });
        let mut event = self.event(ctx, action, format!("canary/{}", canary.id));
        event.environment = Some(canary.environment.clone());
        event.set_detail("workflow", canary.workflow.clone());
        event.set_detail("canary_version", canary.canary_version);
        let changed = self
            .store
            .change_canary(
                CanaryChange {
                    id: &canary.id,
                    expected: canary.state,
                    step: canary.step,
                    at: self.clock.now(),
                    what,
                },
                event,
            )
            .await
            .map_err(internal)?;
        match changed {
            Changed::Done {
                canary: fresh,
                readmitted,
                stopped,
            } => {
                tracing::info!(request_id = %ctx.request_id, canary = %fresh.id,
                    workflow = %fresh.workflow, environment = %fresh.environment,
                    state = fresh.state.as_str(), weight = fresh.weight,
                    readmitted = readmitted.len(), stopped = stopped.len(), "canary changed");
                if ends {
                    let workflow_id = self.canary_workflow_id(&fresh).await?;
                    self.admit_committed(&workflow_id, &fresh.environment, self.clock.now())
                        .await;
                }
                Ok(*fresh)
            }
            Changed::Stale(now) => Err(PortError::Conflict {
                message: format!(
                    "the canary changed meanwhile: it is {} at {}% (step {}); look again",
                    now.state.as_str(),
                    now.weight,
                    now.step + 1
                ),
            }),
            Changed::NotFound => Err(PortError::not_found(format!("canary {}", canary.id))),
        }
    }

    async fn control_checked(
        &self,
        ctx: &RequestContext,
        canary: Canary,
        control: CanaryControl,
        act: CanaryAct,
    ) -> Result<Canary, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(&canary.environment)?;
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
        may_control_canary(&actor, &target, control, &self.freshness())?;
        let reason = act.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.chars().count() > MAX_REASON {
            return Err(PortError::invalid(
                "reason",
                format!("longer than {MAX_REASON} characters; shorten it"),
            ));
        }
        if reason.is_empty() && matches!(control, CanaryControl::Abort | CanaryControl::Promote) {
            return Err(PortError::invalid(
                "reason",
                format!(
                    "required to {} a canary: say why, for the ledger",
                    control.as_str()
                ),
            ));
        }
        let said = |verb: &str| {
            if reason.is_empty() {
                format!("{verb} by {}", person.name)
            } else {
                format!("{verb} by {}: {reason}", person.name)
            }
        };
        let wrong_state = |wanted: &str| PortError::Conflict {
            message: format!(
                "the canary is {}, so it can't be {wanted}",
                canary.state.as_str().replace('_', " ")
            ),
        };
        match control {
            CanaryControl::Pause => {
                if canary.state != CanaryState::Running {
                    return Err(wrong_state("paused"));
                }
                let why = said("paused");
                self.change(
                    ctx,
                    &canary,
                    AuditAction::CanaryPause,
                    ChangeKind::Pause { why: &why },
                )
                .await
            }
            CanaryControl::Resume => {
                if canary.state != CanaryState::Paused {
                    return Err(wrong_state("resumed"));
                }
                self.change(ctx, &canary, AuditAction::CanaryResume, ChangeKind::Resume)
                    .await
            }
            CanaryControl::Promote => {
                if !canary.state.is_live() {
                    return Err(wrong_state("promoted"));
                }
                let why = said("promoted before its analysis finished");
                let next_fire_at = self.next_fire_of(&canary, canary.canary_version).await?;
                self.change(
                    ctx,
                    &canary,
                    AuditAction::CanaryPromote,
                    ChangeKind::Promote {
                        actor: &person,
                        reason: &why,
                        next_fire_at,
                    },
                )
                .await
            }
            CanaryControl::Abort => {
                if !canary.state.is_live() {
                    return Err(wrong_state("aborted"));
                }
                let why = said("aborted");
                let stable = self.stable_spec(&canary).await?;
                self.change(
                    ctx,
                    &canary,
                    AuditAction::CanaryAbort,
                    ChangeKind::End {
                        state: CanaryState::Aborted,
                        actor: &person,
                        why: &why,
                        hold: false,
                        cancel_running: canary.policy.running_on_failure
                            == RunningOnFailure::Cancel,
                        stable: &stable,
                    },
                )
                .await
            }
            CanaryControl::ClearHold => {
                if !canary.held {
                    return Err(PortError::Conflict {
                        message: "this canary holds nothing: promotions are not waiting on it"
                            .into(),
                    });
                }
                self.change(
                    ctx,
                    &canary,
                    AuditAction::CanaryClearHold,
                    ChangeKind::ClearHold,
                )
                .await
            }
        }
    }

    async fn visible_canary(&self, ctx: &RequestContext, id: &str) -> Result<Canary, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("canary/{id}"))
            .await?;
        uuid_or_not_found("canary", id)?;
        let canary = self
            .store
            .canary(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("canary {id}")))?;
        self.authorize_environment_view(ctx, &canary.environment, &format!("canary/{id}"))
            .await?;
        Ok(canary)
    }
}

#[async_trait]
impl CanaryPort for GantryPlane {
    async fn canaries(
        &self,
        ctx: &RequestContext,
        filter: CanaryFilter,
    ) -> Result<Vec<Canary>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "canary/")
            .await?;
        if let Some(env) = &filter.environment {
            self.environment(env)?;
            self.authorize_environment_view(ctx, env, "canary/").await?;
        }
        let visible = self.visible_environments(me);
        self.store
            .canaries(CanaryQuery {
                workflow: filter.workflow.as_deref(),
                environment: filter.environment.as_deref(),
                live_only: filter.live,
                visible: visible.as_deref(),
                limit: LIST_LIMIT,
                ..CanaryQuery::default()
            })
            .await
            .map_err(internal)
    }

    async fn canary(&self, ctx: &RequestContext, id: &str) -> Result<CanaryDetail, PortError> {
        let canary = self.visible_canary(ctx, id).await?;
        let evaluations = self.store.canary_evaluations(id).await.map_err(internal)?;
        Ok(CanaryDetail {
            canary,
            evaluations,
        })
    }

    async fn control_canary(
        &self,
        ctx: &RequestContext,
        id: &str,
        control: CanaryControl,
        act: CanaryAct,
    ) -> Result<Canary, PortError> {
        let action = match control {
            CanaryControl::Pause => AuditAction::CanaryPause,
            CanaryControl::Resume => AuditAction::CanaryResume,
            CanaryControl::Promote => AuditAction::CanaryPromote,
            CanaryControl::Abort => AuditAction::CanaryAbort,
            CanaryControl::ClearHold => AuditAction::CanaryClearHold,
        };
        let event = self.event(ctx, action, format!("canary/{id}"));
        let result = match self.visible_canary(ctx, id).await {
            Ok(canary) => self.control_checked(ctx, canary, control, act).await,
            Err(e) => Err(e),
        };
        self.settle(event, result).await
    }
}

/// The canary analysis acting on its own.
fn canary_context() -> RequestContext {
    super::gate::system_context("system:canary", "gantry-canary", "Gantry (canary analysis)")
}
