//! The gate: a request as its page shows it, evaluated now (diff, live
//! checklist, who approved what), promoting it the moment everything holds,
//! expiring it, and the background pass over pending requests.

use super::*;
use gantry_core::promotion::checklist::{ChecklistItemTemplate, ItemCheck};
use gantry_core::promotion::verification::checklist_for;

impl GantryPlane {
    /// Everything a request's page shows, and the live gate.
    pub(super) async fn detail_of(
        &self,
        stored: StoredPromotion,
    ) -> Result<PromotionDetail, PortError> {
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
                let items = self.checklist_items(&policy, &r.from_environment).await?;
                let facts = self.facts(&stored, &items, &diff).await?;
                evaluate(&items, &facts, &r.ticks)
            }
        };
        let basis = ReviewBasis {
            content_hash: r.content_hash.clone(),
            diff_digest: diff.digest(),
        };
        let gate = gate(&policy, &r.approvals, &basis, &checklist);
        // A freeze holding in the target keeps it waiting (freeze.rs).
        let freeze = self.request_freeze(r, pending).await?;
        let gate = freeze.apply_to(&r.to_environment, gate);
        let delegations = self
            .store
            .delegations(&r.to_environment, now)
            .await
            .map_err(internal)?;
        let (waits_for, canary) = if pending {
            match self
                .canary_blocks(&stored.workflow_id, &r.to_environment)
                .await?
            {
                Some((why, c)) => (Some(why), Some(c)),
                None => (None, None),
            }
        } else if deployment
            .as_ref()
            .is_some_and(|d| d.kind == DeploymentKind::Canary)
        {
            let started = self
                .store
                .canaries(crate::store::canaries::CanaryQuery {
                    workflow: Some(&r.workflow),
                    environment: Some(&r.to_environment),
                    limit: LIST_LIMIT,
                    ..Default::default()
                })
                .await
                .map_err(internal)?;
            (None, started.into_iter().find(|c| c.request_id == r.id))
        } else {
            (None, None)
        };
        let verification = if pending {
            None
        } else {
            self.store
                .verification_for_request(&r.id)
                .await
                .map_err(internal)?
        };
        Ok(PromotionDetail {
            verification,
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
            freeze,
            canary,
            waits_for,
        })
    }

    /// The items a promotion from `from` into the environment of `policy`
    /// is checked against: the policy's, and the verification item when
    /// `from` verifies.
    async fn checklist_items(
        &self,
        policy: &EnvironmentPolicy,
        from: &str,
    ) -> Result<Vec<ChecklistItemTemplate>, PortError> {
        let previous = match Environment::parse(from) {
            Ok(env) => self.policy_in(&env).await?.0,
            Err(_) => EnvironmentPolicy::default(),
        };
        Ok(checklist_for(policy, &previous))
    }

    /// What the checklist's automatic items are judged on, read now.
    pub(super) async fn facts(
        &self,
        stored: &StoredPromotion,
        items: &[ChecklistItemTemplate],
        diff: &SpecDiff,
    ) -> Result<ChecklistFacts, PortError> {
        let r = &stored.request;
        let now = self.clock.now();
        let mut run_windows = Vec::new();
        for window in run_windows_needed(items) {
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
        .then(|| last_move(&history, &r.from_environment).map(|d| d.at))
        .flatten();
        let target_last_run = self
            .store
            .last_finished_run(&stored.workflow_id, &r.to_environment)
            .await
            .map_err(internal)?
            .map(|(id, status)| LastRun { id, status });
        let asks = |check: ItemCheck| items.iter().any(|i| i.check == check);
        let firing_alerts = if asks(ItemCheck::NoFiringAlerts) {
            self.firing_on(&r.workflow, &[&r.from_environment, &r.to_environment])
                .await?
        } else {
            Vec::new()
        };
        let previous_verification = if asks(ItemCheck::LastVerificationPassed) {
            self.store
                .last_verification(&r.workflow, &r.from_environment)
                .await
                .map_err(internal)?
        } else {
            None
        };
        Ok(ChecklistFacts {
            now,
            previous_verification,
            firing_alerts,
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

    /// `rule (environment)` for each alert firing on `workflow` in one of
    /// `environments`.
    async fn firing_on(
        &self,
        workflow: &str,
        environments: &[&str],
    ) -> Result<Vec<String>, PortError> {
        let rules = self.store.alert_rules().await.map_err(internal)?;
        Ok(self
            .store
            .alert_instances()
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|i| {
                i.workflow == workflow
                    && environments.contains(&i.environment.as_str())
                    && i.state.phase == gantry_core::alert::Phase::Firing
            })
            .map(|i| {
                let rule = rules
                    .iter()
                    .find(|r| r.id == i.rule_id)
                    .map_or("a deleted rule", |r| r.spec.name.as_str());
                format!("{rule} ({})", i.environment)
            })
            .collect())
    }

    /// Promotes `stored` if its gate is green now (re-evaluated here, at
    /// the moment of promotion). Racing callers promote it once: the store
    /// checks the request is still pending and the target unmoved.
    pub(super) async fn promote_if_ready(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<PromotionDetail, PortError> {
        let stored = self.stored_request(id).await?;
        let detail = self.detail_of(stored.clone()).await?;
        if detail.request.state != PromotionState::Pending
            || !detail.gate.is_ready()
            || detail.waits_for.is_some()
        {
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
        // A canary plan, and a version to compare with: the canary takes a
        // share of the runs instead of the pointer moving.
        if let (Some(plan), Some(stable)) = (&detail.policy.canary, active) {
            self.start_canary(ctx, &stored, plan, stable, &approvers, &detail.checklist)
                .await?;
            return self.detail_of(self.stored_request(id).await?).await;
        }
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
    /// Whoever happens to look first, the expiry is the gate's doing, and
    /// its audit record says so.
    pub(super) async fn expire_if_due(&self, stored: &StoredPromotion) {
        let r = &stored.request;
        if r.state == PromotionState::Pending
            && r.state_at(self.clock.now()) == PromotionState::Expired
        {
            let mut event = self.event(
                &gate_context(),
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

    /// Promotes pending requests whose gate turned green since anyone last
    /// looked (a stage run arriving, a soak time passing) and expires
    /// overdue ones. `serve` calls it every few seconds; racing callers
    /// promote a request once (the store's compare-and-set).
    pub async fn advance_promotions(&self) -> Result<(), PortError> {
        let ctx = gate_context();
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
                self.expire_if_due(&stored).await;
            } else {
                self.promote_if_ready(&ctx, &stored.request.id).await?;
            }
        }
        Ok(())
    }
}

/// The promotion gate acting on its own: promoting requests that turned
/// green, expiring overdue ones.
fn gate_context() -> RequestContext {
    system_context(
        "system:promotions",
        "gantry-promotions",
        "Gantry (promotion gate)",
    )
}

/// Gantry itself as the caller (the gate, the canary analysis): a system
/// principal with no grants, and a request id of its own.
pub(super) fn system_context(id: &str, username: &str, display_name: &str) -> RequestContext {
    RequestContext {
        principal: Some(Principal {
            id: UserId(id.into()),
            kind: gantry_core::PrincipalKind::System,
            username: username.into(),
            display_name: display_name.into(),
            email: None,
            grants: Vec::new(),
            signed_in_at: None,
            break_glass_until: None,
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        trace_id: None,
        source_ip: None,
        user_agent: None,
    }
}
