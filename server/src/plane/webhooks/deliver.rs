//! A delivery to `POST /hooks/{name}`: the signature is checked under the
//! hook's current secret and, during a rotation, its previous one; a
//! refusal (wrong, stale, retired key, replayed id) is answered 401 and
//! put on record as a failed `webhook.delivery`. An accepted delivery is
//! recorded (its id claimed, so a replay finds it) with its audit record,
//! then starts the run as the hook: a system principal named after it,
//! holding the operator role in the hook's environment only, through the
//! same `trigger_run` as the API, so four eyes apply as to API triggers.

use super::HookSecrets;
use crate::plane::{GantryPlane, internal};
use crate::store::webhooks::DeliveryRecorded;
use gantry_core::audit::{AuditAction, AuditEvent, Outcome};
use gantry_core::environment::EnvScope;
use gantry_core::identity::{Role, RoleGrant, UserId};
use gantry_core::port::{RequestContext, RunPort};
use gantry_core::run::{Trigger, TriggerOutcome, TriggerRequest};
use gantry_core::webhook::signature::verify;
use gantry_core::webhook::{
    DeliveryAnswer, DeliveryOutcome, DeliveryView, InboundDelivery, map_inputs,
};
use gantry_core::{Environment, PortError, Principal, PrincipalKind};

impl GantryPlane {
    pub(super) async fn receive_delivery(
        &self,
        ctx: &RequestContext,
        name: &str,
        delivery: InboundDelivery,
    ) -> Result<DeliveryAnswer, PortError> {
        let mut event = self.event(ctx, AuditAction::WebhookDelivery, format!("webhook/{name}"));
        if let Some(id) = &delivery.delivery_id {
            event.set_detail("delivery_id", gantry_core::audit::clip(id.clone(), 128));
        }
        let hook = match self.store.stored_webhook(name).await.map_err(internal) {
            Ok(Some(hook)) => hook,
            // Nothing about hooks that don't exist, not even that.
            Ok(None) => {
                return self
                    .settle(event, Err(PortError::not_found("webhook")))
                    .await;
            }
            Err(e) => return self.settle(event, Err(e)).await,
        };
        event.environment = Some(hook.view.environment.clone());
        let secrets: HookSecrets = match self.open_hook_secrets(&hook) {
            Ok(s) => s,
            Err(e) => return self.settle(event, Err(e)).await,
        };
        let mut keys = vec![secrets.current.as_bytes()];
        keys.extend(secrets.previous.as_deref().map(str::as_bytes));
        let now = self.clock.now();
        let verified = match verify(hook.view.mode, &keys, &delivery, now.timestamp()) {
            Ok(v) => v,
            Err(refusal) => return Ok(self.refuse_delivery(event, &refusal.to_string()).await),
        };
        // Signed with its secret: the sender acts as the hook from here.
        let as_hook = match hook_context(ctx, &hook.view) {
            Ok(c) => c,
            Err(e) => return self.settle(event, Err(e)).await,
        };
        if let Some(principal) = &as_hook.principal {
            event.actor = crate::plane::actor_of(principal);
        }
        event.set_detail("delivery_id", verified.delivery_id.clone());
        event.set_detail("key", verified.key.as_str());
        if let Some(e) = &delivery.event {
            event.set_detail("event", gantry_core::audit::clip(e.clone(), 128));
        }
        let wanted = hook.view.events.is_empty()
            || delivery
                .event
                .as_ref()
                .is_some_and(|e| hook.view.events.contains(e));
        let mut record = DeliveryView {
            delivery_id: verified.delivery_id,
            received_at: now,
            event: delivery.event.clone(),
            outcome: if wanted {
                DeliveryOutcome::Failed
            } else {
                DeliveryOutcome::Ignored
            },
            status: if wanted { 500 } else { 202 },
            run_id: None,
            approval_id: None,
            error: wanted.then(|| "received; no run started yet".to_owned()),
        };
        event.set_detail("outcome", if wanted { "accepted" } else { "ignored" });
        match self
            .store
            .record_webhook_delivery(name, &record, event.clone())
            .await
            .map_err(internal)
        {
            Ok(DeliveryRecorded::Done) => {}
            Ok(DeliveryRecorded::Replay) => {
                let reason = format!(
                    "delivery {:?} was received before; a delivery is accepted once",
                    record.delivery_id
                );
                return Ok(self.refuse_delivery(event, &reason).await);
            }
            Err(e) => return Err(e),
        }
        if !wanted {
            return Ok(DeliveryAnswer::Ignored {
                event: delivery.event,
            });
        }
        let started = self
            .start_hook_run(&as_hook, &hook.view, &delivery.body)
            .await;
        match &started {
            Ok(DeliveryAnswer::Started { run_id }) => {
                record.outcome = DeliveryOutcome::Started;
                record.status = 202;
                record.run_id = Some(run_id.clone());
                record.error = None;
            }
            Ok(DeliveryAnswer::AwaitingApproval { approval_id }) => {
                record.outcome = DeliveryOutcome::AwaitingApproval;
                record.status = 202;
                record.approval_id = Some(approval_id.clone());
                record.error = None;
            }
            Ok(_) => {}
            Err(e) => {
                record.status = e.http_status();
                record.error = Some(gantry_core::audit::clip(e.to_string(), 500));
            }
        }
        if let Err(e) = self.store.settle_webhook_delivery(name, &record).await {
            tracing::warn!(error = %e, webhook = name, "could not record what a delivery did");
        }
        started
    }

    /// A refused signature: on record, and 401 to the sender.
    async fn refuse_delivery(&self, mut event: AuditEvent, reason: &str) -> DeliveryAnswer {
        event.outcome = Outcome::Denied;
        event.set_detail("error", reason.to_owned());
        self.append_standalone(event).await;
        tracing::info!(%reason, "webhook delivery refused");
        DeliveryAnswer::Rejected {
            reason: reason.to_owned(),
        }
    }

    async fn start_hook_run(
        &self,
        as_hook: &RequestContext,
        hook: &gantry_core::webhook::WebhookView,
        body: &[u8],
    ) -> Result<DeliveryAnswer, PortError> {
        let payload: serde_json::Value = if hook.inputs.is_empty() {
            serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::from_slice(body).map_err(|_| {
                PortError::invalid(
                    "body",
                    "the payload is not JSON; send it as application/json (GitHub: Content \
                     type application/json)",
                )
            })?
        };
        let request = TriggerRequest {
            workflow: hook.workflow.clone(),
            environment: hook.environment.clone(),
            inputs: map_inputs(&hook.inputs, &payload),
            reason: Some(format!("webhook {}", hook.name)),
            version: None,
        };
        match self.trigger_run(as_hook, request, Trigger::Api).await? {
            TriggerOutcome::Started { run } => Ok(DeliveryAnswer::Started { run_id: run.id }),
            TriggerOutcome::AwaitingApproval { approval } => Ok(DeliveryAnswer::AwaitingApproval {
                approval_id: approval.id,
            }),
        }
    }
}

/// The hook as the run's trigger: a system principal that may start runs
/// in its environment and do nothing else.
fn hook_context(
    ctx: &RequestContext,
    hook: &gantry_core::webhook::WebhookView,
) -> Result<RequestContext, PortError> {
    let env = Environment::parse(&hook.environment).map_err(internal)?;
    Ok(RequestContext {
        principal: Some(Principal {
            id: UserId(format!("webhook:{}", hook.name)),
            kind: PrincipalKind::System,
            username: format!("webhook:{}", hook.name),
            display_name: format!("webhook {}", hook.name),
            email: None,
            grants: vec![RoleGrant {
                role: Role::Operator,
                scope: EnvScope::Only(env),
                source: "webhook".into(),
            }],
            signed_in_at: None,
            break_glass_until: None,
        }),
        ..ctx.clone()
    })
}
