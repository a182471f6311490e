//! Four-eyes approvals in the port: filing a request instead of a run where
//! a workflow requires approval, listing requests, and deciding them. An
//! approval starts the run as the requester, in the same transaction as the
//! decision and its audit record (which names both people).

use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::approvals::{Decided, NewApproval, StoreDecision, StoredApproval};
use crate::store::runs::NewRun;
use crate::store::versions::ActiveSpec;
use async_trait::async_trait;
use gantry_core::approval::{
    ApprovalDecided, ApprovalDecision, ApprovalRequest, Parties, Person, check_decider,
    check_pending, check_people, check_token_may_decide, clean_text,
};
use gantry_core::audit::AuditAction;
use gantry_core::port::{ApprovalPort, RequestContext};
use gantry_core::promotion::delegation::{
    Actor, ApprovalRight, DelegatedRight, FourEyes, approval_right,
};
use gantry_core::promotion::{PromotionAct, Refusal};
use gantry_core::rbac::Action;
use gantry_core::run::Trigger;
use gantry_core::{Environment, PortError, Principal};
use serde_json::Value;
use std::collections::BTreeMap;

fn person(p: &Principal) -> Person {
    Person {
        id: p.id.0.clone(),
        name: p.display_name.clone(),
    }
}

fn check_id(id: &str) -> Result<(), PortError> {
    uuid_or_not_found("approval request", id)
}

#[async_trait]
impl ApprovalPort for GantryPlane {
    async fn list_approvals(
        &self,
        ctx: &RequestContext,
        pending: Option<bool>,
    ) -> Result<Vec<ApprovalRequest>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "approval/")
            .await?;
        let mut requests = self
            .store
            .list_approvals(pending, self.clock.now(), 200)
            .await
            .map_err(internal)?;
        if let Some(visible) = self.visible_environments(me) {
            requests.retain(|r| visible.contains(&r.environment));
        }
        Ok(requests)
    }

    async fn approval(&self, ctx: &RequestContext, id: &str) -> Result<ApprovalRequest, PortError> {
        self.authorize_view(ctx, &Action::ViewDashboard, &format!("approval/{id}"))
            .await?;
        check_id(id)?;
        let request = self
            .store
            .approval(id)
            .await
            .map_err(internal)?
            .map(|s| s.request)
            .ok_or_else(|| PortError::not_found(format!("approval request {id}")))?;
        self.authorize_environment_view(ctx, &request.environment, &format!("approval/{id}"))
            .await?;
        Ok(request)
    }

    async fn decide_approval(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: ApprovalDecision,
    ) -> Result<ApprovalDecided, PortError> {
        let action = if decision.approve {
            AuditAction::ApprovalApprove
        } else {
            AuditAction::ApprovalReject
        };
        let mut event = self.event(ctx, action, format!("approval/{id}"));
        let result = async {
            let me = ctx.require_principal()?;
            check_id(id)?;
            let comment = clean_text("comment", decision.comment.as_deref())?;
            let stored = self
                .store
                .approval(id)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("approval request {id}")))?;
            let request = &stored.request;
            event.environment = Some(request.environment.clone());
            event.set_detail("workflow", request.workflow.clone());
            event.set_detail("comment", comment.clone());
            let now = self.clock.now();
            let decider = self.person_behind(me).await?;
            let parties = Parties {
                decider: decider.as_ref().map(|p| p.id.as_str()),
                requester: &stored.requester_person,
                author: stored.author_person.as_deref(),
            };
            event.set_detail("decider_person", parties.decider);
            event.set_detail("requester_person", parties.requester);
            check_people(me, &parties, request)?;
            let environment = self.environment(&request.environment)?;
            let on_behalf_of = match self
                .run_decision_right(me, decider.as_ref(), &stored, &environment, now)
                .await?
            {
                ApprovalRight::Own => None,
                ApprovalRight::Delegated { from } => Some(from),
            };
            if let Some(from) = &on_behalf_of {
                event.set_detail("on_behalf_of", serde_json::json!(from));
            }
            check_token_may_decide(me, &environment, &self.settings.token_approvals)?;
            self.require_recent_sign_in(me, Some(&Action::DecideApproval { environment }))?;
            // The version that was asked for runs, even if another is active
            // by now: that is what the approver approved. (A rejection runs
            // nothing, so it reads no spec.)
            let active = if decision.approve {
                Some(ActiveSpec {
                    workflow_id: stored.workflow_id.clone(),
                    workflow: request.workflow.clone(),
                    version: request.version,
                    spec: self
                        .store
                        .version_spec(&stored.workflow_id, request.version)
                        .await
                        .map_err(internal)?,
                })
            } else {
                None
            };
            let run = active.as_ref().map(|active| NewRun {
                id: uuid::Uuid::now_v7().to_string(),
                active,
                // The approved version, outside any canary's analysis.
                canary: None,
                pinned: true,
                environment: &request.environment,
                inputs: &stored.inputs,
                trigger: Trigger::Manual,
                triggered_by: &request.requested_by.name,
                triggered_by_id: &request.requested_by.id,
                scheduled_for: None,
                traceparent: crate::runtime::telemetry::context::current_traceparent(),
                // An approver already decided it should run: no backpressure.
                backlog: None,
                rerun: None,
            });
            let decided = self
                .store
                .decide_approval(
                    id,
                    StoreDecision {
                        approve: decision.approve,
                        decider: &person(me),
                        comment: comment.as_deref(),
                        run,
                    },
                    now,
                    event.clone(),
                )
                .await
                .map_err(internal)?;
            match decided {
                Decided::Done(done) => {
                    if let Some(run) = &done.run {
                        self.admit_committed(&stored.workflow_id, &done.request.environment, now)
                            .await;
                        crate::runtime::metrics::run_started(
                            &run.workflow,
                            &done.request.environment,
                            Trigger::Manual.as_str(),
                        );
                    }
                    tracing::info!(request_id = %ctx.request_id, user = %me.username, approval = %id,
                        approved = decision.approve, "approval decided");
                    Ok(ApprovalDecided {
                        on_behalf_of,
                        ..*done
                    })
                }
                Decided::NoLongerPending(status) => Err(PortError::Conflict {
                    message: format!(
                        "request {id} is {}; only pending requests can be decided",
                        status.as_str()
                    ),
                }),
                Decided::NotFound => Err(PortError::not_found(format!("approval request {id}"))),
            }
        }
        .await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    /// Whose right `me` (acting for `decider`) decides `stored` with: their
    /// own role, else a delegation in force from someone who holds it there
    /// now, under the same four eyes (never for a request the delegate or
    /// the delegator made, or a version either applied). Without either,
    /// the refusal is the one a missing role always gave.
    async fn run_decision_right(
        &self,
        me: &Principal,
        decider: Option<&Person>,
        stored: &StoredApproval,
        environment: &Environment,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ApprovalRight, PortError> {
        let request = &stored.request;
        let denied = match check_decider(me, request, now) {
            Ok(()) => return Ok(ApprovalRight::Own),
            Err(denied @ PortError::Forbidden { .. }) => denied,
            Err(other) => return Err(other),
        };
        let Some(decider) = decider else {
            return Err(denied);
        };
        let loaded = self.delegated_rights(environment).await?;
        let rights: Vec<DelegatedRight<'_>> = loaded
            .iter()
            .map(|(delegation, delegator)| DelegatedRight {
                delegation,
                delegator,
            })
            .collect();
        let authors: Vec<String> = stored.author_person.iter().cloned().collect();
        let parties = FourEyes {
            workflow: &request.workflow,
            version: request.version,
            requester: &stored.requester_person,
            authors: &authors,
        };
        let actor = Actor {
            principal: me,
            person: Some(&decider.id),
        };
        match approval_right(
            &actor,
            environment,
            &parties,
            &rights,
            PromotionAct::DecideRun,
            now,
        ) {
            Ok(right @ ApprovalRight::Delegated { .. }) => {
                check_pending(request, now)?;
                Ok(right)
            }
            Err(refusal @ Refusal::DelegatorIsParty { .. }) => Err(refusal.into()),
            // No usable delegation: say what the role would have allowed.
            Ok(ApprovalRight::Own) | Err(_) => Err(denied),
        }
    }

    /// Files a request for a run the caller may start but that needs a
    /// second person. (Authorization to trigger is already checked.)
    pub(crate) async fn request_approval(
        &self,
        ctx: &RequestContext,
        active: &ActiveSpec,
        environment: &str,
        inputs: &BTreeMap<String, Value>,
        reason: Option<&str>,
    ) -> Result<ApprovalRequest, PortError> {
        let me = ctx.require_principal()?;
        let reason = clean_text("reason", reason)?;
        // A token whose maker is unknown stands for itself.
        let requester_person = self
            .person_behind(me)
            .await?
            .map_or_else(|| me.id.0.clone(), |p| p.id);
        let mut event = self
            .event(
                ctx,
                AuditAction::ApprovalRequest,
                format!("workflow/{}", active.workflow),
            )
            .detail("version", active.version)
            .detail("inputs", inputs.keys().cloned().collect::<Vec<_>>())
            .detail("reason", reason.clone());
        event.environment = Some(environment.to_owned());
        let request = self
            .store
            .create_approval(
                NewApproval {
                    workflow_id: &active.workflow_id,
                    workflow: &active.workflow,
                    version: active.version,
                    environment,
                    inputs,
                    reason: reason.as_deref(),
                    requested_by: &person(me),
                    requester_person: &requester_person,
                },
                self.clock.now(),
                event,
            )
            .await
            .map_err(internal)?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, approval = %request.id,
            workflow = %active.workflow, %environment, "run awaits approval");
        Ok(request)
    }
}
