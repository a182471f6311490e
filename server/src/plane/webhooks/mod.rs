//! Inbound webhooks through the port: admins of a hook's environment
//! create, rotate, retire and delete (`manage` below); senders deliver
//! (`deliver.rs`). Signing secrets are sealed at rest under the alert
//! credentials key (`alerting/seal.rs`), bound to `webhook:<name>`, and
//! shown once, in the answer that makes them. Rules: `core::webhook`.

mod deliver;

use crate::alerting::seal::Sealer;
use crate::plane::{GantryPlane, internal};
use crate::store::webhooks::{SecretsChange, StoredWebhook};
use async_trait::async_trait;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::identity::Role;
use gantry_core::port::{RequestContext, WebhookPort};
use gantry_core::spec::SpecProblem;
use gantry_core::webhook::{
    CreatedWebhook, DeliveryAnswer, InboundDelivery, SHOWN_DELIVERIES, WebhookAsk, WebhookDetail,
    WebhookView, validate,
};
use gantry_core::{Environment, PortError, Principal};
use serde::{Deserialize, Serialize};

/// What a hook keeps secret: the current signing secret and, during a
/// rotation, the previous one.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct HookSecrets {
    pub current: String,
    #[serde(default)]
    pub previous: Option<String>,
}

impl std::fmt::Debug for HookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookSecrets(…)")
    }
}

/// What a hook's seal is bound to: another hook's (or a channel's) sealed
/// secrets pasted onto this row don't open.
fn seal_binding(name: &str) -> String {
    format!("webhook:{name}")
}

/// 32 random bytes, hex, with a prefix that says what it is (and that
/// secret scanners can match).
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("gwhsec_{}", hex::encode(bytes))
}

impl GantryPlane {
    fn webhook_sealer(&self) -> Result<&Sealer, PortError> {
        self.settings
            .alerts
            .sealer
            .as_deref()
            .ok_or_else(|| PortError::Unavailable {
                message: "webhook secrets can't be stored: start the server with \
                          --alert-credentials-key-file (the same file for every serve process)"
                    .into(),
            })
    }

    pub(crate) fn open_hook_secrets(&self, hook: &StoredWebhook) -> Result<HookSecrets, PortError> {
        self.webhook_sealer()?
            .open_value(&seal_binding(&hook.view.name), &hook.sealed_secrets)
            .ok_or_else(|| {
                internal(format!(
                    "webhook {:?}: its sealed secrets don't open under this key",
                    hook.view.name
                ))
            })
    }

    fn seal_hook_secrets(&self, name: &str, secrets: &HookSecrets) -> Result<String, PortError> {
        self.webhook_sealer()?
            .seal_value(&seal_binding(name), secrets)
            .map_err(internal)
    }

    /// The caller, if an admin somewhere: hooks are admin business, and
    /// nobody else learns whether a name exists.
    fn webhook_admin<'a>(&self, ctx: &'a RequestContext) -> Result<&'a Principal, PortError> {
        let me = ctx.require_principal()?;
        if me.holds_anywhere(Role::Admin) {
            Ok(me)
        } else {
            Err(PortError::forbidden("webhooks are managed by admins"))
        }
    }

    /// The hook `name`, if the caller administers its environment.
    async fn managed_hook(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<StoredWebhook, PortError> {
        let me = self.webhook_admin(ctx)?;
        let hook = self
            .store
            .stored_webhook(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("webhook {name:?}")))?;
        event.environment = Some(hook.view.environment.clone());
        let env = Environment::parse(&hook.view.environment).map_err(internal)?;
        if !me.holds(Role::Admin, &env) {
            return Err(PortError::forbidden(format!(
                "webhooks of {env} are managed by its admins"
            )));
        }
        Ok(hook)
    }

    async fn create_hook_checked(
        &self,
        ctx: &RequestContext,
        ask: WebhookAsk,
        event: &mut AuditEvent,
    ) -> Result<CreatedWebhook, PortError> {
        let me = self.webhook_admin(ctx)?;
        let mut problems = validate(&ask);
        let name = ask.name.trim().to_owned();
        event.resource = format!("webhook/{name}");
        match self.environment(ask.environment.trim()) {
            Ok(env) => {
                event.environment = Some(env.as_str().to_owned());
                if !me.holds(Role::Admin, &env) {
                    return Err(PortError::forbidden(format!(
                        "webhooks of {env} are made by its admins"
                    )));
                }
                self.check_hook_workflow(&ask, &env, &mut problems).await?;
            }
            Err(PortError::Invalid { message, .. }) if !ask.environment.trim().is_empty() => {
                problems.push(SpecProblem::new("environment", message));
            }
            Err(_) => {}
        }
        if !problems.is_empty() {
            return Err(PortError::Unprocessable {
                message: "the webhook is not valid".into(),
                problems,
            });
        }
        let secrets = HookSecrets {
            current: new_secret(),
            previous: None,
        };
        let hook = StoredWebhook {
            sealed_secrets: self.seal_hook_secrets(&name, &secrets)?,
            view: WebhookView {
                name: name.clone(),
                environment: ask.environment.trim().to_owned(),
                workflow: ask.workflow.trim().to_owned(),
                mode: ask.mode,
                inputs: ask.inputs,
                events: ask.events,
                created_by: me.display_name.clone(),
                created_at: self.clock.now(),
                rotated_at: None,
                previous_active: false,
                retired_at: None,
            },
        };
        event.set_detail("workflow", hook.view.workflow.clone());
        event.set_detail("mode", hook.view.mode.as_str());
        event.set_detail(
            "inputs",
            serde_json::to_value(&hook.view.inputs).map_err(internal)?,
        );
        event.set_detail("events", hook.view.events.clone());
        if !self
            .store
            .insert_webhook(&hook, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!("a webhook named {name:?} exists; pick another name"),
            });
        }
        Ok(CreatedWebhook {
            hook: hook.view,
            secret: secrets.current,
        })
    }

    /// The workflow exists, and (where it is active in `env`) declares
    /// every mapped input.
    async fn check_hook_workflow(
        &self,
        ask: &WebhookAsk,
        env: &Environment,
        problems: &mut Vec<SpecProblem>,
    ) -> Result<(), PortError> {
        let workflow = ask.workflow.trim();
        if workflow.is_empty() {
            return Ok(());
        }
        if !self
            .store
            .workflow_exists(workflow)
            .await
            .map_err(internal)?
        {
            problems.push(SpecProblem::new(
                "workflow",
                format!("there is no workflow named {workflow:?}; apply it first"),
            ));
            return Ok(());
        }
        let active = self
            .store
            .active_spec(workflow, env.as_str())
            .await
            .map_err(internal)?;
        if let Some(active) = active {
            for input in ask.inputs.keys() {
                if !active.spec.inputs.contains_key(input) {
                    problems.push(SpecProblem::new(
                        format!("inputs.{input}"),
                        format!("{workflow} declares no input {input:?} (in {env})"),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn rotate_hook_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<CreatedWebhook, PortError> {
        let hook = self.managed_hook(ctx, name, event).await?;
        let secrets = self.open_hook_secrets(&hook)?;
        if secrets.previous.is_some() {
            return Err(PortError::Conflict {
                message: format!(
                    "webhook {name:?} still accepts its previous secret; retire it \
                     (POST …/retire-previous) once senders use the current one, then rotate"
                ),
            });
        }
        let rotated = HookSecrets {
            current: new_secret(),
            previous: Some(secrets.current),
        };
        let now = self.clock.now();
        let sealed = self.seal_hook_secrets(name, &rotated)?;
        let changed = self
            .store
            .change_webhook_secrets(
                SecretsChange {
                    name,
                    before: &hook.sealed_secrets,
                    sealed_secrets: &sealed,
                    previous_active: true,
                    rotated_at: Some(now),
                    retired_at: None,
                },
                event.clone(),
            )
            .await
            .map_err(internal)?;
        if !changed {
            return Err(changed_meanwhile(name));
        }
        let mut view = hook.view;
        view.rotated_at = Some(now);
        view.previous_active = true;
        Ok(CreatedWebhook {
            hook: view,
            secret: rotated.current,
        })
    }

    async fn retire_hook_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<WebhookView, PortError> {
        let hook = self.managed_hook(ctx, name, event).await?;
        let secrets = self.open_hook_secrets(&hook)?;
        if secrets.previous.is_none() {
            return Err(PortError::Conflict {
                message: format!("webhook {name:?} has no previous secret to retire"),
            });
        }
        let now = self.clock.now();
        let sealed = self.seal_hook_secrets(
            name,
            &HookSecrets {
                current: secrets.current,
                previous: None,
            },
        )?;
        let changed = self
            .store
            .change_webhook_secrets(
                SecretsChange {
                    name,
                    before: &hook.sealed_secrets,
                    sealed_secrets: &sealed,
                    previous_active: false,
                    rotated_at: None,
                    retired_at: Some(now),
                },
                event.clone(),
            )
            .await
            .map_err(internal)?;
        if !changed {
            return Err(changed_meanwhile(name));
        }
        let mut view = hook.view;
        view.previous_active = false;
        view.retired_at = Some(now);
        Ok(view)
    }

    async fn delete_hook_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        self.managed_hook(ctx, name, event).await?;
        if !self
            .store
            .delete_webhook(name, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("webhook {name:?}")));
        }
        Ok(())
    }
}

fn changed_meanwhile(name: &str) -> PortError {
    PortError::Conflict {
        message: format!("webhook {name:?} changed meanwhile; reload and try again"),
    }
}

#[async_trait]
impl WebhookPort for GantryPlane {
    async fn webhooks(&self, ctx: &RequestContext) -> Result<Vec<WebhookView>, PortError> {
        let me = self.webhook_admin(ctx)?;
        let administered: Vec<String> = self
            .settings
            .environments
            .iter()
            .filter(|e| me.holds(Role::Admin, e))
            .map(|e| e.as_str().to_owned())
            .collect();
        self.store
            .webhooks(Some(&administered))
            .await
            .map_err(internal)
    }

    async fn webhook(&self, ctx: &RequestContext, name: &str) -> Result<WebhookDetail, PortError> {
        let mut event = self.event(ctx, AuditAction::ViewDenied, format!("webhook/{name}"));
        let hook = match self.managed_hook(ctx, name, &mut event).await {
            Err(err @ PortError::Forbidden { .. }) => return self.settle(event, Err(err)).await,
            other => other?,
        };
        let deliveries = self
            .store
            .webhook_deliveries(name, SHOWN_DELIVERIES)
            .await
            .map_err(internal)?;
        Ok(WebhookDetail {
            hook: hook.view,
            deliveries,
        })
    }

    async fn create_webhook(
        &self,
        ctx: &RequestContext,
        ask: WebhookAsk,
    ) -> Result<CreatedWebhook, PortError> {
        let mut event = self.event(ctx, AuditAction::WebhookCreate, "webhook/");
        let result = self.create_hook_checked(ctx, ask, &mut event).await;
        self.settle(event, result).await
    }

    async fn rotate_webhook_secret(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<CreatedWebhook, PortError> {
        let mut event = self.event(ctx, AuditAction::WebhookRotate, format!("webhook/{name}"));
        let result = self.rotate_hook_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn retire_previous_webhook_secret(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<WebhookView, PortError> {
        let mut event = self.event(ctx, AuditAction::WebhookRetire, format!("webhook/{name}"));
        let result = self.retire_hook_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn delete_webhook(&self, ctx: &RequestContext, name: &str) -> Result<(), PortError> {
        let mut event = self.event(ctx, AuditAction::WebhookDelete, format!("webhook/{name}"));
        let result = self.delete_hook_checked(ctx, name, &mut event).await;
        self.settle(event, result).await
    }

    async fn deliver_webhook(
        &self,
        ctx: &RequestContext,
        name: &str,
        delivery: InboundDelivery,
    ) -> Result<DeliveryAnswer, PortError> {
        self.receive_delivery(ctx, name, delivery).await
    }
}
