//! The request as the notification history keeps and shows it: URL,
//! headers and body, with every credential masked — signing secrets and
//! signatures, bearer tokens, PagerDuty's routing key, and the path of
//! Slack's URL (the URL is the credential).

use super::{Request, Target};
use gantry_core::alert::ChannelKind;
use serde_json::{Map, Value, json};

/// What stands where a credential was.
pub const MASK: &str = gantry_core::alert::channel::URL_MASK;

/// The same request for the notification history, credentials masked.
pub fn shown(target: &Target, req: &Request) -> Value {
    // The URL as the channel shows it: Slack's host only, others without
    // their query.
    let mut secrets = sent_credentials(req);
    secrets.extend(credentials_of(target));
    // Longest first, so a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let url = gantry_core::alert::channel::shown_url(target.kind, &req.url);
    let mut headers = Map::new();
    for (name, value) in &req.headers {
        let value = if name.eq_ignore_ascii_case(super::SIGNATURE_HEADER) {
            mask_signatures(value)
        } else if name.eq_ignore_ascii_case("authorization") {
            match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {MASK}"),
                None => MASK.to_string(),
            }
        } else {
            value.clone()
        };
        headers.insert(name.clone(), json!(value));
    }
    let body = match serde_json::from_slice::<Value>(&req.body) {
        Ok(mut body) => {
            if let Some(key) = body.get_mut("routing_key") {
                *key = json!(MASK);
            }
            body
        }
        Err(_) => json!(String::from_utf8_lossy(&req.body)),
    };
    let mut shown = json!({"url": url, "headers": headers, "body": body});
    // Whatever the structure missed (a credential echoed into a summary).
    mask_strings(&mut shown, &secrets);
    shown
}

/// `k1=<hex>, k2=<hex>` → `k1=[masked], k2=[masked]`: the key ids say
/// which keys signed, the values would let anyone replay the request.
fn mask_signatures(value: &str) -> String {
    value
        .split(',')
        .map(|part| match part.trim().split_once('=') {
            Some((id, _)) => format!("{id}={MASK}"),
            None => MASK.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mask_strings(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => {
            for secret in secrets {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), MASK);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask_strings(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| mask_strings(v, secrets)),
        _ => {}
    }
}

/// Credentials the channel holds.
fn credentials_of(target: &Target) -> Vec<String> {
    let mut out: Vec<String> = target
        .signing_keys
        .iter()
        .map(|k| k.secret.clone())
        .collect();
    out.extend(target.routing_key.clone());
    out.extend(target.bearer_token.clone());
    if target.kind == ChannelKind::Slack {
        out.extend(slack_path(&target.url));
        out.push(target.url.clone());
    }
    out.retain(|s| !s.is_empty());
    out
}

fn slack_path(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let path = u.path().trim_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

/// Credentials readable from the request alone (for scrubbing what a
/// receiver echoes back, where the target isn't at hand): signature
/// values, the bearer token, a routing key, and the URL's path and query
/// (Slack's path is the credential; other receivers may put a token in a
/// query string).
pub(super) fn credentials_in(req: &Request) -> Vec<String> {
    let mut out = sent_credentials(req);
    if let Ok(u) = reqwest::Url::parse(&req.url) {
        let path = u.path().trim_matches('/');
        // Short paths ("hook", "api/v2/alerts") are no secret and masking
        // them would garble the error text.
        if path.len() >= 16 {
            out.push(path.to_string());
        }
        out.extend(u.query().map(str::to_string));
    }
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// Signature values, the bearer token and a routing key, as sent.
fn sent_credentials(req: &Request) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(sigs) = req.header(super::SIGNATURE_HEADER) {
        out.extend(
            sigs.split(',')
                .filter_map(|p| p.trim().split_once('=').map(|(_, v)| v.to_string())),
        );
    }
    if let Some(auth) = req.header("authorization") {
        out.extend(auth.split_once(' ').map(|(_, t)| t.to_string()));
        out.push(auth.to_string());
    }
    if let Ok(body) = serde_json::from_slice::<Value>(&req.body)
        && let Some(key) = body.get("routing_key").and_then(Value::as_str)
    {
        out.push(key.to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, BEARER, ROUTING_KEY, SECRET_1, SECRET_2, SLACK_URL, at};
    use super::super::request;
    use super::*;
    use gantry_core::alert::Notification;

    fn notices() -> Vec<Notification> {
        vec![
            fixture::firing(),
            fixture::resolved(),
            fixture::test_notice(),
        ]
    }

    /// Every credential, and every signature actually sent.
    fn forbidden(target: &Target, req: &Request) -> Vec<String> {
        let mut all = credentials_of(target);
        all.extend(credentials_in(req).into_iter().filter(|s| s.len() >= 8));
        all.push("sl4ckPathSecret".into());
        all
    }

    #[test]
    fn no_credential_is_shown_for_any_channel_or_notice() {
        for target in [
            fixture::webhook(),
            fixture::slack(),
            fixture::pagerduty(),
            fixture::alertmanager(),
        ] {
            for n in notices() {
                let req = request(&target, &n, at(10, 5));
                let text = shown(&target, &req).to_string();
                for secret in forbidden(&target, &req) {
                    assert!(
                        !text.contains(&secret),
                        "{:?} shows a credential in {text}",
                        target.kind
                    );
                }
            }
        }
    }

    #[test]
    fn what_is_shown_keeps_what_helps_and_masks_the_rest() {
        let req = request(&fixture::webhook(), &fixture::firing(), at(10, 5));
        let s = shown(&fixture::webhook(), &req);
        assert_eq!(s["url"], "https://hooks.example/gantry");
        assert_eq!(s["headers"]["Gantry-Signature"], "k1=[masked], k2=[masked]");
        assert_eq!(s["headers"]["Idempotency-Key"], "n-1");
        assert_eq!(s["body"]["rule"], "nightly keeps failing");

        let mut long = fixture::webhook();
        long.url = "https://hooks.example/gantry/alerts-for-the-ops-team".into();
        let req = request(&long, &fixture::firing(), at(10, 5));
        assert_eq!(shown(&long, &req)["url"], long.url);

        let req = request(&fixture::slack(), &fixture::firing(), at(10, 5));
        assert_eq!(
            shown(&fixture::slack(), &req)["url"],
            "https://hooks.slack.example/[masked]"
        );

        let req = request(&fixture::pagerduty(), &fixture::firing(), at(10, 5));
        let s = shown(&fixture::pagerduty(), &req);
        assert_eq!(s["body"]["routing_key"], MASK);
        assert_eq!(s["body"]["dedup_key"], "f00dfeedcafe0001");

        let req = request(&fixture::alertmanager(), &fixture::firing(), at(10, 5));
        let s = shown(&fixture::alertmanager(), &req);
        assert_eq!(s["headers"]["Authorization"], "Bearer [masked]");
        assert_eq!(s["url"], "http://alertmanager.example:9093/api/v2/alerts");
    }

    #[test]
    fn a_credential_echoed_into_a_text_is_masked_too() {
        let mut n = fixture::firing();
        n.summary = format!("token {BEARER} key {ROUTING_KEY} {SECRET_1} {SECRET_2} {SLACK_URL}");
        for target in [
            fixture::webhook(),
            fixture::slack(),
            fixture::pagerduty(),
            fixture::alertmanager(),
        ] {
            let req = request(&target, &n, at(10, 5));
            let text = shown(&target, &req).to_string();
            for secret in credentials_of(&target) {
                assert!(!text.contains(&secret), "{:?}: {text}", target.kind);
            }
        }
    }
}
