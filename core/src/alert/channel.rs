//! Where notifications go: a channel as people create it (`POST
//! /api/v1/alerts/channels`, the Alerts page) and as it is shown back.
//! Credentials (signing keys, Slack's URL, PagerDuty's routing key,
//! Alertmanager's bearer token) are write-only: [`ChannelSpec`] carries
//! them in, [`ChannelView`] never carries them out.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChannelKind {
    /// JSON to any URL, signed with HMAC-SHA256 (see `docs/alerting.md`).
    Webhook,
    /// A Slack incoming webhook (Block Kit message).
    Slack,
    /// PagerDuty Events API v2 (trigger and resolve by `dedup_key`).
    Pagerduty,
    /// Alertmanager's `POST /api/v2/alerts`.
    Alertmanager,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Pagerduty => "pagerduty",
            ChannelKind::Alertmanager => "alertmanager",
        }
    }
}

/// PagerDuty's public Events API v2 endpoint, the default for its channels.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// A webhook signing key. Two may be active at once, so a receiver can
/// rotate without a gap: every request carries a signature per key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKey {
    /// Sent in `Gantry-Signature` next to its signature, so the receiver
    /// knows which of its keys to check.
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A channel as created or replaced. Which fields apply depends on `kind`
/// (`validate` says what is missing or out of place).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelSpec {
    /// 1 to 100 letters, digits, `-`, `_` or `.`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9._-]{1,100}$", min_length = 1, max_length = 100)
    )]
    pub name: String,
    /// Required: the server refuses a channel without one.
    #[cfg_attr(feature = "openapi", schema(value_type = ChannelKind, required = true))]
    pub kind: Option<ChannelKind>,
    /// Webhook and Alertmanager: where to send (Alertmanager: its base
    /// URL, `/api/v2/alerts` is appended). Slack: the incoming-webhook URL,
    /// which is itself the credential and so never shown back.
    /// PagerDuty: optional, defaults to [`PAGERDUTY_EVENTS_URL`].
    #[serde(default)]
    pub url: Option<String>,
    /// Webhook: one or two signing keys. None given: Gantry makes one and
    /// shows it once, in the answer to the create.
    #[serde(default)]
    pub signing_keys: Vec<SigningKey>,
    /// PagerDuty: the integration's routing key.
    #[serde(default)]
    pub routing_key: Option<String>,
    /// Alertmanager: a bearer token, if a proxy in front of it wants one.
    #[serde(default)]
    pub bearer_token: Option<String>,
}

impl std::fmt::Debug for ChannelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What is wrong with a channel, naming the field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ChannelError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> ChannelError {
    ChannelError {
        field,
        message: message.into(),
    }
}

const MAX_NAME: usize = 100;
const MAX_KEYS: usize = 2;

impl ChannelSpec {
    /// Every problem at once, so a form can mark them all.
    pub fn validate(&self) -> Vec<ChannelError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errors.push(bad(
                "name",
                format!("1 to {MAX_NAME} letters, digits, '-', '_' or '.' (e.g. ops-webhook)"),
            ));
        }
        let Some(kind) = self.kind else {
            errors.push(bad(
                "kind",
                "one of webhook, slack, pagerduty, alertmanager",
            ));
            return errors;
        };
        let url_needed = !matches!(kind, ChannelKind::Pagerduty);
        match self.url.as_deref() {
            None if url_needed => errors.push(bad("url", "where to send, an http(s) URL")),
            None => {}
            Some(url) => {
                if let Some(problem) = url_problem(url) {
                    errors.push(bad("url", problem));
                }
            }
        }
        if !self.signing_keys.is_empty() && kind != ChannelKind::Webhook {
            errors.push(bad("signing_keys", "only webhook channels are signed"));
        }
        if self.signing_keys.len() > MAX_KEYS {
            errors.push(bad(
                "signing_keys",
                "at most two keys (the current one and the next, while receivers rotate)",
            ));
        }
        for key in &self.signing_keys {
            if key.id.is_empty()
                || key.id.len() > 64
                || !key
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                errors.push(bad(
                    "signing_keys",
                    "a key id of 1 to 64 letters, digits, '-' or '_'",
                ));
            }
            if key.secret.len() < 16 {
                errors.push(bad(
                    "signing_keys",
                    "a key secret of at least 16 characters",
                ));
            }
        }
        if self.signing_keys.len() == 2 && self.signing_keys[0].id == self.signing_keys[1].id {
            errors.push(bad("signing_keys", "the two keys need different ids"));
        }
        match (kind, self.routing_key.as_deref()) {
            (ChannelKind::Pagerduty, None) => errors.push(bad(
                "routing_key",
                "the integration key of the PagerDuty service (Events API v2)",
            )),
            (ChannelKind::Pagerduty, Some(key)) if key.trim().is_empty() || key.len() > 128 => {
                errors.push(bad("routing_key", "1 to 128 characters"))
            }
            (ChannelKind::Pagerduty, Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.push(bad("routing_key", "only PagerDuty channels take one")),
        }
        if self.bearer_token.is_some() && kind != ChannelKind::Alertmanager {
            errors.push(bad("bearer_token", "only Alertmanager channels take one"));
        }
        errors
    }
}

/// Why `url` can't be sent to, if it can't.
pub fn url_problem(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("an http:// or https:// URL".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Some("the URL names no host".into());
    }
    if host.contains('@') {
        return Some("no user or password in the URL (use the credential fields)".into());
    }
    if host_problem(host) {
        return Some(
            "a host name, an IPv4 address or an IPv6 address in brackets ([::1]), then \
             optionally :port"
                .into(),
        );
    }
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("a URL of at most 2048 characters without spaces".into());
    }
    None
}

/// Whether a URL's authority (`host[:port]`) is malformed: brackets that
/// don't enclose exactly an IPv6 address, or a port that isn't one.
fn host_problem(authority: &str) -> bool {
    let port = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return true;
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return true;
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return true,
        }
    } else {
        if authority.contains(['[', ']']) {
            return true;
        }
        authority.split_once(':').map(|(_, port)| port)
    };
    port.is_some_and(|port| !port.is_empty() && port.parse::<u16>().is_err())
}

/// What stands where a credential was in a URL shown back.
pub const URL_MASK: &str = "[masked]";

/// A channel's URL as it may be shown back (on the channel, in audit
/// records and in the notification history). Slack's is all credential:
/// scheme and host only. Any other URL's query may carry one (`?token=…`,
/// `?code=…` of function endpoints), so the query is masked; the full URL
/// is sealed with the channel's credentials and only the sender sees it.
pub fn shown_url(kind: ChannelKind, url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    if kind == ChannelKind::Slack {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        return format!("{scheme}://{host}/{URL_MASK}");
    }
    match url.split_once(['?', '#']) {
        Some((base, _)) => format!("{base}?{URL_MASK}"),
        None => url.to_owned(),
    }
}

/// A channel as shown back: never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub name: String,
    pub kind: ChannelKind,
    /// The URL as [`shown_url`] shows it: Slack's host only, others
    /// without their query.
    pub url: String,
    /// Ids of the active signing keys (webhook).
    #[serde(default)]
    pub signing_key_ids: Vec<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL whose host no client could connect to is refused, not saved
    /// (schemathesis crashed reading `http://[` back).
    #[test]
    fn urls_need_a_well_formed_host() {
        for good in [
            "http://example.com",
            "https://example.com:8443/hook?x=1",
            "http://127.0.0.1:9093/",
            "http://[::1]/",
            "http://[::1]:9093",
            "http://host:/",
        ] {
            assert_eq!(url_problem(good), None, "{good}");
        }
        for bad in [
            "http://[",
            "http://[::1",
            "http://[nonsense]/",
            "http://[::1]x/",
            "http://a]b/",
            "http://host:99999/",
            "http://host:port/",
        ] {
            assert!(url_problem(bad).is_some(), "{bad}");
        }
    }

    fn spec(json: &str) -> ChannelSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_kind_needs_its_own_fields() {
        assert!(
            spec(r#"{"name":"ops","kind":"webhook","url":"https://hooks.example/a"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            spec(r#"{"name":"pd","kind":"pagerduty","routing_key":"R0UT1NG"}"#)
                .validate()
                .is_empty()
        );
        let fields =
            |json| -> Vec<&'static str> { spec(json).validate().iter().map(|e| e.field).collect() };
        assert_eq!(
            fields(r#"{"name":"pd","kind":"pagerduty"}"#),
            ["routing_key"]
        );
        assert_eq!(fields(r#"{"name":"s","kind":"slack"}"#), ["url"]);
        assert_eq!(
            fields(r#"{"name":"a b","kind":"alertmanager","url":"ftp://x","routing_key":"k"}"#),
            ["name", "url", "routing_key"]
        );
        assert_eq!(fields(r#"{"name":"x"}"#), ["kind"]);
        assert_eq!(
            fields(
                r#"{"name":"w","kind":"webhook","url":"https://u:p@h/","signing_keys":[{"id":"a","secret":"short"},{"id":"a","secret":"0123456789abcdef"}]}"#
            ),
            ["url", "signing_keys", "signing_keys"]
        );
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let s = spec(
            r#"{"name":"w","kind":"webhook","url":"https://h/","signing_keys":[{"id":"k1","secret":"sup3r-s3cret-value"}]}"#,
        );
        assert!(!format!("{s:?}").contains("sup3r"));
        assert!(!format!("{:?}", s.signing_keys).contains("sup3r"));
    }

    #[test]
    fn urls_are_shown_without_what_may_be_a_credential() {
        assert_eq!(
            shown_url(
                ChannelKind::Slack,
                "https://hooks.slack.com/services/T0/B0/XyZ"
            ),
            "https://hooks.slack.com/[masked]"
        );
        assert_eq!(
            shown_url(
                ChannelKind::Webhook,
                "https://fn.example/hook?code=s3cr3t&x=1"
            ),
            "https://fn.example/hook?[masked]"
        );
        assert_eq!(
            shown_url(ChannelKind::Webhook, "https://hooks.example/a#frag"),
            "https://hooks.example/a?[masked]"
        );
        assert_eq!(
            shown_url(ChannelKind::Alertmanager, "http://127.0.0.1:9093"),
            "http://127.0.0.1:9093"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_str::<ChannelSpec>(r#"{"name":"x","kind":"slack","uri":"h"}"#)
                .is_err()
        );
    }
}
