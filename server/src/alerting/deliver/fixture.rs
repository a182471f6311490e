//! Notifications and channels the unit tests share.

use super::Target;
use chrono::{DateTime, TimeZone, Utc};
use gantry_core::alert::{ChannelKind, NoticeKind, Notification, Severity, SigningKey};

pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, h, m, 0).unwrap()
}

/// "nightly" failed three times in a row in prod; sent at 10:05.
pub fn firing() -> Notification {
    Notification {
        id: "n-1".into(),
        notice: NoticeKind::Firing,
        fingerprint: "f00dfeedcafe0001".into(),
        rule: "nightly keeps failing".into(),
        rule_kind: "consecutive_failures".into(),
        severity: Severity::Critical,
        workflow: "nightly".into(),
        environment: "prod".into(),
        summary: "3 runs in a row failed".into(),
        started_at: at(10, 0),
        resolved_at: None,
        run_id: Some("run-42".into()),
        run_url: Some("https://gantry.example/runs/run-42".into()),
        alert_url: "https://gantry.example/alerts/f00dfeedcafe0001".into(),
    }
}

pub fn resolved() -> Notification {
    Notification {
        id: "n-2".into(),
        notice: NoticeKind::Resolved,
        summary: "2 runs in a row succeeded".into(),
        resolved_at: Some(at(11, 0)),
        run_id: Some("run-44".into()),
        run_url: Some("https://gantry.example/runs/run-44".into()),
        ..firing()
    }
}

pub fn test_notice() -> Notification {
    Notification {
        id: "n-3".into(),
        notice: NoticeKind::Test,
        summary: "a test from the Alerts page".into(),
        run_id: None,
        run_url: None,
        ..firing()
    }
}

pub const SECRET_1: &str = "first-secret-0123456789";
pub const SECRET_2: &str = "second-secret-9876543210";
pub const SLACK_URL: &str = "https://hooks.slack.example/services/T000/B000/XXXXsl4ckPathSecret";
pub const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";
pub const BEARER: &str = "am-bearer-t0ken-value";

pub fn webhook() -> Target {
    Target {
        kind: ChannelKind::Webhook,
        url: "https://hooks.example/gantry".into(),
        signing_keys: vec![
            SigningKey {
                id: "k1".into(),
                secret: SECRET_1.into(),
            },
            SigningKey {
                id: "k2".into(),
                secret: SECRET_2.into(),
            },
        ],
        routing_key: None,
        bearer_token: None,
    }
}

pub fn slack() -> Target {
    Target {
        kind: ChannelKind::Slack,
        url: SLACK_URL.into(),
        signing_keys: vec![],
        routing_key: None,
        bearer_token: None,
    }
}

pub fn pagerduty() -> Target {
    Target {
        kind: ChannelKind::Pagerduty,
        url: gantry_core::alert::channel::PAGERDUTY_EVENTS_URL.into(),
        signing_keys: vec![],
        routing_key: Some(ROUTING_KEY.into()),
        bearer_token: None,
    }
}

pub fn alertmanager() -> Target {
    Target {
        kind: ChannelKind::Alertmanager,
        url: "http://alertmanager.example:9093/".into(),
        signing_keys: vec![],
        routing_key: None,
        bearer_token: Some(BEARER.into()),
    }
}

/// The body as JSON, for exact comparisons.
pub fn body(req: &super::Request) -> serde_json::Value {
    serde_json::from_slice(&req.body).unwrap()
}
