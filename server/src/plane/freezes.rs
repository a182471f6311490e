//! Freeze windows in the port: declaring and deleting them (admins of the
//! environment), listing them with the freeze in force, break-glass (the
//! promotion side lives in `promotions/freeze.rs`) and the follow-up review
//! of breaks by another admin. Rules: `core::freeze`.

use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use crate::store::freezes::{BreakReview, FreezeDelete};
use async_trait::async_trait;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::freeze::{
    BreakAsk, EnvironmentFreezes, FreezeAsk, FreezeBreak, FreezeOverview, FreezeSchedule,
    FreezeView, FreezeWindow, ReviewAsk, active_at, active_until, next_start, validate,
};
use gantry_core::identity::Role;
use gantry_core::port::{FreezePort, RequestContext};
use gantry_core::promotion::view::PromotionDetail;
use gantry_core::rbac::Action;
use gantry_core::{Environment, PortError, Principal};

impl GantryPlane {
    fn require_env_admin(
        &self,
        me: &Principal,
        env: &Environment,
        act: &str,
    ) -> Result<(), PortError> {
        if me.holds(Role::Admin, env) {
            Ok(())
        } else {
            Err(PortError::Forbidden {
                reason: format!("only an admin of {env} may {act}"),
            })
        }
    }

    fn freeze_view(&self, window: FreezeWindow) -> FreezeView {
        let now = self.clock.now();
        FreezeView {
            active_until: active_until(&window, now),
            next_start: next_start(&window, now),
            window,
        }
    }

    async fn freezes_in(
        &self,
        me: &Principal,
        env: &Environment,
    ) -> Result<EnvironmentFreezes, PortError> {
        let windows = self
            .store
            .freeze_windows(Some(env.as_str()))
            .await
            .map_err(internal)?;
        Ok(EnvironmentFreezes {
            environment: env.as_str().to_owned(),
            active: active_at(&windows, self.clock.now()),
            windows: windows.into_iter().map(|w| self.freeze_view(w)).collect(),
            can_manage: me.holds(Role::Admin, env),
        })
    }

    async fn create_checked(
        &self,
        ctx: &RequestContext,
        environment: &str,
        ask: FreezeAsk,
        event: &mut AuditEvent,
    ) -> Result<FreezeView, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(environment)?;
        event.environment = Some(env.as_str().to_owned());
        self.require_env_admin(me, &env, "declare its freeze windows")?;
        let now = self.clock.now();
        if let Some(p) = validate(&ask, now).into_iter().next() {
            return Err(PortError::invalid(p.field, p.message));
        }
        let person = self
            .person_behind(me)
            .await?
            .ok_or_else(|| PortError::Forbidden {
                reason: "this credential acts for no known person; sign in or use a token made \
                         by a person"
                    .into(),
            })?;
        let schedule = match ask.schedule {
            FreezeSchedule::Recurring {
                cron,
                duration,
                timezone,
            } => FreezeSchedule::Recurring {
                cron: cron.trim().to_owned(),
                duration,
                timezone: timezone.trim().to_owned(),
            },
            one_off => one_off,
        };
        let window = FreezeWindow {
            id: uuid::Uuid::now_v7().to_string(),
            environment: env.as_str().to_owned(),
            reason: ask.reason.trim().to_owned(),
            schedule,
            created_by: person,
            created_at: now,
        };
        event.resource = format!("environment/{env}/freeze/{}", window.id);
        event.set_detail("reason", window.reason.clone());
        event.set_detail(
            "schedule",
            serde_json::to_value(&window.schedule).map_err(internal)?,
        );
        self.store
            .create_freeze(&window, event.clone())
            .await
            .map_err(internal)?;
        Ok(self.freeze_view(window))
    }

    async fn delete_checked(
        &self,
        ctx: &RequestContext,
        environment: &str,
        id: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(environment)?;
        event.environment = Some(env.as_str().to_owned());
        self.require_env_admin(me, &env, "delete its freeze windows")?;
        uuid_or_not_found("freeze window", id)?;
        let person = self
            .person_behind(me)
            .await?
            .ok_or_else(|| PortError::Forbidden {
                reason: "this credential acts for no known person".into(),
            })?;
        if !self
            .store
            .delete_freeze(
                FreezeDelete {
                    id,
                    environment: env.as_str(),
                    by: &person,
                    at: self.clock.now(),
                },
                event.clone(),
            )
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("freeze window {id} in {env}")));
        }
        Ok(())
    }

    async fn review_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        ask: ReviewAsk,
        event: &mut AuditEvent,
    ) -> Result<FreezeBreak, PortError> {
        let me = ctx.require_principal()?;
        uuid_or_not_found("freeze break", id)?;
        let found = self
            .store
            .freeze_break(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("freeze break {id}")))?;
        let env = Environment::parse(&found.environment).map_err(internal)?;
        event.environment = Some(env.as_str().to_owned());
        self.require_env_admin(me, &env, "review a broken freeze there")?;
        let person = self
            .person_behind(me)
            .await?
            .ok_or_else(|| PortError::Forbidden {
                reason: "this credential acts for no known person".into(),
            })?;
        if person.id == found.by.id {
            return Err(PortError::Forbidden {
                reason: "another admin must review the freeze you broke".into(),
            });
        }
        let comment = gantry_core::approval::clean_text("comment", ask.comment.as_deref())?;
        let now = self.clock.now();
        event.set_detail("request", found.request_id.clone());
        if !self
            .store
            .review_freeze_break(
                BreakReview {
                    id,
                    by: &person,
                    at: now,
                    comment: comment.as_deref(),
                },
                event.clone(),
            )
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!("freeze break {id} was reviewed already"),
            });
        }
        Ok(FreezeBreak {
            reviewed_by: Some(person),
            reviewed_at: Some(now),
            review_comment: comment,
            ..found
        })
    }
}

#[async_trait]
impl FreezePort for GantryPlane {
    async fn freezes(&self, ctx: &RequestContext) -> Result<FreezeOverview, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "freeze/")
            .await?;
        let visible = self.visible_environments(me);
        let mut environments = Vec::new();
        for env in self.settings.environments.iter() {
            if visible
                .as_ref()
                .is_some_and(|v| !v.iter().any(|e| e == env.as_str()))
            {
                continue;
            }
            environments.push(self.freezes_in(me, env).await?);
        }
        let awaiting_review = self
            .store
            .unreviewed_freeze_breaks(visible.as_deref())
            .await
            .map_err(internal)?;
        Ok(FreezeOverview {
            environments,
            awaiting_review,
        })
    }

    async fn environment_freezes(
        &self,
        ctx: &RequestContext,
        environment: &str,
    ) -> Result<EnvironmentFreezes, PortError> {
        ctx.require_principal()?;
        let env = self.environment(environment)?;
        let me = self
            .authorize_view(
                ctx,
                &Action::ViewEnvironment {
                    environment: env.clone(),
                },
                &format!("environment/{env}/freeze/"),
            )
            .await?;
        self.freezes_in(me, &env).await
    }

    async fn create_freeze(
        &self,
        ctx: &RequestContext,
        environment: &str,
        ask: FreezeAsk,
    ) -> Result<FreezeView, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::FreezeCreate,
            format!("environment/{environment}/freeze"),
        );
        let result = self.create_checked(ctx, environment, ask, &mut event).await;
        self.settle(event, result).await
    }

    async fn delete_freeze(
        &self,
        ctx: &RequestContext,
        environment: &str,
        id: &str,
    ) -> Result<(), PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::FreezeDelete,
            format!("environment/{environment}/freeze/{id}"),
        );
        let result = self.delete_checked(ctx, environment, id, &mut event).await;
        self.settle(event, result).await
    }

    async fn break_freeze(
        &self,
        ctx: &RequestContext,
        request_id: &str,
        ask: BreakAsk,
    ) -> Result<PromotionDetail, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::FreezeBreak,
            format!("promotion/{request_id}"),
        );
        let result = self.break_checked(ctx, request_id, ask, &mut event).await;
        self.settle(event, result).await
    }

    async fn review_freeze_break(
        &self,
        ctx: &RequestContext,
        id: &str,
        ask: ReviewAsk,
    ) -> Result<FreezeBreak, PortError> {
        let mut event = self.event(ctx, AuditAction::FreezeReview, format!("freeze_break/{id}"));
        let result = self.review_checked(ctx, id, ask, &mut event).await;
        self.settle(event, result).await
    }
}
