//! Rate limits through the port: the defaults in force and admins'
//! overrides, each change audited in its transaction. The edge enforces
//! them (`crate::ratelimit`); a change here applies to this process's next
//! request and to the others' within seconds.

use crate::plane::{GantryPlane, internal};
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::AuditAction;
use gantry_core::port::{RateLimitPort, RequestContext};
use gantry_core::ratelimit::{OverrideAsk, OverrideSubject, Quota, RateLimitOverride, RateLimits};
use gantry_core::rbac::Action;
use gantry_core::token::TokenKind;

/// A group name's longest (identity providers' names are far shorter).
const MAX_SUBJECT_CHARS: usize = 256;
const MAX_NOTE_CHARS: usize = 500;

#[async_trait]
impl RateLimitPort for GantryPlane {
    async fn rate_limits(&self, ctx: &RequestContext) -> Result<RateLimits, PortError> {
        self.authorize_view(ctx, &Action::ManageRateLimits, "rate-limits")
            .await?;
        let overrides = self.store.rate_limit_overrides().await.map_err(internal)?;
        Ok(self.settings.rate_limits.view(overrides))
    }

    async fn set_rate_limit_override(
        &self,
        ctx: &RequestContext,
        ask: OverrideAsk,
    ) -> Result<RateLimitOverride, PortError> {
        let event = self
            .event(
                ctx,
                AuditAction::RateLimitSet,
                format!(
                    "rate-limit/{}/{}/{}",
                    ask.subject_kind.as_str(),
                    ask.subject,
                    ask.class.as_str()
                ),
            )
            .detail("class", ask.class.as_str())
            .detail("quota", ask.quota.clone());
        let result = async {
            let me = self.authorize(ctx, &Action::ManageRateLimits)?;
            let quota =
                Quota::parse(&ask.quota).map_err(|e| PortError::invalid("quota", e.to_string()))?;
            if ask.note.chars().count() > MAX_NOTE_CHARS {
                return Err(PortError::invalid(
                    "note",
                    format!("keep the note under {MAX_NOTE_CHARS} characters"),
                ));
            }
            let subject = self.override_subject(&ask).await?;
            let rule = RateLimitOverride {
                id: uuid::Uuid::new_v4().to_string(),
                subject_kind: ask.subject_kind,
                subject,
                class: ask.class,
                quota,
                note: ask.note.trim().to_owned(),
                created_by: me.display_name.clone(),
                created_at: self.clock.now(),
            };
            let stored = self
                .store
                .put_rate_limit_override(&rule, event.clone())
                .await
                .map_err(internal)?;
            self.settings.rate_limits.overrides_changed();
            Ok(stored)
        }
        .await;
        self.settle(event, result).await
    }

    async fn delete_rate_limit_override(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<RateLimitOverride, PortError> {
        let event = self.event(
            ctx,
            AuditAction::RateLimitDelete,
            format!("rate-limit/{id}"),
        );
        let result = async {
            self.authorize(ctx, &Action::ManageRateLimits)?;
            let gone = self
                .store
                .delete_rate_limit_override(id, event.clone())
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("rate-limit override {id:?}")))?;
            self.settings.rate_limits.overrides_changed();
            Ok(gone)
        }
        .await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    /// The override's subject as stored: a service token's id (named by
    /// id or name; it must exist), or a group's name.
    async fn override_subject(&self, ask: &OverrideAsk) -> Result<String, PortError> {
        let subject = ask.subject.trim();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(PortError::invalid(
                "subject",
                format!(
                    "name the {} (1 to {MAX_SUBJECT_CHARS} characters)",
                    ask.subject_kind.as_str()
                ),
            ));
        }
        // No control or invisible characters: PostgreSQL refuses a NUL in
        // text outright (the fuzzer's find: a 500), and a group or token
        // name never has one.
        gantry_core::text::check(subject, MAX_SUBJECT_CHARS, gantry_core::text::Lines::One)
            .map_err(|e| PortError::invalid("subject", format!("subject {e}")))?;
        match ask.subject_kind {
            OverrideSubject::Group => Ok(subject.to_owned()),
            OverrideSubject::Token => {
                let token = self
                    .store
                    .find_token(subject)
                    .await
                    .map_err(internal)?
                    .filter(|t| t.kind == TokenKind::Service)
                    // The body names a token that isn't there: what it
                    // refers to is missing, not the request malformed.
                    .ok_or_else(|| {
                        PortError::not_found(format!(
                            "service token {subject:?} (subject: a service token's id or name)"
                        ))
                    })?;
                Ok(token.id)
            }
        }
    }
}
