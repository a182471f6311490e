//! Asking for a promotion, deciding one (approve, reject, cancel) and
//! ticking its checklist: authorization first, then the state checks, then
//! one store transaction with its audit record.

use super::*;

impl GantryPlane {
    pub(super) async fn request_checked(
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
        self.refuse_if_frozen(me, &to).await?;
        let pointers = self.pointers(workflow).await?;
        if let Some(v) = ask.version {
            // A version that doesn't exist is unknown (404), not misplaced.
            self.spec_of(&pointers.workflow_id, v).await?;
        }
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

    pub(super) async fn decide_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: PromotionDecision,
        comment: Option<String>,
        event: &mut AuditEvent,
    ) -> Result<PromotionDetail, PortError> {
        let me = ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        self.expire_if_due(&stored).await;
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
                // A token where tokens may not decide is refused before
                // anything about the request is told (even "already approved").
                gantry_core::approval::check_token_may_decide(
                    me,
                    &env,
                    &self.settings.token_approvals,
                )?;
                let right = may_approve(&actor, &target, &review, &rights, &fresh)?;
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
                    gantry_core::approval::check_token_may_decide(
                        me,
                        &env,
                        &self.settings.token_approvals,
                    )?;
                    let right = may_reject(&actor, &target, &parties, &rights, &fresh)?;
                    if let gantry_core::promotion::ApprovalRight::Delegated { from } = right {
                        event.set_detail("on_behalf_of", serde_json::json!(from));
                    }
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

    pub(super) async fn mark_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        item: &str,
        mark: ChecklistMark,
        event: &mut AuditEvent,
    ) -> Result<PromotionDetail, PortError> {
        let me = ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        self.expire_if_due(&stored).await;
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
}
