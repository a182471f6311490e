//! Alert channels through the port: credentials sealed and never shown
//! back, the webhook key Gantry makes, and the test notification.

use super::{LIST_LIMIT, unprocessable};
use crate::alerting::seal::Credentials;
use crate::plane::{GantryPlane, internal};
use crate::store::alerts::{NewNotification, StoredChannel};
use chrono::Utc;
use gantry_core::PortError;
use gantry_core::alert::channel::PAGERDUTY_EVENTS_URL;
use gantry_core::alert::view::{AlertFilter, CreatedChannel, NotificationView};
use gantry_core::alert::{
    ChannelKind, ChannelSpec, ChannelView, NoticeKind, Notification, Severity, SigningKey,
    channel::shown_url,
};
use gantry_core::audit::AuditEvent;
use gantry_core::port::RequestContext;
use gantry_core::rbac::Action;

impl GantryPlane {
    pub(super) fn sealer(&self) -> Result<&crate::alerting::seal::Sealer, PortError> {
        self.settings
            .alerts
            .sealer
            .as_deref()
            .ok_or_else(|| PortError::Unavailable {
                message: "channel credentials can't be stored: start the server with \
                      --alert-credentials-key-file (the same file for every serve process)"
                    .into(),
            })
    }

    /// The stored form of `spec`, and the signing key Gantry made for it.
    pub(super) fn stored_channel(
        &self,
        spec: &ChannelSpec,
        created_by: &str,
        created_at: chrono::DateTime<Utc>,
    ) -> Result<(StoredChannel, Option<SigningKey>), PortError> {
        let problems: Vec<(String, String)> = spec
            .validate()
            .into_iter()
            .map(|e| (e.field.to_owned(), e.message))
            .collect();
        if !problems.is_empty() {
            return Err(unprocessable("the channel is not valid", problems));
        }
        let kind = spec.kind.ok_or_else(|| {
            PortError::invalid("kind", "webhook, slack, pagerduty or alertmanager")
        })?;
        let mut generated = None;
        let mut signing_keys = spec.signing_keys.clone();
        if kind == ChannelKind::Webhook && signing_keys.is_empty() {
            let key = SigningKey {
                id: "k1".into(),
                secret: random_secret(),
            };
            generated = Some(key.clone());
            signing_keys.push(key);
        }
        let url = match spec.url.clone() {
            Some(url) => url,
            None if kind == ChannelKind::Pagerduty => PAGERDUTY_EVENTS_URL.to_owned(),
            None => String::new(),
        };
        // What may be a credential in the URL is sealed, never shown.
        let shown = shown_url(kind, &url);
        let secret_url = (shown != url).then_some(url);
        let credentials = Credentials {
            url: secret_url,
            signing_keys: signing_keys.clone(),
            routing_key: spec.routing_key.clone(),
            bearer_token: spec.bearer_token.clone(),
        };
        let name = spec.name.trim().to_owned();
        let sealed = self.sealer()?.seal(&name, &credentials).map_err(internal)?;
        Ok((
            StoredChannel {
                name,
                kind,
                url: shown,
                signing_key_ids: signing_keys.into_iter().map(|k| k.id).collect(),
                sealed,
                created_by: created_by.to_owned(),
                created_at,
                updated_at: created_at,
            },
            generated,
        ))
    }

    pub(super) async fn create_channel_checked(
        &self,
        ctx: &RequestContext,
        spec: ChannelSpec,
        event: &mut AuditEvent,
    ) -> Result<CreatedChannel, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        event.resource = format!("alert_channel/{}", spec.name.trim());
        let (channel, generated) =
            self.stored_channel(&spec, &me.display_name, self.clock.now())?;
        event.set_detail("kind", channel.kind.as_str());
        event.set_detail("url", channel.url.clone());
        event.set_detail("signing_key_ids", channel.signing_key_ids.clone());
        if !self
            .store
            .insert_alert_channel(&channel, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::Conflict {
                message: format!(
                    "a channel named {:?} exists; pick another name",
                    channel.name
                ),
            });
        }
        Ok(CreatedChannel {
            channel: channel_view(&channel),
            generated_signing_key: generated,
        })
    }

    pub(super) async fn replace_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        spec: ChannelSpec,
        event: &mut AuditEvent,
    ) -> Result<CreatedChannel, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        if spec.name.trim() != name {
            return Err(PortError::invalid(
                "name",
                format!(
                    "the body names {:?}, the path {name:?}; channels can't be renamed (rules name them)",
                    spec.name
                ),
            ));
        }
        let old = self
            .store
            .alert_channel(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("channel {name:?}")))?;
        let (mut channel, generated) =
            self.stored_channel(&spec, &me.display_name, self.clock.now())?;
        channel.created_by = old.created_by;
        channel.created_at = old.created_at;
        event.set_detail("kind", channel.kind.as_str());
        event.set_detail("url", channel.url.clone());
        event.set_detail("signing_key_ids", channel.signing_key_ids.clone());
        if !self
            .store
            .update_alert_channel(&channel, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("channel {name:?}")));
        }
        Ok(CreatedChannel {
            channel: channel_view(&channel),
            generated_signing_key: generated,
        })
    }

    pub(super) async fn delete_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<(), PortError> {
        self.authorize(ctx, &Action::ManageAlertChannels)?;
        let users: Vec<String> = self
            .store
            .alert_rules()
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|r| r.spec.channels.iter().any(|c| c == name))
            .map(|r| r.spec.name)
            .collect();
        if !users.is_empty() {
            return Err(PortError::Conflict {
                message: format!(
                    "rules still send to this channel: {}; change them first",
                    users.join(", ")
                ),
            });
        }
        if !self
            .store
            .delete_alert_channel(name, event.clone())
            .await
            .map_err(internal)?
        {
            return Err(PortError::not_found(format!("channel {name:?}")));
        }
        Ok(())
    }

    pub(super) async fn test_channel_checked(
        &self,
        ctx: &RequestContext,
        name: &str,
        event: &mut AuditEvent,
    ) -> Result<NotificationView, PortError> {
        let me = self.authorize(ctx, &Action::ManageAlertChannels)?;
        let channel = self
            .store
            .alert_channel(name)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("channel {name:?}")))?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let base = self.settings.public_url.trim_end_matches('/');
        let notification = Notification {
            id: id.clone(),
            notice: NoticeKind::Test,
            fingerprint: format!("test-{}", &id[id.len() - 12..]),
            rule: "test".into(),
            rule_kind: "test".into(),
            severity: Severity::Info,
            workflow: String::new(),
            environment: String::new(),
            summary: format!(
                "A test notification from Gantry, sent by {}",
                me.display_name
            ),
            started_at: now,
            resolved_at: None,
            run_id: None,
            run_url: None,
            alert_url: format!("{base}/alerts"),
        };
        event.set_detail("notification", id.clone());
        self.store
            .enqueue_notifications(
                &[NewNotification {
                    channel: channel.name.clone(),
                    notification,
                    at: now,
                }],
                event.clone(),
            )
            .await
            .map_err(internal)?;
        self.wake_alerting();
        let filter = AlertFilter::default();
        self.store
            .alert_notifications(&filter, None, LIST_LIMIT)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| internal("a queued test notification vanished"))
    }
}

/// 256 bits, hex: a signing key Gantry makes when none was given.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(super) fn channel_view(c: &StoredChannel) -> ChannelView {
    ChannelView {
        name: c.name.clone(),
        kind: c.kind,
        url: c.url.clone(),
        signing_key_ids: c.signing_key_ids.clone(),
        created_by: c.created_by.clone(),
        created_at: c.created_at,
    }
}
