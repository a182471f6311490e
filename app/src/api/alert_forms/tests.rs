//! The forms read as the API would take them, and refused with every
//! field named.

use super::{ChannelFields, RULE_KINDS, RuleFields, SilenceFields};
use chrono::{DateTime, Utc};
use gantry_core::PortError;
use gantry_core::alert::RuleKind;
use gantry_core::alert::RuleSpec;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_consecutive_failures_form_reads_as_the_rule_the_api_takes() {
    let fields = RuleFields::from_pairs(&pairs(&[
        ("name", " flaky keeps failing "),
        ("kind", "consecutive_failures"),
        ("threshold", "3"),
        ("ratio", "not read for this kind"),
        ("workflow", "flaky"),
        ("environment", "dev"),
        ("labels", "team=data, tier = gold"),
        ("resolve_after", "2"),
        ("for_duration", "5m"),
        ("severity", "critical"),
        ("channels", "ops"),
        ("channels[]", "pager"),
    ]));
    let spec = fields.to_spec().unwrap();
    let api: RuleSpec = serde_json::from_value(serde_json::json!({
        "name": "flaky keeps failing", "kind": "consecutive_failures", "threshold": 3,
        "workflow": "flaky", "environment": "dev", "labels": {"team": "data", "tier": "gold"},
        "resolve_after": 2, "for_duration": "5m", "severity": "critical",
        "channels": ["ops", "pager"]
    }))
    .unwrap();
    assert_eq!(spec, api);
    // And back into the form for editing, then read again: the same rule.
    assert_eq!(RuleFields::of(&spec).to_spec().unwrap(), spec);
}

#[test]
fn every_kind_round_trips_through_the_form() {
    let kinds = [
        serde_json::json!({"kind": "failure_ratio", "ratio": 0.5, "min_runs": 4, "window": "1h", "resolve_ratio": 0.2}),
        serde_json::json!({"kind": "run_too_long", "max_duration": "2h", "target": "step"}),
        serde_json::json!({"kind": "missed_schedule", "grace": "10m"}),
        serde_json::json!({"kind": "queue_backlog", "max_depth": 100, "max_oldest_age": "5m"}),
        serde_json::json!({"kind": "auth_failures", "max_failures": 20, "window": "5m", "per_source": true}),
        serde_json::json!({"kind": "privilege_escalation"}),
        serde_json::json!({"kind": "slo_burn", "pairs": "ticket"}),
        serde_json::json!({"kind": "rollout_attention"}),
    ];
    for mut kind in kinds {
        kind["name"] = "r".into();
        let spec: RuleSpec = serde_json::from_value(kind).unwrap();
        let fields = RuleFields::of(&spec);
        assert_eq!(fields.to_spec().unwrap(), spec, "{fields:?}");
    }
    assert_eq!(RULE_KINDS.len(), 9);
}

#[test]
fn every_unreadable_field_is_named_under_the_ports_name_for_it() {
    let fields = RuleFields {
        name: "r".into(),
        kind: "failure_ratio".into(),
        ratio: "half".into(),
        min_runs: String::new(),
        window: "soon".into(),
        labels: "team".into(),
        resolve_after: "two".into(),
        renotify: "often".into(),
        ..RuleFields::default()
    };
    let Err(PortError::Unprocessable { problems, .. }) = fields.to_spec() else {
        panic!("expected problems");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "ratio",
            "min_runs",
            "window",
            "labels",
            "resolve_after",
            "renotify"
        ]
    );
    let unknown = RuleFields {
        kind: "canary".into(),
        ..RuleFields::default()
    };
    assert!(unknown.to_spec().is_err());
    assert!(matches!(
        RuleFields {
            kind: "privilege_escalation".into(),
            ..RuleFields::default()
        }
        .to_spec()
        .unwrap()
        .kind,
        RuleKind::PrivilegeEscalation {}
    ));
}

#[test]
fn channel_credentials_go_to_the_port_and_never_back_into_the_form() {
    let fields = ChannelFields::from_pairs(&pairs(&[
        ("name", "ops"),
        ("kind", "webhook"),
        ("url", "http://127.0.0.1:9/hook"),
        ("key_id", "k2"),
        ("key_secret", "0123456789abcdef-secret"),
        ("routing_key", "ignored for webhooks"),
    ]));
    let spec = fields.to_spec().unwrap();
    assert_eq!(spec.signing_keys.len(), 1);
    assert_eq!(spec.signing_keys[0].id, "k2");
    assert_eq!(spec.routing_key, None);
    let shown = fields.without_credentials();
    assert_eq!(shown.key_secret, "");
    assert_eq!(shown.url, "http://127.0.0.1:9/hook");
    assert!(!format!("{fields:?}").contains("secret"));
    let slack = ChannelFields {
        kind: "slack".into(),
        url: "https://hooks.slack.example/T/B/X".into(),
        ..ChannelFields::default()
    };
    assert_eq!(slack.without_credentials().url, "");
}

#[test]
fn a_silence_ends_at_a_moment_or_after_a_while_and_a_window_recurs() {
    let now = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let lasting = SilenceFields {
        workflow: "flaky".into(),
        lasts: "2h".into(),
        reason: "deploying".into(),
        ..SilenceFields::default()
    };
    let spec = lasting.to_spec(now).unwrap();
    assert_eq!(spec.ends_at, Some(now + chrono::Duration::hours(2)));
    assert_eq!(spec.workflow.as_deref(), Some("flaky"));
    let until = SilenceFields {
        ends_at: "2026-03-02T08:30".into(),
        ..lasting.clone()
    };
    assert_eq!(
        until.to_spec(now).unwrap().ends_at.map(|t| t.to_rfc3339()),
        Some("2026-03-02T08:30:00+00:00".into())
    );
    let window = SilenceFields {
        mode: "window".into(),
        cron: "0 2 * * *".into(),
        duration: "2h".into(),
        time_zone: "Europe/Berlin".into(),
        ..lasting
    };
    let spec = window.to_spec(now).unwrap();
    assert_eq!(spec.cron.as_deref(), Some("0 2 * * *"));
    assert_eq!(spec.ends_at, None);
    let bad = SilenceFields {
        ends_at: "tomorrow".into(),
        ..SilenceFields::default()
    };
    assert!(bad.to_spec(now).is_err());
}
