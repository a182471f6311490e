//! Alertmanager: `POST {url}/api/v2/alerts` with one alert, so teams that
//! route everything through Alertmanager keep its grouping, inhibition,
//! silences and receivers.
//!
//! Alertmanager resolves an alert by itself once its `endsAt` passes. A
//! firing alert is therefore sent with `endsAt` = now + [`ALERTMANAGER_HOLD`]
//! and the evaluator re-posts firing alerts more often than that; a
//! resolved one is sent with `endsAt` = when it resolved, which ends it at
//! once. Alertmanager identifies an alert by its label set, so the labels
//! are the same for every notice of one instance.

use super::{Request, Target, text};
use chrono::{DateTime, Utc};
use gantry_core::alert::{NoticeKind, Notification};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// How long a firing alert stays firing in Alertmanager without being
/// posted again.
pub const ALERTMANAGER_HOLD: Duration = Duration::from_secs(15 * 60);
/// A test alert ends by itself after this (Alertmanager then sends its
/// resolve), since nothing will resolve it.
pub const ALERTMANAGER_TEST_HOLD: Duration = Duration::from_secs(5 * 60);

pub(super) fn request(target: &Target, n: &Notification, now: DateTime<Utc>) -> Request {
    let url = format!("{}/api/v2/alerts", target.url.trim_end_matches('/'));
    let mut headers = Vec::new();
    if let Some(token) = &target.bearer_token {
        headers.push(("Authorization".to_string(), format!("Bearer {token}")));
    }
    Request::json(url, headers, &Value::Array(vec![alert(n, now)]))
}

fn after(now: DateTime<Utc>, hold: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(hold).unwrap_or_default()
}

fn alert(n: &Notification, now: DateTime<Utc>) -> Value {
    let test = n.notice == NoticeKind::Test;
    let mut labels = Map::new();
    let mut label = |name: &str, value: &str| {
        // An empty label is the same as none to Alertmanager.
        if !value.is_empty() {
            labels.insert(name.to_string(), json!(value));
        }
    };
    label("alertname", &n.rule);
    label("gantry_rule_kind", &n.rule_kind);
    label("workflow", &n.workflow);
    label("environment", &n.environment);
    label("severity", n.severity.as_str());
    label("fingerprint", &text::dedup_key(n));
    if test {
        label("gantry_test", "true");
    }
    let mut annotations = Map::new();
    let summary = if test {
        format!("[test] {}", n.summary)
    } else {
        n.summary.clone()
    };
    annotations.insert("summary".into(), json!(summary));
    if let Some(run) = &n.run_url {
        annotations.insert("run_url".into(), json!(run));
    }
    annotations.insert("alert_url".into(), json!(n.alert_url));
    let ends = match n.notice {
        NoticeKind::Resolved => n.resolved_at.unwrap_or(now),
        NoticeKind::Test => after(now, ALERTMANAGER_TEST_HOLD),
        NoticeKind::Firing | NoticeKind::Reminder => after(now, ALERTMANAGER_HOLD),
    };
    let mut alert = json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": text::time(n.started_at),
        "endsAt": text::time(ends),
    });
    if let Some(link) = text::absolute(n.run_url.as_deref()).or(text::absolute(Some(&n.alert_url)))
    {
        alert["generatorURL"] = json!(link);
    }
    alert
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, BEARER, at};
    use super::super::request as any_request;
    use super::*;

    #[test]
    fn a_firing_alert_holds_for_fifteen_minutes_with_its_labels() {
        let req = any_request(&fixture::alertmanager(), &fixture::firing(), at(10, 5));
        assert_eq!(req.url, "http://alertmanager.example:9093/api/v2/alerts");
        assert_eq!(
            req.header("Authorization"),
            Some(format!("Bearer {BEARER}").as_str())
        );
        assert_eq!(
            fixture::body(&req),
            json!([{
                "labels": {
                    "alertname": "nightly keeps failing",
                    "gantry_rule_kind": "consecutive_failures",
                    "workflow": "nightly",
                    "environment": "prod",
                    "severity": "critical",
                    "fingerprint": "f00dfeedcafe0001",
                },
                "annotations": {
                    "summary": "3 runs in a row failed",
                    "run_url": "https://gantry.example/runs/run-42",
                    "alert_url": "https://gantry.example/alerts/f00dfeedcafe0001",
                },
                "startsAt": "2026-12-05T10:00:00Z",
                "endsAt": "2026-12-05T10:20:00Z",
                "generatorURL": "https://gantry.example/runs/run-42",
            }])
        );
    }

    #[test]
    fn a_resolved_alert_ends_when_it_resolved_with_the_same_labels() {
        let firing = fixture::body(&any_request(
            &fixture::alertmanager(),
            &fixture::firing(),
            at(10, 5),
        ));
        let resolved = fixture::body(&any_request(
            &fixture::alertmanager(),
            &fixture::resolved(),
            at(11, 5),
        ));
        assert_eq!(resolved[0]["endsAt"], "2026-12-05T11:00:00Z");
        assert_eq!(resolved[0]["startsAt"], "2026-12-05T10:00:00Z");
        assert_eq!(resolved[0]["labels"], firing[0]["labels"]);
    }

    #[test]
    fn a_test_is_its_own_alert_that_ends_by_itself() {
        let mut target = fixture::alertmanager();
        target.bearer_token = None;
        let mut n = fixture::test_notice();
        n.alert_url = "/alerts/x".into();
        n.workflow = String::new();
        let req = any_request(&target, &n, at(10, 5));
        assert_eq!(req.header("Authorization"), None);
        let b = fixture::body(&req);
        assert_eq!(b[0]["labels"]["fingerprint"], "gantry-test-n-3");
        assert_eq!(b[0]["labels"]["gantry_test"], "true");
        assert!(b[0]["labels"].get("workflow").is_none());
        assert_eq!(
            b[0]["annotations"]["summary"],
            "[test] a test from the Alerts page"
        );
        assert_eq!(b[0]["endsAt"], "2026-12-05T10:10:00Z");
        // No absolute link to point back to.
        assert!(b[0].get("generatorURL").is_none());
    }
}
