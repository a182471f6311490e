//! The channel form: each kind's fields and write-only credentials, read
//! into a `ChannelSpec`.

use super::{bare, given};
use gantry_core::PortError;
use gantry_core::alert::{ChannelKind, ChannelSpec, SigningKey};
use gantry_core::spec::SpecProblem;
use serde::{Deserialize, Serialize};

/// A channel form as typed. Credentials are write-only: the form never
/// shows them back, and a refused form is shown again without them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelFields {
    /// Editing: the channel's name (channels can't be renamed).
    pub original: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub key_id: String,
    pub key_secret: String,
    pub next_key_id: String,
    pub next_key_secret: String,
    pub routing_key: String,
    pub bearer_token: String,
}

impl std::fmt::Debug for ChannelFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelFields")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl ChannelFields {
    pub const NAMES: [&'static str; 10] = [
        "original",
        "name",
        "kind",
        "url",
        "key_id",
        "key_secret",
        "next_key_id",
        "next_key_secret",
        "routing_key",
        "bearer_token",
    ];

    pub fn from_pairs(pairs: &[(String, String)]) -> ChannelFields {
        let mut f = ChannelFields::default();
        for (key, value) in pairs {
            let slot = match bare(key) {
                "original" => &mut f.original,
                "name" => &mut f.name,
                "kind" => &mut f.kind,
                "url" => &mut f.url,
                "key_id" => &mut f.key_id,
                "key_secret" => &mut f.key_secret,
                "next_key_id" => &mut f.next_key_id,
                "next_key_secret" => &mut f.next_key_secret,
                "routing_key" => &mut f.routing_key,
                "bearer_token" => &mut f.bearer_token,
                _ => continue,
            };
            slot.clone_from(value);
        }
        f
    }

    /// What may be shown again: everything but the credentials (and Slack's
    /// URL, which is one).
    pub fn without_credentials(&self) -> ChannelFields {
        ChannelFields {
            original: self.original.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            url: if self.kind == "slack" {
                String::new()
            } else {
                self.url.clone()
            },
            key_id: self.key_id.clone(),
            next_key_id: self.next_key_id.clone(),
            ..ChannelFields::default()
        }
    }

    /// The channel the form describes; the port checks the rest.
    pub fn to_spec(&self) -> Result<ChannelSpec, PortError> {
        let kind = match self.kind.trim() {
            "webhook" => ChannelKind::Webhook,
            "slack" => ChannelKind::Slack,
            "pagerduty" => ChannelKind::Pagerduty,
            "alertmanager" => ChannelKind::Alertmanager,
            other => {
                return Err(PortError::Unprocessable {
                    message: "the channel is not valid".into(),
                    problems: vec![SpecProblem::new(
                        "kind",
                        format!(
                            "{other:?} is not a kind of channel: webhook, slack, pagerduty or alertmanager"
                        ),
                    )],
                });
            }
        };
        let mut signing_keys = Vec::new();
        if kind == ChannelKind::Webhook {
            for (id, secret) in [
                (&self.key_id, &self.key_secret),
                (&self.next_key_id, &self.next_key_secret),
            ] {
                if !(id.trim().is_empty() && secret.is_empty()) {
                    signing_keys.push(SigningKey {
                        id: id.trim().to_owned(),
                        secret: secret.clone(),
                    });
                }
            }
        }
        let only = |wanted: ChannelKind, text: &str| {
            (kind == wanted)
                .then(|| text.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        Ok(ChannelSpec {
            name: self.name.trim().to_owned(),
            kind: Some(kind),
            url: given(&self.url),
            signing_keys,
            routing_key: only(ChannelKind::Pagerduty, &self.routing_key),
            bearer_token: only(ChannelKind::Alertmanager, &self.bearer_token),
        })
    }
}
