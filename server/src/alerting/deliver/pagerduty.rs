//! PagerDuty Events API v2: a `trigger` per firing (a reminder triggers
//! again, which PagerDuty adds to the open alert) and a `resolve` with the
//! same `dedup_key`, the alert instance's fingerprint. A resolve carries
//! only what the API needs: routing key, action and dedup key.
//!
//! Limits from the API: `summary` at most 1,024 characters, `dedup_key`
//! at most 255 (a fingerprint is 16).

use super::{Request, Target, text};
use chrono::{DateTime, Utc};
use gantry_core::alert::{NoticeKind, Notification, Severity};
use serde_json::{Value, json};

/// PagerDuty's severities are Gantry's, one for one; a test is `info` so
/// services with severity-based urgency don't page anyone loudly.
fn severity(n: &Notification) -> &'static str {
    match n.notice {
        NoticeKind::Test => Severity::Info.as_str(),
        _ => n.severity.as_str(),
    }
}

fn routing_key(target: &Target) -> &str {
    target.routing_key.as_deref().unwrap_or_default()
}

/// The event for `n`: `trigger` for firing, reminder and test, `resolve`
/// for resolved.
pub(super) fn event(target: &Target, n: &Notification, now: DateTime<Utc>) -> Request {
    if n.notice == NoticeKind::Resolved {
        return resolve(target, n.fingerprint.clone());
    }
    let test = n.notice == NoticeKind::Test;
    let mut summary = format!("{}: {} ({})", n.rule, n.summary, text::scope(n));
    if test {
        summary = format!("[test] {summary}");
    }
    // When it happened: a firing delivered late still says when it began.
    let timestamp = match n.notice {
        NoticeKind::Firing => n.started_at,
        _ => now,
    };
    let mut payload = json!({
        "summary": text::clip(&summary, 1024),
        "source": "gantry",
        "severity": severity(n),
        "timestamp": text::time(timestamp),
        "group": n.environment,
        "class": n.rule_kind,
        "custom_details": details(n),
    });
    if !n.workflow.is_empty() {
        payload["component"] = json!(n.workflow);
    }
    let mut event = json!({
        "routing_key": routing_key(target),
        "event_action": "trigger",
        "dedup_key": text::dedup_key(n),
        "payload": payload,
        "client": "Gantry",
        "links": links(n),
    });
    if let Some(alert) = text::absolute(Some(&n.alert_url)) {
        event["client_url"] = json!(alert);
    }
    Request::json(target.url.clone(), Vec::new(), &event)
}

/// The resolve that follows a test's trigger at once, so a test incident
/// never waits for someone to close it by hand.
pub(super) fn test_resolve(target: &Target, n: &Notification) -> Option<Request> {
    (target.kind == gantry_core::alert::ChannelKind::Pagerduty && n.notice == NoticeKind::Test)
        .then(|| resolve(target, text::test_key(n)))
}

fn resolve(target: &Target, dedup_key: String) -> Request {
    let event = json!({
        "routing_key": routing_key(target),
        "event_action": "resolve",
        "dedup_key": dedup_key,
    });
    Request::json(target.url.clone(), Vec::new(), &event)
}

fn details(n: &Notification) -> Value {
    let mut details = json!({
        "rule": n.rule,
        "notice": n.notice.as_str(),
        "environment": n.environment,
        "started_at": text::time(n.started_at),
        "fingerprint": n.fingerprint,
    });
    if !n.workflow.is_empty() {
        details["workflow"] = json!(n.workflow);
    }
    if let Some(run) = &n.run_id {
        details["run_id"] = json!(run);
    }
    if n.notice == NoticeKind::Test {
        details["test"] = json!(true);
    }
    details
}

fn links(n: &Notification) -> Value {
    let mut links = Vec::new();
    if let Some(run) = text::absolute(n.run_url.as_deref()) {
        let label = match &n.run_id {
            Some(id) => format!("Run {id}"),
            None => "The run".to_string(),
        };
        links.push(json!({"href": run, "text": label}));
    }
    if let Some(alert) = text::absolute(Some(&n.alert_url)) {
        links.push(json!({"href": alert, "text": "Alert in Gantry"}));
    }
    Value::Array(links)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, ROUTING_KEY, at};
    use super::super::{request, requests};
    use super::*;

    #[test]
    fn a_firing_triggers_with_the_fingerprint_as_dedup_key() {
        let req = request(&fixture::pagerduty(), &fixture::firing(), at(10, 5));
        assert_eq!(req.url, "https://events.pagerduty.com/v2/enqueue");
        assert_eq!(
            fixture::body(&req),
            json!({
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "dedup_key": "f00dfeedcafe0001",
                "payload": {
                    "summary": "nightly keeps failing: 3 runs in a row failed (nightly in prod)",
                    "source": "gantry",
                    "severity": "critical",
                    "timestamp": "2026-12-05T10:00:00Z",
                    "component": "nightly",
                    "group": "prod",
                    "class": "consecutive_failures",
                    "custom_details": {
                        "rule": "nightly keeps failing",
                        "notice": "firing",
                        "workflow": "nightly",
                        "environment": "prod",
                        "started_at": "2026-12-05T10:00:00Z",
                        "fingerprint": "f00dfeedcafe0001",
                        "run_id": "run-42",
                    },
                },
                "links": [
                    {"href": "https://gantry.example/runs/run-42", "text": "Run run-42"},
                    {"href": "https://gantry.example/alerts/f00dfeedcafe0001", "text": "Alert in Gantry"},
                ],
                "client": "Gantry",
                "client_url": "https://gantry.example/alerts/f00dfeedcafe0001",
            })
        );
    }

    #[test]
    fn a_resolve_carries_only_what_the_api_needs() {
        let req = request(&fixture::pagerduty(), &fixture::resolved(), at(11, 1));
        assert_eq!(
            fixture::body(&req),
            json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "f00dfeedcafe0001"})
        );
    }

    #[test]
    fn each_severity_maps_to_its_pagerduty_name_and_reminders_are_dated_now() {
        for (ours, theirs) in [
            (Severity::Critical, "critical"),
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Info, "info"),
        ] {
            let n = Notification {
                severity: ours,
                notice: NoticeKind::Reminder,
                ..fixture::firing()
            };
            let b = fixture::body(&request(&fixture::pagerduty(), &n, at(12, 0)));
            assert_eq!(b["payload"]["severity"], theirs);
            assert_eq!(b["event_action"], "trigger");
            assert_eq!(b["payload"]["timestamp"], "2026-12-05T12:00:00Z");
        }
    }

    #[test]
    fn a_test_triggers_its_own_incident_and_resolves_it_at_once() {
        let reqs = requests(&fixture::pagerduty(), &fixture::test_notice(), at(10, 5));
        assert_eq!(reqs.len(), 2);
        let trigger = fixture::body(&reqs[0]);
        assert_eq!(trigger["event_action"], "trigger");
        assert_eq!(trigger["dedup_key"], "gantry-test-n-3");
        assert_eq!(trigger["payload"]["severity"], "info");
        assert_eq!(
            trigger["payload"]["summary"],
            "[test] nightly keeps failing: a test from the Alerts page (nightly in prod)"
        );
        assert_eq!(trigger["payload"]["custom_details"]["test"], true);
        assert_eq!(
            fixture::body(&reqs[1]),
            json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "gantry-test-n-3"})
        );
        // Everything else is one request.
        assert_eq!(
            requests(&fixture::pagerduty(), &fixture::firing(), at(10, 5)).len(),
            1
        );
        assert_eq!(
            requests(&fixture::webhook(), &fixture::test_notice(), at(10, 5)).len(),
            1
        );
    }

    #[test]
    fn the_summary_is_clipped_to_the_api_limit() {
        let n = Notification {
            summary: "x".repeat(5000),
            workflow: String::new(),
            ..fixture::firing()
        };
        let b = fixture::body(&request(&fixture::pagerduty(), &n, at(10, 5)));
        assert_eq!(
            b["payload"]["summary"].as_str().unwrap().chars().count(),
            1024
        );
        assert!(b["payload"].get("component").is_none());
    }
}
