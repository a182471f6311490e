//! Silences and mute windows through the port.

use super::{MAX_MUTE, MAX_SILENCE, unprocessable};
use crate::alerting::silences;
use crate::plane::{GantryPlane, internal, uuid_or_not_found};
use chrono::Utc;
use gantry_core::PortError;
use gantry_core::alert::view::{SilenceSpec, SilenceView};
use gantry_core::audit::AuditEvent;
use gantry_core::port::RequestContext;
use gantry_core::rbac::Action;

impl GantryPlane {
    pub(super) async fn create_silence_checked(
        &self,
        ctx: &RequestContext,
        spec: SilenceSpec,
        event: &mut AuditEvent,
    ) -> Result<SilenceView, PortError> {
        let me = ctx.require_principal()?;
        event.environment = spec.environment.clone();
        let scope = self.alert_scope(spec.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        let now = self.clock.now();
        let view = self.checked_silence(spec, &me.display_name, now)?;
        event.resource = format!("silence/{}", view.id);
        event.set_detail("rule", view.rule.clone());
        event.set_detail("workflow", view.workflow.clone());
        event.set_detail("starts_at", view.starts_at.to_rfc3339());
        event.set_detail("ends_at", view.ends_at.map(|e| e.to_rfc3339()));
        event.set_detail("cron", view.cron.clone());
        event.set_detail("reason", view.reason.clone());
        self.store
            .insert_silence(&view, event.clone())
            .await
            .map_err(internal)?;
        self.wake_alerting();
        Ok(with_activity(view, now))
    }

    pub(super) fn checked_silence(
        &self,
        spec: SilenceSpec,
        creator: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<SilenceView, PortError> {
        let mut problems = Vec::new();
        let reason = spec.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 {
            problems.push((
                "reason".to_owned(),
                "say why, in 1 to 500 characters".to_owned(),
            ));
        }
        let starts_at = spec.starts_at.unwrap_or(now);
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        match (&spec.cron, spec.duration, spec.ends_at) {
            (Some(cron), Some(duration), None) => {
                if let Err(e) =
                    gantry_core::schedule::CronSchedule::parse(cron, spec.time_zone.as_deref())
                {
                    problems.push(("cron".to_owned(), e));
                }
                if duration.0.is_zero() || duration.0 > MAX_MUTE {
                    problems.push((
                        "duration".to_owned(),
                        "a mute window lasts from 1s to 7d".to_owned(),
                    ));
                }
            }
            (None, None, Some(ends_at)) => {
                if ends_at <= starts_at || ends_at <= now {
                    problems.push((
                        "ends_at".to_owned(),
                        "a silence ends after it starts, in the future".to_owned(),
                    ));
                } else if ends_at - starts_at > MAX_SILENCE {
                    problems.push((
                        "ends_at".to_owned(),
                        "a silence lasts at most 90 days; use a mute window for recurring quiet"
                            .to_owned(),
                    ));
                }
                if spec.time_zone.is_some() {
                    problems.push((
                        "time_zone".to_owned(),
                        "only mute windows (cron) take a time zone".to_owned(),
                    ));
                }
            }
            _ => problems.push((
                "ends_at".to_owned(),
                "give either ends_at (a silence) or cron and duration (a mute window)".to_owned(),
            )),
        }
        if !problems.is_empty() {
            return Err(unprocessable("the silence is not valid", problems));
        }
        Ok(SilenceView {
            id: uuid::Uuid::now_v7().to_string(),
            rule: blank(spec.rule),
            workflow: blank(spec.workflow),
            environment: blank(spec.environment),
            starts_at,
            ends_at: spec.ends_at,
            cron: spec.cron,
            duration_secs: spec.duration.map(|d| d.0.as_secs()),
            time_zone: spec.time_zone,
            reason,
            created_by: creator.to_owned(),
            created_at: now,
            expired_at: None,
            active: false,
        })
    }

    pub(super) async fn expire_silence_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        event: &mut AuditEvent,
    ) -> Result<SilenceView, PortError> {
        self.may_manage_some_alerts(ctx)?;
        uuid_or_not_found("silence", id)?;
        let silence = self
            .store
            .silence(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("silence {id}")))?;
        event.environment = silence.environment.clone();
        let scope = self.alert_scope(silence.environment.as_deref())?;
        self.authorize(ctx, &Action::ManageAlerts { scope })?;
        if silence.expired_at.is_some() {
            return Err(PortError::Conflict {
                message: "this silence was expired already".into(),
            });
        }
        let now = self.clock.now();
        let view = self
            .store
            .expire_silence(id, now, event.clone())
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("silence {id}")))?;
        self.wake_alerting();
        Ok(with_activity(view, now))
    }
}

pub(super) fn with_activity(mut view: SilenceView, now: chrono::DateTime<Utc>) -> SilenceView {
    view.active = silences::active(&view, now);
    view
}
