//! Promotion in the port: requests into the next environment gated by the
//! target's policy (approvals by other people bound to what they reviewed,
//! a rollout checklist re-evaluated live at every step), rollback, the
//! ledger and the policies. The rules are `core::promotion`'s; this folder
//! gathers the facts, asks them, and hands the store one transaction per
//! change with its audit record: `gate.rs` (evaluating and promoting),
//! `requests.rs` (asking, deciding, ticking), `rollback.rs`, `policies.rs`,
//! `board.rs`; shared lookups and the port's methods here.

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
    Deployment, DeploymentKind, active_now, last_move, rollback_target, rolled_back_versions,
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
use gantry_core::promotion::verification::Verification;
use gantry_core::promotion::view::{
    ActiveCell, BoardCell, BoardRow, ChecklistMark, DeploymentFilter, LastRunCell, PendingCell,
    PolicyView, PromotionAsk, PromotionBoard, PromotionDecision, PromotionDetail, PromotionFilter,
    PromotionOutcome, RollbackAsk, RollbackOutcome, VerificationFilter,
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

mod board;
mod canaries;
mod freeze;
mod gate;
mod policies;
mod requests;
mod rollback;
mod verifications;

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
            .map_err(|e| match e {
                crate::store::StoreError::Database(sqlx::Error::RowNotFound) => {
                    PortError::not_found(format!("version {version}"))
                }
                other => internal(other),
            })
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

    async fn stored_request(&self, id: &str) -> Result<StoredPromotion, PortError> {
        uuid_or_not_found("promotion request", id)?;
        self.store
            .promotion_request(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("promotion request {id}")))
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
        self.expire_if_due(&stored).await;
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

    async fn list_verifications(
        &self,
        ctx: &RequestContext,
        filter: VerificationFilter,
    ) -> Result<Vec<Verification>, PortError> {
        self.visible_verifications(
            ctx,
            filter.workflow.as_deref(),
            filter.environment.as_deref(),
        )
        .await
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
