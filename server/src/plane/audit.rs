//! How the port records what it does. A change's record is appended by the
//! store inside the change's own transaction (fail closed); refusals and
//! failures, where nothing changed, are appended on their own afterwards.

use crate::plane::GantryPlane;
use gantry_core::PortError;
use gantry_core::Principal;
use gantry_core::PrincipalKind;
use gantry_core::audit::{
    Actor, ActorKind, AuditAction, AuditEvent, MAX_FIELD_CHARS, Outcome, clip,
};
use gantry_core::break_glass::BREAK_GLASS_DETAIL;
use gantry_core::port::RequestContext;
use gantry_core::rbac::Action;

/// The audit actor for a principal: stable id plus the name shown today.
pub fn actor_of(principal: &Principal) -> Actor {
    Actor {
        kind: match principal.kind {
            PrincipalKind::User => ActorKind::User,
            PrincipalKind::ServiceToken => ActorKind::ServiceToken,
            PrincipalKind::ScimClient => ActorKind::ScimClient,
            PrincipalKind::Worker => ActorKind::Worker,
            PrincipalKind::MetricsScraper => ActorKind::MetricsScraper,
            PrincipalKind::System => ActorKind::System,
        },
        id: principal.id.0.clone(),
        name: principal.display_name.clone(),
    }
}

/// The caller as an audit actor (anonymous when there is none).
pub fn actor_for(ctx: &RequestContext) -> Actor {
    ctx.principal
        .as_ref()
        .map_or_else(Actor::anonymous, actor_of)
}

impl GantryPlane {
    /// A record of `action` on `resource` by the caller, stamped now, with
    /// where the request came from.
    pub(crate) fn event(
        &self,
        ctx: &RequestContext,
        action: AuditAction,
        resource: impl Into<String>,
    ) -> AuditEvent {
        let actor = actor_for(ctx);
        let field = |v: &Option<String>| v.clone().map(|v| clip(v, MAX_FIELD_CHARS));
        let event = AuditEvent {
            request_id: field(&Some(ctx.request_id.clone())).filter(|r| !r.is_empty()),
            trace_id: ctx.trace_id.clone(),
            source_ip: ctx.source_ip.clone(),
            user_agent: field(&ctx.user_agent),
            ..AuditEvent::new(self.clock.now(), actor, action, resource)
        };
        // Everything a break-glass session does says so, in the hashed
        // details (gantry_core::break_glass).
        match &ctx.principal {
            Some(p) if p.break_glass_until.is_some() => event.detail(BREAK_GLASS_DETAIL, true),
            _ => event,
        }
    }

    /// Passes `result` through, first recording it when it is an error: a
    /// refusal as `denied`, anything else as `failed`. Nothing changed, so
    /// the record has its own transaction; if even that fails the error is
    /// logged and the caller still gets the original error.
    pub(crate) async fn settle<T>(
        &self,
        mut event: AuditEvent,
        result: Result<T, PortError>,
    ) -> Result<T, PortError> {
        if let Err(err) = &result {
            event.outcome = match err {
                PortError::Forbidden { .. }
                | PortError::Unauthenticated
                | PortError::StepUpRequired { .. } => Outcome::Denied,
                _ => Outcome::Failed,
            };
            event.set_detail("error", failure_detail(err));
            self.append_standalone(event).await;
        }
        result
    }

    /// Authorizes a read. A refusal is a security event worth a record
    /// (`view.denied`); anonymous callers are not (the edge sends them to
    /// sign in).
    pub(crate) async fn authorize_view<'a>(
        &self,
        ctx: &'a RequestContext,
        action: &Action,
        resource: &str,
    ) -> Result<&'a Principal, PortError> {
        match self.authorize(ctx, action) {
            Err(err @ PortError::Forbidden { .. }) => {
                self.view_denied(ctx, action, resource, err).await
            }
            other => other,
        }
    }

    /// Records a view refused by authorization (`view.denied`) and passes
    /// the refusal on.
    pub(crate) async fn view_denied<T>(
        &self,
        ctx: &RequestContext,
        action: &Action,
        resource: &str,
        err: PortError,
    ) -> Result<T, PortError> {
        let event = self
            .event(ctx, AuditAction::ViewDenied, resource)
            .detail("action", serde_json::to_value(action).unwrap_or_default());
        self.settle(event, Err(err)).await
    }

    pub(crate) async fn append_standalone(&self, event: AuditEvent) {
        if let Err(e) = self.store.append_audit(event).await {
            tracing::error!(error = %e, "could not write an audit record of a refused or failed action");
        }
    }
}

/// What a failure's record says: the message the caller saw, whose internal
/// errors carry only a reference, never their cause
/// (`PortError`'s text already does that) cut to a sane length.
fn failure_detail(err: &PortError) -> String {
    clip(err.to_string(), MAX_ERROR_CHARS)
}

const MAX_ERROR_CHARS: usize = 1000;
