//! Alert delivery over real HTTP: the library the outbox sender calls
//! (`gantry_server::alerting::deliver`), sending to receivers on
//! 127.0.0.1. Slack and PagerDuty are services that can't run here, so
//! local stand-ins take their place: each checks the request against the
//! receiver's documented format (Slack's Block Kit limits, PagerDuty's
//! Events API v2 fields) and answers as they do. The webhook stand-in is a
//! receiver as `docs/alerting.md` tells people to write one. Alertmanager
//! is the real one (`alert_delivery/alertmanager.rs`).
//!
//! Every stand-in answers 429 with `Retry-After`, then 503, then success,
//! so each channel is seen classified as retry, retry, delivered.

mod alertmanager;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gantry_core::alert::{ChannelKind, NoticeKind, Notification, Severity, SigningKey};
use gantry_server::alerting::deliver::{
    Outcome, SIGNATURE_HEADER, TIMESTAMP_HEADER, Target, backoff, client, request, requests, send,
    verify,
};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as a stand-in saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, &'static str);

/// A receiver on 127.0.0.1: records every request, refuses with 400 and
/// the reason one that breaks its format, else answers from its script
/// (then `success` forever).
#[derive(Clone)]
pub(crate) struct StandIn {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    success: Answer,
    check: fn(&Seen) -> Result<(), String>,
    pub url: String,
}

impl StandIn {
    pub async fn start(
        check: fn(&Seen) -> Result<(), String>,
        script: Vec<Answer>,
        success: Answer,
    ) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stand_in = StandIn {
            seen: Arc::default(),
            script: Arc::new(Mutex::new(script.into())),
            success,
            check,
            url,
        };
        let router = Router::new().fallback(answer).with_state(stand_in.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        stand_in
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(State(s): State<StandIn>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let seen = Seen {
        path: uri.path().to_string(),
        headers,
        body,
    };
    let verdict = (s.check)(&seen);
    s.seen.lock().unwrap().push(seen);
    if let Err(why) = verdict {
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    let (status, headers, body) = s.script.lock().unwrap().pop_front().unwrap_or(s.success);
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// 429 asking for 7 s, then 503.
fn busy_then_down() -> Vec<Answer> {
    vec![
        (429, vec![("retry-after", "7")], "slow down"),
        (503, vec![], "maintenance"),
    ]
}

pub(crate) fn notification(notice: NoticeKind, workflow: &str, fingerprint: &str) -> Notification {
    let now = Utc::now();
    Notification {
        id: format!("n-{}", uuid::Uuid::new_v4()),
        notice,
        fingerprint: fingerprint.into(),
        rule: "nightly keeps failing".into(),
        rule_kind: "consecutive_failures".into(),
        severity: Severity::Error,
        workflow: workflow.into(),
        environment: "prod".into(),
        summary: "3 runs in a row failed".into(),
        started_at: now - chrono::Duration::minutes(5),
        resolved_at: (notice == NoticeKind::Resolved).then_some(now),
        run_id: Some("run-42".into()),
        run_url: Some("https://gantry.test/runs/run-42".into()),
        alert_url: format!("https://gantry.test/alerts/{fingerprint}"),
    }
}

/// What the outbox does: attempts until one isn't a retry, each request
/// built afresh. The waits themselves are the sender's; here only their
/// floor is checked.
async fn deliver_with_retries(target: &Target, n: &Notification) -> Vec<Outcome> {
    let client = client().unwrap();
    let mut outcomes = Vec::new();
    for attempt in 1..=5 {
        let mut last = None;
        for req in requests(target, n, Utc::now()) {
            let outcome = send(&client, &req, Duration::from_secs(10)).await;
            let failed = !matches!(outcome, Outcome::Delivered { .. });
            last = Some(outcome);
            if failed {
                break;
            }
        }
        let outcome = last.unwrap();
        if let Outcome::Retry { after, .. } = &outcome {
            let floor = after.unwrap_or_default();
            assert!(backoff(attempt, *after) >= floor);
        }
        let retry = matches!(outcome, Outcome::Retry { .. });
        outcomes.push(outcome);
        if !retry {
            break;
        }
    }
    outcomes
}

fn assert_retried_then_delivered(outcomes: &[Outcome], delivered: u16) {
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(
        matches!(&outcomes[0], Outcome::Retry { status: Some(429), after: Some(after), error }
            if *after == Duration::from_secs(7) && error.contains("429")),
        "{:?}",
        outcomes[0]
    );
    assert!(
        matches!(&outcomes[1], Outcome::Retry { status: Some(503), after: None, error }
            if error.contains("maintenance")),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(outcomes[2], Outcome::Delivered { status: delivered });
}

// ---- webhook -----------------------------------------------------------

const K1: &str = "first-secret-0123456789";
const K2: &str = "second-secret-9876543210";
const REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// The documented version 1 fields, all always present.
const WEBHOOK_FIELDS: [&str; 16] = [
    "version",
    "id",
    "status",
    "notice",
    "fingerprint",
    "rule",
    "rule_kind",
    "severity",
    "workflow",
    "environment",
    "summary",
    "started_at",
    "resolved_at",
    "run_id",
    "run_url",
    "alert_url",
];

/// A receiver as docs/alerting.md describes one: raw body, timestamp in the
/// replay window, a valid signature by a key it knows — here both keys are
/// checked, as two receivers would, one on each side of a rotation.
fn webhook_check(seen: &Seen) -> Result<(), String> {
    if seen.header("content-type") != Some("application/json") {
        return Err("content-type".into());
    }
    let ts = seen.header(TIMESTAMP_HEADER).ok_or("no timestamp")?;
    let sig = seen.header(SIGNATURE_HEADER).ok_or("no signature")?;
    for (id, secret) in [("k1", K1), ("k2", K2)] {
        if !verify(sig, ts, &seen.body, id, secret, Utc::now(), REPLAY_WINDOW) {
            return Err(format!("bad signature by {id}"));
        }
    }
    let body = seen.json();
    let fields: Vec<&str> = body
        .as_object()
        .ok_or("not an object")?
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = WEBHOOK_FIELDS.to_vec();
    let mut got = fields;
    want.sort_unstable();
    got.sort_unstable();
    if got != want {
        return Err(format!("fields {got:?}"));
    }
    if body["version"] != "1"
        || Some(body["id"].as_str().unwrap_or_default()) != seen.header("idempotency-key")
    {
        return Err("version or id".into());
    }
    for time in ["started_at", "resolved_at"] {
        if let Some(t) = body[time].as_str() {
            DateTime::parse_from_rfc3339(t).map_err(|e| format!("{time}: {e}"))?;
        }
    }
    Ok(())
}

fn webhook_target(url: String) -> Target {
    Target {
        kind: ChannelKind::Webhook,
        url,
        signing_keys: vec![
            SigningKey {
                id: "k1".into(),
                secret: K1.into(),
            },
            SigningKey {
                id: "k2".into(),
                secret: K2.into(),
            },
        ],
        routing_key: None,
        bearer_token: None,
    }
}

#[tokio::test]
async fn a_webhook_receiver_verifies_both_signatures_on_every_retry_of_one_notification() {
    let hook = StandIn::start(webhook_check, busy_then_down(), (204, vec![], "")).await;
    let target = webhook_target(format!("{}/gantry", hook.url));
    let n = notification(NoticeKind::Firing, "nightly", "fp-webhook");
    assert_retried_then_delivered(&deliver_with_retries(&target, &n).await, 204);

    let seen = hook.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.path, "/gantry");
        // One notification: one idempotency key across its attempts.
        assert_eq!(s.header("idempotency-key"), Some(n.id.as_str()));
        let body = s.json();
        assert_eq!(body["status"], "firing");
        assert_eq!(body["fingerprint"], "fp-webhook");
    }

    let resolved = notification(NoticeKind::Resolved, "nightly", "fp-webhook");
    let outcomes = deliver_with_retries(&target, &resolved).await;
    assert_eq!(outcomes, [Outcome::Delivered { status: 204 }]);
    let last = hook.seen().pop().unwrap().json();
    assert_eq!(
        (last["status"].as_str(), last["notice"].as_str()),
        (Some("resolved"), Some("resolved"))
    );
}

#[tokio::test]
async fn a_receiver_that_knows_only_a_retired_key_refuses_and_nothing_is_retried() {
    fn only_k0(seen: &Seen) -> Result<(), String> {
        let ts = seen.header(TIMESTAMP_HEADER).unwrap_or_default();
        let sig = seen.header(SIGNATURE_HEADER).unwrap_or_default();
        if verify(
            sig,
            ts,
            &seen.body,
            "k0",
            "retired-secret-000000",
            Utc::now(),
            REPLAY_WINDOW,
        ) {
            Ok(())
        } else {
            Err("signature_invalid".into())
        }
    }
    let hook = StandIn::start(only_k0, vec![], (200, vec![], "")).await;
    let target = webhook_target(format!("{}/gantry", hook.url));
    let outcomes =
        deliver_with_retries(&target, &notification(NoticeKind::Firing, "nightly", "fp")).await;
    assert_eq!(
        outcomes,
        [Outcome::Rejected {
            status: 400,
            error: "the receiver answered 400 Bad Request: signature_invalid".into()
        }]
    );
}

// ---- Slack (stand-in) --------------------------------------------------

/// Slack's documented Block Kit limits for an incoming webhook message
/// (the Block Kit reference: header ≤ 150 characters of plain_text; a
/// section's text ≤ 3,000, its fields ≤ 10 of ≤ 2,000 each; buttons with
/// plain_text labels ≤ 75 and URLs ≤ 3,000; ≤ 50 blocks). Slack answers
/// `invalid_blocks` with 400 for a message that breaks them.
fn slack_check(seen: &Seen) -> Result<(), String> {
    fn len(v: &Value) -> usize {
        v.as_str().map(|s| s.chars().count()).unwrap_or(usize::MAX)
    }
    fn text_object(v: &Value, max: usize, kinds: &[&str]) -> Result<(), String> {
        let kind = v["type"].as_str().unwrap_or_default();
        if !kinds.contains(&kind) || len(&v["text"]) == 0 || len(&v["text"]) > max {
            return Err(format!("invalid_blocks: text object {v}"));
        }
        Ok(())
    }
    if seen.header("content-type") != Some("application/json") {
        return Err("invalid_payload".into());
    }
    let body = seen.json();
    if len(&body["text"]) == 0 || len(&body["text"]) > 4000 {
        return Err("invalid_payload: text".into());
    }
    let blocks = body["blocks"].as_array().ok_or("invalid_blocks")?;
    if blocks.is_empty() || blocks.len() > 50 {
        return Err("invalid_blocks: count".into());
    }
    let mut action_ids = Vec::new();
    for block in blocks {
        match block["type"].as_str() {
            Some("header") => text_object(&block["text"], 150, &["plain_text"])?,
            Some("section") => {
                if let Some(fields) = block["fields"].as_array() {
                    if fields.len() > 10 {
                        return Err("invalid_blocks: fields".into());
                    }
                    for f in fields {
                        text_object(f, 2000, &["mrkdwn", "plain_text"])?;
                    }
                } else {
                    text_object(&block["text"], 3000, &["mrkdwn", "plain_text"])?;
                }
            }
            Some("actions") => {
                for e in block["elements"].as_array().ok_or("invalid_blocks")? {
                    text_object(&e["text"], 75, &["plain_text"])?;
                    let url = e["url"].as_str().unwrap_or_default();
                    if e["type"] != "button" || !url.starts_with("https://") || url.len() > 3000 {
                        return Err(format!("invalid_blocks: button {e}"));
                    }
                    action_ids.push(e["action_id"].as_str().unwrap_or_default().to_string());
                }
            }
            other => return Err(format!("invalid_blocks: type {other:?}")),
        }
    }
    let before = action_ids.len();
    action_ids.sort();
    action_ids.dedup();
    if action_ids.len() != before {
        return Err("invalid_blocks: duplicate action_id".into());
    }
    Ok(())
}

const SLACK_PATH: &str = "/services/T000/B000/sl4ckPathSecret";

fn slack_target(base: &str) -> Target {
    Target {
        kind: ChannelKind::Slack,
        url: format!("{base}{SLACK_PATH}"),
        signing_keys: vec![],
        routing_key: None,
        bearer_token: None,
    }
}

#[tokio::test]
async fn a_slack_stand_in_takes_firing_and_resolved_messages_within_block_kit_limits() {
    // Slack answers a plain "ok".
    let slack = StandIn::start(slack_check, busy_then_down(), (200, vec![], "ok")).await;
    let target = slack_target(&slack.url);
    let firing = notification(NoticeKind::Firing, "nightly", "fp-slack");
    assert_retried_then_delivered(&deliver_with_retries(&target, &firing).await, 200);

    let resolved = notification(NoticeKind::Resolved, "nightly", "fp-slack");
    assert_eq!(
        deliver_with_retries(&target, &resolved).await,
        [Outcome::Delivered { status: 200 }]
    );
    let mut test = notification(NoticeKind::Test, "", "fp-slack");
    test.summary = "x".repeat(10_000);
    test.rule = "<!channel> ".repeat(40);
    assert_eq!(
        deliver_with_retries(&target, &test).await,
        [Outcome::Delivered { status: 200 }]
    );

    let seen = slack.seen();
    assert!(seen.iter().all(|s| s.path == SLACK_PATH));
    let resolved = seen[3].json();
    assert!(
        resolved["text"]
            .as_str()
            .unwrap()
            .starts_with("Resolved: nightly keeps failing")
    );
    assert!(
        resolved["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Resolved")
    );
    let test = seen[4].json();
    assert!(
        test["text"]
            .as_str()
            .unwrap()
            .starts_with("Test from Gantry")
    );
    // mrkdwn would turn it into a mention (the header is plain_text, where
    // it is just text).
    assert!(
        test["text"].as_str().unwrap().contains("&lt;!channel&gt;"),
        "mentions are escaped: {test}"
    );
}

#[tokio::test]
async fn a_removed_slack_webhook_is_refused_and_the_error_holds_no_credential() {
    let slack = StandIn::start(
        slack_check,
        vec![(404, vec![], "no_service")],
        (200, vec![], "ok"),
    )
    .await;
    let outcomes = deliver_with_retries(
        &slack_target(&slack.url),
        &notification(NoticeKind::Firing, "nightly", "fp"),
    )
    .await;
    let [Outcome::Rejected { status: 404, error }] = &outcomes[..] else {
        panic!("{outcomes:?}");
    };
    assert!(
        error.contains("no_service") && error.contains("check the channel's URL"),
        "{error}"
    );
    assert!(
        !error.contains("sl4ckPathSecret") && !error.contains("T000"),
        "{error}"
    );
}

// ---- PagerDuty (stand-in) ----------------------------------------------

const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";

/// PagerDuty Events API v2 as documented ("Send an Alert Event"): a
/// 32-character routing key; `event_action` trigger, acknowledge or
/// resolve; `dedup_key` ≤ 255 characters (required to resolve); a trigger's
/// `payload` with `summary` (≤ 1,024), `source` and `severity` (critical,
/// error, warning, info), an ISO 8601 `timestamp`, and links with `href`.
/// It answers 202 with `{"status": "success", …}`, 400 for an invalid
/// event.
fn pagerduty_check(seen: &Seen) -> Result<(), String> {
    let invalid = |why: &str| {
        Err(format!(
            r#"{{"status":"invalid event","errors":["{why}"]}}"#
        ))
    };
    if seen.path != "/v2/enqueue" {
        return invalid("path");
    }
    let body = seen.json();
    if body["routing_key"].as_str().map(str::len) != Some(32) {
        return invalid("Length of 'routing_key' is incorrect (should be 32 characters)");
    }
    let dedup = body["dedup_key"].as_str().unwrap_or_default();
    if dedup.is_empty() || dedup.len() > 255 {
        return invalid("dedup_key");
    }
    match body["event_action"].as_str() {
        Some("trigger") => {
            let p = &body["payload"];
            let summary = p["summary"].as_str().unwrap_or_default();
            if summary.is_empty() || summary.chars().count() > 1024 {
                return invalid("payload.summary");
            }
            if p["source"].as_str().unwrap_or_default().is_empty() {
                return invalid("payload.source");
            }
            if !["critical", "error", "warning", "info"]
                .contains(&p["severity"].as_str().unwrap_or_default())
            {
                return invalid("payload.severity");
            }
            if DateTime::parse_from_rfc3339(p["timestamp"].as_str().unwrap_or_default()).is_err() {
                return invalid("payload.timestamp");
            }
            for link in body["links"].as_array().ok_or("links")? {
                if !link["href"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("https://")
                {
                    return invalid("links.href");
                }
            }
        }
        Some("resolve") => {
            if body.as_object().unwrap().len() != 3 {
                return invalid("a resolve carries routing_key, event_action and dedup_key only");
            }
        }
        _ => return invalid("event_action"),
    }
    Ok(())
}

#[tokio::test]
async fn a_pagerduty_stand_in_gets_trigger_and_resolve_with_one_dedup_key() {
    let accepted = (
        202,
        vec![],
        r#"{"status":"success","message":"Event processed"}"#,
    );
    let pd = StandIn::start(pagerduty_check, busy_then_down(), accepted).await;
    let target = Target {
        kind: ChannelKind::Pagerduty,
        url: format!("{}/v2/enqueue", pd.url),
        signing_keys: vec![],
        routing_key: Some(ROUTING_KEY.into()),
        bearer_token: None,
    };
    let firing = notification(NoticeKind::Firing, "nightly", "fp-pd");
    assert_retried_then_delivered(&deliver_with_retries(&target, &firing).await, 202);
    let resolved = notification(NoticeKind::Resolved, "nightly", "fp-pd");
    assert_eq!(
        deliver_with_retries(&target, &resolved).await,
        [Outcome::Delivered { status: 202 }]
    );

    let events: Vec<Value> = pd.seen().iter().map(Seen::json).collect();
    assert_eq!(events.len(), 4);
    assert!(
        events[..3]
            .iter()
            .all(|e| e["event_action"] == "trigger" && e["dedup_key"] == "fp-pd")
    );
    assert_eq!(events[0]["payload"]["severity"], "error");
    assert_eq!(events[0]["payload"]["component"], "nightly");
    assert_eq!(
        events[0]["links"][0]["href"],
        "https://gantry.test/runs/run-42"
    );
    assert_eq!(
        events[3],
        serde_json::json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "fp-pd"})
    );

    // A test triggers its own incident and resolves it straight away.
    let test = notification(NoticeKind::Test, "nightly", "fp-pd");
    assert_eq!(
        deliver_with_retries(&target, &test).await,
        [Outcome::Delivered { status: 202 }]
    );
    let events: Vec<Value> = pd.seen().iter().map(Seen::json).collect();
    let key = format!("gantry-test-{}", test.id);
    assert_eq!(
        (
            events[4]["event_action"].as_str(),
            events[4]["dedup_key"].as_str()
        ),
        (Some("trigger"), Some(key.as_str()))
    );
    assert!(
        events[4]["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("[test] ")
    );
    assert_eq!(
        (
            events[5]["event_action"].as_str(),
            events[5]["dedup_key"].as_str()
        ),
        (Some("resolve"), Some(key.as_str()))
    );
}

// ---- no answer ---------------------------------------------------------

#[tokio::test]
async fn no_connection_and_no_answer_are_retried_with_errors_free_of_credentials() {
    // A port nobody listens on any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let client = client().unwrap();
    let n = notification(NoticeKind::Firing, "nightly", "fp");
    let req = request(&slack_target(&format!("http://{closed}")), &n, Utc::now());
    let outcome = send(&client, &req, Duration::from_secs(5)).await;
    let Outcome::Retry {
        status: None,
        after: None,
        error,
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(!error.contains("sl4ckPathSecret"), "{error}");

    // A receiver that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = listener.local_addr().unwrap();
    let router = Router::new().fallback(std::future::pending::<&'static str>);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let req = request(&slack_target(&format!("http://{silent}")), &n, Utc::now());
    let outcome = send(&client, &req, Duration::from_millis(300)).await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            status: None,
            after: None,
            error: "no answer within 300ms".into()
        }
    );
}

#[tokio::test]
async fn a_redirect_is_refused_not_followed() {
    let moved = StandIn::start(
        |_| Ok(()),
        vec![(308, vec![("location", "https://elsewhere.test/hook")], "")],
        (200, vec![], ""),
    )
    .await;
    let target = webhook_target(format!("{}/old", moved.url));
    let outcomes =
        deliver_with_retries(&target, &notification(NoticeKind::Firing, "nightly", "fp")).await;
    let [Outcome::Rejected { status: 308, error }] = &outcomes[..] else {
        panic!("{outcomes:?}");
    };
    assert!(error.contains("redirect"), "{error}");
    assert_eq!(moved.seen().len(), 1);
}
