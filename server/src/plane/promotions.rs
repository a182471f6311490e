//! Promotion in the port: requests into the next environment gated by the
//! target's policy (approvals by other people bound to what they reviewed,
//! a rollout checklist re-evaluated live at every step), rollback, the
//! ledger and the policies. The rules are `core::promotion`'s; this file
//! gathers the facts, asks them, and hands the store one transaction per
//! change with its audit record.

use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::promotions::{
    LedgerQuery, Moved, NewPromotion, PointerMove, PromotionClose, PromotionQuery, StoredPolicy,
    StoredPromotion,
};
use async_trait::async_trait;
use gantry_core::approval::Person;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{PromotionPort, RequestContext, RunPort};
use gantry_core::promotion::delegation::{Actor, DelegatedRight, FourEyes};
use gantry_core::promotion::diff::{SpecDiff, diff};
use gantry_core::promotion::evaluation::{
    ChecklistFacts, ChecklistTick, ItemStatus, LastRun, RunWindow, evaluate, run_windows_needed,
};
use gantry_core::promotion::gate::{counted_approvals, gate};
use gantry_core::promotion::ledger::{
    Deployment, DeploymentKind, active_now, rollback_target, rolled_back_versions,
};
use gantry_core::promotion::order::{StepRefusal, check_not_rolled_back, plan_promotion};
use gantry_core::promotion::request::{
    NewRequest, PromotionApproval, PromotionRequest, PromotionState, ReviewBasis, clean_reason,
    expiry_from, on_new_request,
};
use gantry_core::promotion::rules::{
    Freshness, PendingReview, Target, check_evidence, may_approve, may_cancel, may_edit_policy,
    may_reject, may_request, may_roll_back, may_tick,
};
use gantry_core::promotion::view::{
    ActiveCell, BoardCell, BoardRow, ChecklistMark, DeploymentFilter, LastRunCell, PendingCell,
    PolicyView, PromotionAsk, PromotionBoard, PromotionDecision, PromotionDetail, PromotionFilter,
    PromotionOutcome, RollbackAsk, RollbackOutcome,
};
use gantry_core::promotion::{EnvironmentPolicy, EnvironmentPosition};
use gantry_core::rbac::Action;
use gantry_core::schedule::CronSchedule;
use gantry_core::spec::WorkflowSpec;
use gantry_core::{Environment, PortError, Principal, UserId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lists stop here; the ledger's `at` view reads further.
const LIST_LIMIT: u32 = 500;

/// A workflow's pointers: its id and the version active per environment.
struct Pointers {
    workflow_id: String,
    active: BTreeMap<Environment, u32>,
}

impl GantryPlane {
    pub(super) fn freshness(&self) -> Freshness {
        Freshness {
            now: self.clock.now(),
            max_age: chrono::Duration::from_std(self.settings.step_up_max_age)
                .unwrap_or(chrono::Duration::MAX),
        }
    }

    fn position(&self, env: &Environment) -> EnvironmentPosition {
        EnvironmentPosition::of(&self.settings.environments, env)
            .unwrap_or(EnvironmentPosition::Middle)
    }

    /// The policy in force in `env`, and the row an admin saved, if any.
    async fn policy_in(
        &self,
        env: &Environment,
    ) -> Result<(EnvironmentPolicy, Option<StoredPolicy>), PortError> {
        let saved = self
            .store
            .environment_policies()
            .await
            .map_err(internal)?
            .into_iter()
            .find(|p| p.environment == env.as_str());
        Ok(match saved {
            Some(p) => (p.policy.clone(), Some(p)),
            None => (EnvironmentPolicy::default_for(self.position(env)), None),
        })
    }

    async fn pointers(&self, workflow: &str) -> Result<Pointers, PortError> {
        let workflow_id = self
            .store
            .workflow_id(workflow)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("workflow {workflow}")))?;
        let mut active = BTreeMap::new();
        for env in self.settings.environments.iter() {
            if let Some(a) = self
                .store
                .active_spec(workflow, env.as_str())
                .await
                .map_err(internal)?
            {
                active.insert(env.clone(), a.version);
            }
        }
        Ok(Pointers {
            workflow_id,
            active,
        })
    }

    async fn spec_of(
        &self,
        workflow_id: &str,
        version: u32,
    ) -> Result<Arc<WorkflowSpec>, PortError> {
        self.store
            .version_spec(workflow_id, version)
            .await
            .map_err(|_| PortError::not_found(format!("version {version}")))
    }

    /// The candidate against the version active in the target now.
    async fn diff_for(
        &self,
        workflow_id: &str,
        candidate: u32,
        against: Option<u32>,
    ) -> Result<SpecDiff, PortError> {
        let candidate = self.spec_of(workflow_id, candidate).await?;
        let active = match against {
            Some(v) => Some(self.spec_of(workflow_id, v).await?),
            None => None,
        };
        Ok(diff(active.as_deref(), &candidate))
    }

    fn next_fire(&self, spec: &WorkflowSpec) -> Option<chrono::DateTime<chrono::Utc>> {
        spec.schedule.as_ref().and_then(|expr| {
            CronSchedule::parse(expr, spec.timezone.as_deref())
                .ok()
                .and_then(|c| c.next_after(self.clock.now()))
        })
    }

    /// The person behind the caller, or a 403 (SCIM clients, workers and
    /// tokens whose maker is unknown act for nobody).
    async fn acting_person(&self, me: &Principal) -> Result<Person, PortError> {
        self.person_behind(me)
            .await?
            .ok_or_else(|| PortError::Forbidden {
                reason: "this credential acts for no known person, so it can't take part in a \
                     promotion; use a token made by a person, or sign in"
                    .into(),
            })
    }

    /// Everything a request's page shows, and the live gate.
    async fn detail_of(&self, stored: StoredPromotion) -> Result<PromotionDetail, PortError> {
        let r = &stored.request;
        let target = Environment::parse(&r.to_environment).map_err(internal)?;
        let (policy, _) = self.policy_in(&target).await?;
        let now = self.clock.now();
        let pending = r.state_at(now) == PromotionState::Pending;
        // A pending request compares with what is active now; a decided
        // one with what it replaced.
        let against = if pending {
            self.store
                .active_spec(&r.workflow, &r.to_environment)
                .await
                .map_err(internal)?
                .map(|a| a.version)
        } else {
            r.replaces
        };
        let diff = self
            .diff_for(&stored.workflow_id, r.version, against)
            .await?;
        let deployment = match &stored.deployment_id {
            Some(id) => self.store.deployment(id).await.map_err(internal)?,
            None => None,
        };
        let checklist = match deployment.as_ref().and_then(|d| d.checklist.clone()) {
            Some(snapshot) => snapshot,
            None => {
                let facts = self.facts(&stored, &policy, &diff).await?;
                evaluate(&policy.checklist, &facts, &r.ticks)
            }
        };
        let basis = ReviewBasis {
            content_hash: r.content_hash.clone(),
            diff_digest: diff.digest(),
        };
        let gate = gate(&policy, &r.approvals, &basis, &checklist);
        let delegations = self
            .store
            .delegations(&r.to_environment, now)
            .await
            .map_err(internal)?;
        Ok(PromotionDetail {
            request: PromotionRequest {
                state: r.state_at(now),
                ..r.clone()
            },
            policy,
            checklist,
            gate,
            diff,
            deployment,
            delegations,
        })
    }

    /// What the checklist's automatic items are judged on, read now.
    async fn facts(
        &self,
        stored: &StoredPromotion,
        policy: &EnvironmentPolicy,
        diff: &SpecDiff,
    ) -> Result<ChecklistFacts, PortError> {
        let r = &stored.request;
        let now = self.clock.now();
        let mut run_windows = Vec::new();
        for window in run_windows_needed(&policy.checklist) {
            let since = now
                .checked_sub_signed(window.as_chrono())
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            let counts = self
                .store
                .run_counts(&stored.workflow_id, &r.from_environment, r.version, since)
                .await
                .map_err(internal)?;
            run_windows.push(RunWindow {
                window,
                finished: counts.finished,
                succeeded: counts.succeeded,
            });
        }
        let history = self
            .store
            .deployment_history(&stored.workflow_id, &r.from_environment)
            .await
            .map_err(internal)?;
        let active_in_previous_since = (active_now(&history, &r.from_environment)
            == Some(r.version))
        .then(|| history.last().map(|d| d.at))
        .flatten();
        let target_last_run = self
            .store
            .last_finished_run(&stored.workflow_id, &r.to_environment)
            .await
            .map_err(internal)?
            .map(|(id, status)| LastRun { id, status });
        Ok(ChecklistFacts {
            now,
            previous_environment: r.from_environment.clone(),
            target_environment: r.to_environment.clone(),
            version: r.version,
            run_windows,
            active_in_previous_since,
            target_last_run,
            new_http_hosts: diff.new_host_labels(),
            new_secret_references: diff.new_secret_references.to_vec(),
        })
    }

    async fn stored_request(&self, id: &str) -> Result<StoredPromotion, PortError> {
        uuid_or_not_found("promotion request", id)?;
        self.store
            .promotion_request(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("promotion request {id}")))
    }

    /// Promotes `stored` if its gate is green now (re-evaluated here, at
    /// the moment of promotion). Racing callers promote it once: the store
    /// checks the request is still pending and the target unmoved.
    async fn promote_if_ready(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<PromotionDetail, PortError> {
        let stored = self.stored_request(id).await?;
        let detail = self.detail_of(stored.clone()).await?;
        if detail.request.state != PromotionState::Pending || !detail.gate.is_ready() {
            return Ok(detail);
        }
        let r = &stored.request;
        let basis = ReviewBasis {
            content_hash: r.content_hash.clone(),
            diff_digest: detail.diff.digest(),
        };
        let approvers: Vec<Person> = counted_approvals(&r.approvals, &basis)
            .into_iter()
            .map(|a| a.by.clone())
            .collect();
        let active = self
            .store
            .active_spec(&r.workflow, &r.to_environment)
            .await
            .map_err(internal)?
            .map(|a| a.version);
        let spec = self.spec_of(&stored.workflow_id, r.version).await?;
        let mut event = self.event(
            ctx,
            AuditAction::WorkflowPromote,
            format!("workflow/{}", r.workflow),
        );
        event.environment = Some(r.to_environment.clone());
        event.set_detail("request", id);
        event.set_detail("approvers", approvers.len());
        let moved = self
            .store
            .move_pointer(
                PointerMove {
                    workflow_id: &stored.workflow_id,
                    workflow: &r.workflow,
                    environment: &r.to_environment,
                    expected: active,
                    to_version: r.version,
                    kind: DeploymentKind::Promotion,
                    actor: &r.requested_by,
                    at: self.clock.now(),
                    reason: Some(&r.reason),
                    request: Some(id),
                    approvers: &approvers,
                    checklist: Some(&detail.checklist),
                    next_fire_at: self.next_fire(&spec),
                },
                event,
            )
            .await
            .map_err(internal)?;
        match moved {
            Moved::Done(d) => {
                tracing::info!(request_id = %ctx.request_id, workflow = %r.workflow,
                    environment = %r.to_environment, version = r.version, deployment = %d.id,
                    "promoted");
            }
            // Someone else promoted it or moved the target first: the page
            // shows whatever is true now.
            Moved::Stale { .. } | Moved::NotPending(_) => {}
        }
        self.detail_of(self.stored_request(id).await?).await
    }

    /// Closes a request past its expiry (recorded once, by whoever looks
    /// first).
    async fn expire_if_due(&self, ctx: &RequestContext, stored: &StoredPromotion) {
        let r = &stored.request;
        if r.state == PromotionState::Pending
            && r.state_at(self.clock.now()) == PromotionState::Expired
        {
            let mut event = self.event(
                ctx,
                AuditAction::PromotionExpire,
                format!("promotion/{}", r.id),
            );
            event.environment = Some(r.to_environment.clone());
            let _ = self
                .store
                .close_promotion(
                    PromotionClose {
                        id: &r.id,
                        state: PromotionState::Expired,
                        by: None,
                        comment: None,
                        at: self.clock.now(),
                    },
                    event,
                )
                .await;
        }
    }

    async fn request_checked(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: PromotionAsk,
        event: &mut AuditEvent,
    ) -> Result<PromotionOutcome, PortError> {
        let me = ctx.require_principal()?;
        let reason = clean_reason(&ask.reason)?;
        let to = Environment::parse(&ask.to_environment)
            .map_err(|e| PortError::invalid("to_environment", e.to_string()))?;
        event.environment = Some(to.as_str().to_owned());
        // Who may ask is decided before anything about the workflow is
        // revealed (or found wrong).
        if !self.settings.environments.contains(&to) {
            return Err(StepRefusal::UnknownEnvironment {
                environment: to.to_string(),
                configured: self.settings.environments.describe(),
            }
            .into());
        }
        let (policy, _) = self.policy_in(&to).await?;
        let target = Target {
            environment: &to,
            position: self.position(&to),
            policy: &policy,
        };
        let person = self.acting_person(me).await?;
        let actor = Actor {
            principal: me,
            person: Some(&person.id),
        };
        may_request(&actor, &target, &self.freshness())?;
        let pointers = self.pointers(workflow).await?;
        let step = plan_promotion(
            &self.settings.environments,
            &pointers.active,
            &to,
            ask.version,
        )?;
        let history = self
            .store
            .deployment_history(&pointers.workflow_id, step.to.as_str())
            .await
            .map_err(internal)?;
        let rolled_back: Vec<u32> = rolled_back_versions(&history, step.to.as_str())
            .into_iter()
            .map(|r| r.version)
            .collect();
        check_not_rolled_back(&step, &rolled_back, ask.confirm_rolled_back)?;
        let pending = self
            .store
            .promotion_requests(PromotionQuery {
                workflow: Some(workflow),
                to_environment: Some(step.to.as_str()),
                state: Some(PromotionState::Pending),
                visible: None,
                limit: 1,
            })
            .await
            .map_err(internal)?
            .pop();
        let supersede = match on_new_request(pending.as_ref().map(|p| &p.request), step.version)? {
            NewRequest::File => None,
            NewRequest::Supersede { id } => Some(id),
        };
        let spec = self.spec_of(&pointers.workflow_id, step.version).await?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let request = PromotionRequest {
            id: id.clone(),
            workflow: workflow.to_owned(),
            version: step.version,
            content_hash: spec.content_hash(),
            from_environment: step.from.as_str().to_owned(),
            to_environment: step.to.as_str().to_owned(),
            replaces: step.replaces,
            requested_by: person.clone(),
            reason,
            created_at: now,
            expires_at: expiry_from(now, policy.request_ttl),
            state: PromotionState::Pending,
            approvals: Vec::new(),
            ticks: Vec::new(),
            decided_by: None,
            decided_at: None,
            comment: None,
        };
        event.resource = format!("promotion/{id}");
        event.set_detail("workflow", workflow);
        event.set_detail("version", step.version);
        event.set_detail("from", step.from.as_str());
        if let Some(old) = &supersede {
            event.set_detail("supersedes", old.clone());
        }
        self.store
            .file_promotion(
                NewPromotion {
                    id: &id,
                    workflow_id: &pointers.workflow_id,
                    request: &request,
                    supersede: supersede.as_deref(),
                },
                event.clone(),
            )
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    PortError::Conflict {
                        message: format!(
                            "a promotion of {workflow} into {} was asked for at the same moment; \
                             open it instead",
                            step.to
                        ),
                    }
                } else {
                    internal(e)
                }
            })?;
        let detail = self.promote_if_ready(ctx, &id).await?;
        Ok(match (&detail.request.state, detail.deployment.clone()) {
            (PromotionState::Promoted, Some(deployment)) => PromotionOutcome::Promoted {
                deployment: Box::new(deployment),
            },
            _ => PromotionOutcome::Pending {
                promotion: Box::new(detail),
            },
        })
    }

    async fn decide_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: PromotionDecision,
        comment: Option<String>,
        event: &mut AuditEvent,
    ) -> Result<PromotionDetail, PortError> {
        let me = ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        self.expire_if_due(ctx, &stored).await;
        let stored = self.stored_request(id).await?;
        let r = stored.request.clone();
        event.environment = Some(r.to_environment.clone());
        event.set_detail("workflow", r.workflow.clone());
        event.set_detail("version", r.version);
        let comment = gantry_core::approval::clean_text("comment", comment.as_deref())?;
        // Authorization comes first, so a decided request tells nobody
        // without the right anything but 403.
        let still_pending = || {
            if r.state == PromotionState::Pending {
                Ok(())
            } else {
                Err(PortError::Conflict {
                    message: format!(
                        "promotion request {id} is {} already; nothing to decide",
                        r.state.as_str()
                    ),
                })
            }
        };
        let env = Environment::parse(&r.to_environment).map_err(internal)?;
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
        let authors = self
            .store
            .version_authors(&stored.workflow_id, r.version)
            .await
            .map_err(internal)?;
        let parties = FourEyes {
            workflow: &r.workflow,
            version: r.version,
            requester: &r.requested_by.id,
            authors: &authors,
        };
        let loaded = self.delegated_rights(&env).await?;
        let rights: Vec<DelegatedRight<'_>> = loaded
            .iter()
            .map(|(delegation, delegator)| DelegatedRight {
                delegation,
                delegator,
            })
            .collect();
        let fresh = self.freshness();
        let now = self.clock.now();
        match decision {
            PromotionDecision::Approve => {
                let detail = self.detail_of(stored.clone()).await?;
                let basis = ReviewBasis {
                    content_hash: r.content_hash.clone(),
                    diff_digest: detail.diff.digest(),
                };
                let review = PendingReview {
                    parties,
                    approvals: &r.approvals,
                    basis: &basis,
                };
                let right = may_approve(&actor, &target, &review, &rights, &fresh)?;
                gantry_core::approval::check_token_may_decide(
                    me,
                    &env,
                    &self.settings.token_approvals,
                )?;
                let on_behalf_of = match right {
                    gantry_core::promotion::ApprovalRight::Own => None,
                    gantry_core::promotion::ApprovalRight::Delegated { from } => Some(from),
                };
                if let Some(from) = &on_behalf_of {
                    event.set_detail("on_behalf_of", serde_json::json!(from));
                }
                let approval = PromotionApproval {
                    by: person.clone(),
                    on_behalf_of,
                    at: now,
                    comment: comment.clone(),
                    reviewed: basis,
                };
                event.action = AuditAction::PromotionApprove.as_str().to_owned();
                if !self
                    .store
                    .record_promotion_approval(id, &approval, event.clone())
                    .await
                    .map_err(internal)?
                {
                    return Err(PortError::Conflict {
                        message: format!("promotion request {id} was decided meanwhile"),
                    });
                }
                self.promote_if_ready(ctx, id).await
            }
            PromotionDecision::Reject | PromotionDecision::Cancel => {
                let (state, action) = if decision == PromotionDecision::Reject {
                    let right = may_reject(&actor, &target, &parties, &rights, &fresh)?;
                    if let gantry_core::promotion::ApprovalRight::Delegated { from } = right {
                        event.set_detail("on_behalf_of", serde_json::json!(from));
                    }
                    gantry_core::approval::check_token_may_decide(
                        me,
                        &env,
                        &self.settings.token_approvals,
                    )?;
                    (PromotionState::Rejected, AuditAction::PromotionReject)
                } else {
                    may_cancel(&actor, &target, &r.requested_by.id)?;
                    (PromotionState::Cancelled, AuditAction::PromotionCancel)
                };
                still_pending()?;
                event.action = action.as_str().to_owned();
                if !self
                    .store
                    .close_promotion(
                        PromotionClose {
                            id,
                            state,
                            by: Some(&person),
                            comment: comment.as_deref(),
                            at: now,
                        },
                        event.clone(),
                    )
                    .await
                    .map_err(internal)?
                {
                    return Err(PortError::Conflict {
                        message: format!("promotion request {id} was decided meanwhile"),
                    });
                }
                self.detail_of(self.stored_request(id).await?).await
            }
        }
    }

    async fn mark_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        item: &str,
        mark: ChecklistMark,
        event: &mut AuditEvent,
    ) -> Result<PromotionDetail, PortError> {
        let me = ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        self.expire_if_due(ctx, &stored).await;
        let stored = self.stored_request(id).await?;
        let r = stored.request.clone();
        event.environment = Some(r.to_environment.clone());
        event.set_detail("item", item);
        let env = Environment::parse(&r.to_environment).map_err(internal)?;
        let (policy, _) = self.policy_in(&env).await?;
        let template = policy
            .item(item)
            .cloned()
            .ok_or_else(|| PortError::not_found(format!("checklist item {item}")))?;
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
        let authors = self
            .store
            .version_authors(&stored.workflow_id, r.version)
            .await
            .map_err(internal)?;
        let parties = FourEyes {
            workflow: &r.workflow,
            version: r.version,
            requester: &r.requested_by.id,
            authors: &authors,
        };
        may_tick(&actor, &target, &template, &parties)?;
        if r.state != PromotionState::Pending {
            return Err(PortError::Conflict {
                message: format!(
                    "promotion request {id} is {} already; its checklist is closed",
                    r.state.as_str()
                ),
            });
        }
        let tick = if mark.checked {
            let evidence = check_evidence(&template, mark.evidence.as_deref())?;
            // An acknowledgement covers exactly what is new now.
            let detail = self.detail_of(stored.clone()).await?;
            let acknowledged = detail
                .checklist
                .items
                .iter()
                .find(|i| i.id == item)
                .and_then(|i| match &i.status {
                    ItemStatus::NeedsAcknowledgement { new } => Some(new.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            Some(ChecklistTick {
                item: item.to_owned(),
                by: person.clone(),
                at: self.clock.now(),
                evidence,
                acknowledged,
            })
        } else {
            None
        };
        event.action = if mark.checked {
            AuditAction::PromotionCheck
        } else {
            AuditAction::PromotionUncheck
        }
        .as_str()
        .to_owned();
        if !self
            .store
            .mark_promotion_item(id, item, tick.as_ref(), event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!("promotion request {id} was decided meanwhile"),
            });
        }
        self.promote_if_ready(ctx, id).await
    }

    async fn roll_back_checked(
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
        let spec = self.spec_of(&pointers.workflow_id, plan.to).await?;
        event.set_detail("reason", reason.clone());
        let moved = self
            .store
            .move_pointer(
                PointerMove {
                    workflow_id: &pointers.workflow_id,
                    workflow,
                    environment: env.as_str(),
                    expected: Some(plan.from),
                    to_version: plan.to,
                    kind: DeploymentKind::Rollback,
                    actor: &person,
                    at: self.clock.now(),
                    reason: Some(&reason),
                    request: None,
                    approvers: &[],
                    checklist: None,
                    next_fire_at: self.next_fire(&spec),
                },
                event.clone(),
            )
            .await
            .map_err(internal)?;
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

    async fn policy_checked(
        &self,
        ctx: &RequestContext,
        environment: &str,
        policy: EnvironmentPolicy,
        event: &mut AuditEvent,
    ) -> Result<PolicyView, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(environment)?;
        event.environment = Some(env.as_str().to_owned());
        let position = self.position(&env);
        let (current, _) = self.policy_in(&env).await?;
        let target = Target {
            environment: &env,
            position,
            policy: &current,
        };
        let person = self.acting_person(me).await?;
        let actor = Actor {
            principal: me,
            person: Some(&person.id),
        };
        may_edit_policy(&actor, &target, &self.freshness())?;
        policy.validate(&env, position)?;
        let stored = StoredPolicy {
            environment: env.as_str().to_owned(),
            policy,
            updated_by: person,
            updated_at: self.clock.now(),
        };
        event.set_detail("required_approvals", stored.policy.required_approvals);
        event.set_detail("checklist_items", stored.policy.checklist.len());
        self.store
            .save_policy(&stored, event.clone())
            .await
            .map_err(internal)?;
        Ok(PolicyView {
            environment: stored.environment,
            position,
            policy: stored.policy,
            is_default: false,
            updated_by: Some(stored.updated_by),
            updated_at: Some(stored.updated_at),
        })
    }

    async fn board_cells(
        &self,
        me: &Principal,
        workflow: &str,
    ) -> Result<Vec<BoardCell>, PortError> {
        let pointers = self.pointers(workflow).await?;
        let envs: Vec<Environment> = self.settings.environments.iter().cloned().collect();
        let mut cells = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            let visible = gantry_core::rbac::decide(
                me,
                &Action::ViewEnvironment {
                    environment: env.clone(),
                },
            )
            .is_allowed();
            if !visible {
                cells.push(BoardCell {
                    environment: env.as_str().to_owned(),
                    active: None,
                    last_run: None,
                    pending: None,
                    rollback_to: None,
                    rolled_back: Vec::new(),
                    promotable: None,
                });
                continue;
            }
            let history = self
                .store
                .deployment_history(&pointers.workflow_id, env.as_str())
                .await
                .map_err(internal)?;
            let active = history.last().map(|d| ActiveCell {
                version: d.to_version,
                since: d.at,
                by: d.actor.name.clone(),
                kind: d.kind,
            });
            let last_run = self
                .store
                .last_finished_run(&pointers.workflow_id, env.as_str())
                .await
                .map_err(internal)?
                .map(|(id, status)| LastRunCell { id, status });
            let pending = match self
                .store
                .promotion_requests(PromotionQuery {
                    workflow: Some(workflow),
                    to_environment: Some(env.as_str()),
                    state: Some(PromotionState::Pending),
                    visible: None,
                    limit: 1,
                })
                .await
                .map_err(internal)?
                .pop()
            {
                Some(stored) => {
                    let id = stored.request.id.clone();
                    let d = self.detail_of(stored).await?;
                    let basis = ReviewBasis {
                        content_hash: d.request.content_hash.clone(),
                        diff_digest: d.diff.digest(),
                    };
                    let (done, total) = d.checklist.progress();
                    Some(PendingCell {
                        id,
                        version: d.request.version,
                        checklist_done: u32::try_from(done).unwrap_or(u32::MAX),
                        checklist_total: u32::try_from(total).unwrap_or(u32::MAX),
                        approvals: u32::try_from(
                            counted_approvals(&d.request.approvals, &basis).len(),
                        )
                        .unwrap_or(u32::MAX),
                        approvals_required: d.policy.required_approvals,
                    })
                }
                None => None,
            };
            cells.push(BoardCell {
                environment: env.as_str().to_owned(),
                rollback_to: rollback_target(&history, env.as_str(), None)
                    .ok()
                    .map(|p| p.to),
                rolled_back: rolled_back_versions(&history, env.as_str())
                    .into_iter()
                    .map(|r| r.version)
                    .collect(),
                promotable: (i + 1 < envs.len())
                    .then(|| pointers.active.get(env).copied())
                    .flatten()
                    .filter(|v| pointers.active.get(&envs[i + 1]) != Some(v)),
                active,
                last_run,
                pending,
            });
        }
        Ok(cells)
    }
}

#[async_trait]
impl PromotionPort for GantryPlane {
    async fn request_promotion(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: PromotionAsk,
    ) -> Result<PromotionOutcome, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::PromotionRequest,
            format!("workflow/{workflow}"),
        );
        let result = self.request_checked(ctx, workflow, ask, &mut event).await;
        self.settle(event, result).await
    }

    async fn list_promotions(
        &self,
        ctx: &RequestContext,
        filter: PromotionFilter,
    ) -> Result<Vec<PromotionRequest>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "promotion/")
            .await?;
        let visible = self.visible_environments(me);
        let now = self.clock.now();
        Ok(self
            .store
            .promotion_requests(PromotionQuery {
                workflow: filter.workflow.as_deref(),
                to_environment: filter.environment.as_deref(),
                state: filter.state,
                visible: visible.as_deref(),
                limit: LIST_LIMIT,
            })
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| PromotionRequest {
                state: s.request.state_at(now),
                ..s.request
            })
            .collect())
    }

    async fn promotion(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<PromotionDetail, PortError> {
        ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        self.authorize_environment_view(
            ctx,
            &stored.request.to_environment,
            &format!("promotion/{id}"),
        )
        .await?;
        self.expire_if_due(ctx, &stored).await;
        self.detail_of(self.stored_request(id).await?).await
    }

    async fn decide_promotion(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: PromotionDecision,
        comment: Option<String>,
    ) -> Result<PromotionDetail, PortError> {
        let action = match decision {
            PromotionDecision::Approve => AuditAction::PromotionApprove,
            PromotionDecision::Reject => AuditAction::PromotionReject,
            PromotionDecision::Cancel => AuditAction::PromotionCancel,
        };
        let mut event = self.event(ctx, action, format!("promotion/{id}"));
        let result = self
            .decide_checked(ctx, id, decision, comment, &mut event)
            .await;
        self.settle(event, result).await
    }

    async fn mark_checklist_item(
        &self,
        ctx: &RequestContext,
        id: &str,
        item: &str,
        mark: ChecklistMark,
    ) -> Result<PromotionDetail, PortError> {
        let action = if mark.checked {
            AuditAction::PromotionCheck
        } else {
            AuditAction::PromotionUncheck
        };
        let mut event = self.event(ctx, action, format!("promotion/{id}"));
        let result = self.mark_checked(ctx, id, item, mark, &mut event).await;
        self.settle(event, result).await
    }

    async fn roll_back(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        ask: RollbackAsk,
    ) -> Result<RollbackOutcome, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::WorkflowRollback,
            format!("workflow/{workflow}"),
        );
        let result = self.roll_back_checked(ctx, workflow, ask, &mut event).await;
        self.settle(event, result).await
    }

    async fn list_deployments(
        &self,
        ctx: &RequestContext,
        filter: DeploymentFilter,
    ) -> Result<Vec<Deployment>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "deployment/")
            .await?;
        let visible = self.visible_environments(me);
        let rows = self
            .store
            .deployments(LedgerQuery {
                workflow: filter.workflow.as_deref(),
                environment: filter.environment.as_deref(),
                until: filter.at,
                visible: visible.as_deref(),
                limit: if filter.at.is_some() {
                    100_000
                } else {
                    LIST_LIMIT
                },
            })
            .await
            .map_err(internal)?;
        if filter.at.is_none() {
            return Ok(rows);
        }
        // In force at `at`: the newest row per workflow and environment.
        let mut seen = std::collections::BTreeSet::new();
        Ok(rows
            .into_iter()
            .filter(|d| seen.insert((d.workflow.clone(), d.environment.clone())))
            .collect())
    }

    async fn workflow_diff(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        from: u32,
        to: u32,
    ) -> Result<SpecDiff, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("workflow/{workflow}"))
            .await?;
        let pointers = self.pointers(workflow).await?;
        self.diff_for(&pointers.workflow_id, to, Some(from)).await
    }

    async fn promotion_board(&self, ctx: &RequestContext) -> Result<PromotionBoard, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "promotion/")
            .await?;
        let names: Vec<String> = self
            .store
            .list_workflows(crate::store::versions::WorkflowView {
                environments: &self
                    .settings
                    .environments
                    .iter()
                    .map(|e| e.as_str().to_owned())
                    .collect::<Vec<_>>(),
                runs_in: Some(&[]),
            })
            .await
            .map_err(internal)?
            .into_iter()
            .map(|w| w.name)
            .collect();
        let mut rows = Vec::new();
        for workflow in names {
            let cells = self.board_cells(me, &workflow).await?;
            rows.push(BoardRow { workflow, cells });
        }
        Ok(PromotionBoard {
            environments: self
                .settings
                .environments
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            rows,
        })
    }

    async fn environment_policies(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<PolicyView>, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, "environment/")
            .await?;
        let mut out = Vec::new();
        for env in self.settings.environments.iter() {
            let (policy, saved) = self.policy_in(env).await?;
            out.push(PolicyView {
                environment: env.as_str().to_owned(),
                position: self.position(env),
                policy,
                is_default: saved.is_none(),
                updated_by: saved.as_ref().map(|s| s.updated_by.clone()),
                updated_at: saved.map(|s| s.updated_at),
            });
        }
        Ok(out)
    }

    async fn set_environment_policy(
        &self,
        ctx: &RequestContext,
        environment: &str,
        policy: EnvironmentPolicy,
    ) -> Result<PolicyView, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::PolicyUpdate,
            format!("environment/{environment}/policy"),
        );
        let result = self
            .policy_checked(ctx, environment, policy, &mut event)
            .await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    /// Promotes pending requests whose gate turned green since anyone last
    /// looked (a stage run arriving, a soak time passing) and expires
    /// overdue ones. `serve` calls it every few seconds; racing callers
    /// promote a request once (the store's compare-and-set).
    pub async fn advance_promotions(&self) -> Result<(), PortError> {
        let ctx = RequestContext {
            principal: Some(Principal {
                id: UserId("system:promotions".into()),
                kind: gantry_core::PrincipalKind::System,
                username: "gantry-promotions".into(),
                display_name: "Gantry (promotion gate)".into(),
                email: None,
                grants: Vec::new(),
                signed_in_at: None,
            }),
            request_id: uuid::Uuid::new_v4().to_string(),
            trace_id: None,
            source_ip: None,
            user_agent: None,
        };
        let pending = self
            .store
            .promotion_requests(PromotionQuery {
                state: Some(PromotionState::Pending),
                limit: LIST_LIMIT,
                ..PromotionQuery::default()
            })
            .await
            .map_err(internal)?;
        for stored in pending {
            if stored.request.state_at(self.clock.now()) == PromotionState::Expired {
                self.expire_if_due(&ctx, &stored).await;
            } else {
                self.promote_if_ready(&ctx, &stored.request.id).await?;
            }
        }
        Ok(())
    }
}
