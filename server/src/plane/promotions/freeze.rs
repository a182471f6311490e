//! Freezes as promotions meet them: filing into a frozen environment is
//! refused, a pending request waits while a freeze holds in its target
//! (its gate says until when), and an admin of the target may break the
//! freeze for that one request. Rollbacks never look here. The windows
//! themselves are `plane/freezes.rs`.

use super::*;
use crate::store::freezes::BreakRecorded;
use chrono::{DateTime, Utc};
use gantry_core::freeze::{ActiveFreeze, BreakAsk, FreezeBreak, RequestFreeze, active_at};
use gantry_core::identity::Role;

impl GantryPlane {
    /// The freeze in force in `environment` at `now`, if any. Canary steps
    /// don't advance while one holds.
    pub(crate) async fn active_freeze(
        &self,
        environment: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActiveFreeze>, PortError> {
        let windows = self
            .store
            .freeze_windows(Some(environment))
            .await
            .map_err(internal)?;
        Ok(active_at(&windows, now))
    }

    /// Refuses filing a request into `env` while a freeze holds there. An
    /// admin of `env` may still file one: it waits like any pending
    /// request, so that they can break the freeze for it.
    pub(super) async fn refuse_if_frozen(
        &self,
        me: &Principal,
        env: &Environment,
    ) -> Result<(), PortError> {
        if me.holds(Role::Admin, env) {
            return Ok(());
        }
        match self.active_freeze(env.as_str(), self.clock.now()).await? {
            Some(active) => Err(PortError::Conflict {
                message: format!(
                    "{} (an admin of {env} may file it and break the freeze for one promotion)",
                    active.describe(env.as_str())
                ),
            }),
            None => Ok(()),
        }
    }

    /// A request's freeze: the one holding in its target now (only while
    /// it is pending) and the break recorded for it.
    pub(super) async fn request_freeze(
        &self,
        request: &PromotionRequest,
        pending: bool,
    ) -> Result<RequestFreeze, PortError> {
        let broken = self
            .store
            .freeze_break_for_request(&request.id)
            .await
            .map_err(internal)?;
        let active = if pending {
            self.active_freeze(&request.to_environment, self.clock.now())
                .await?
        } else {
            None
        };
        Ok(RequestFreeze { active, broken })
    }

    /// Break-glass: an admin of the target, signed in recently, lets one
    /// pending request through the freeze holding there, with a reason.
    pub(crate) async fn break_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        ask: BreakAsk,
        event: &mut AuditEvent,
    ) -> Result<PromotionDetail, PortError> {
        let me = ctx.require_principal()?;
        let stored = self.stored_request(id).await?;
        let r = stored.request.clone();
        event.environment = Some(r.to_environment.clone());
        event.set_detail("request", id);
        event.set_detail("workflow", r.workflow.clone());
        event.set_detail("version", r.version);
        let env = Environment::parse(&r.to_environment).map_err(internal)?;
        if !me.holds(Role::Admin, &env) {
            return Err(PortError::Forbidden {
                reason: format!("only an admin of {env} may break its freeze"),
            });
        }
        let fresh = self.freshness();
        if gantry_core::step_up::is_stale(me, fresh.now, fresh.max_age) {
            return Err(gantry_core::step_up::step_up_required(fresh.max_age));
        }
        let reason = clean_reason(&ask.reason)?;
        event.set_detail("reason", reason.clone());
        let now = self.clock.now();
        if r.state_at(now) != PromotionState::Pending {
            return Err(PortError::Conflict {
                message: format!(
                    "promotion request {id} is {} already; there is nothing to let through",
                    r.state_at(now).as_str()
                ),
            });
        }
        let Some(active) = self.active_freeze(env.as_str(), now).await? else {
            return Err(PortError::Conflict {
                message: format!("no freeze holds in {env} now; there is nothing to break"),
            });
        };
        let person = self.acting_person(me).await?;
        event.set_detail("window", active.window_id.clone());
        event.set_detail("frozen_until", active.until.to_rfc3339());
        let record = FreezeBreak {
            id: uuid::Uuid::now_v7().to_string(),
            environment: env.as_str().to_owned(),
            window_id: active.window_id,
            freeze_reason: active.reason,
            frozen_until: active.until,
            request_id: id.to_owned(),
            by: person,
            reason,
            at: now,
            reviewed_by: None,
            reviewed_at: None,
            review_comment: None,
        };
        event.set_detail("break", record.id.clone());
        match self
            .store
            .record_freeze_break(&record, event.clone())
            .await
            .map_err(internal)?
        {
            BreakRecorded::Done => {}
            BreakRecorded::NotPending => {
                return Err(PortError::Conflict {
                    message: format!("promotion request {id} was decided meanwhile"),
                });
            }
            BreakRecorded::AlreadyBroken => {
                return Err(PortError::Conflict {
                    message: format!("the freeze was broken for promotion request {id} already"),
                });
            }
        }
        tracing::info!(request_id = %ctx.request_id, promotion = %id, environment = %env,
            "freeze broken for one promotion");
        self.promote_if_ready(ctx, id).await
    }
}
