use super::*;
use serde_json::json;

fn rule(value: serde_json::Value) -> RuleSpec {
    serde_json::from_value(value).unwrap()
}

fn fields(value: serde_json::Value) -> Vec<&'static str> {
    rule(value).validate().iter().map(|e| e.field).collect()
}

#[test]
fn the_issues_rest_shape_parses() {
    let rule: RuleSpec = serde_json::from_str(
        r#"{"name": "nightly keeps failing", "kind": "consecutive_failures", "threshold": 3,
            "workflow": "nightly", "environment": "dev", "resolve_after": 2,
            "channels": ["ops-webhook"]}"#,
    )
    .unwrap();
    assert_eq!(rule.kind, RuleKind::ConsecutiveFailures { threshold: 3 });
    assert_eq!(rule.resolve_after, 2);
    assert_eq!(rule.channels, ["ops-webhook"]);
    assert!(rule.validate().is_empty());
    let ratio: RuleSpec = serde_json::from_str(
        r#"{"name": "flaky", "kind": "failure_ratio", "ratio": 0.2, "min_runs": 10,
            "window": "1h", "resolve_ratio": 0.05}"#,
    )
    .unwrap();
    assert!(ratio.validate().is_empty(), "{:?}", ratio.validate());
    let round: RuleSpec = serde_json::from_value(serde_json::to_value(&ratio).unwrap()).unwrap();
    assert_eq!(round, ratio);
}

#[test]
fn every_bad_field_is_named() {
    let rule: RuleSpec = serde_json::from_str(
        r#"{"name": "", "kind": "failure_ratio", "ratio": 1.5, "min_runs": 0,
            "window": "1h", "resolve_ratio": 2.0, "resolve_after": 0, "renotify": "5s"}"#,
    )
    .unwrap();
    let fields: Vec<_> = rule.validate().iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "name",
            "ratio",
            "min_runs",
            "resolve_ratio",
            "resolve_after",
            "renotify"
        ]
    );
}

#[test]
fn unknown_kinds_and_misspelt_fields_are_refused() {
    assert!(serde_json::from_str::<RuleSpec>(r#"{"name":"x","kind":"vibes"}"#).is_err());
    // A misspelt field leaves the real one missing.
    let typo = serde_json::from_str::<RuleSpec>(
        r#"{"name":"x","kind":"consecutive_failures","treshold":4}"#,
    )
    .unwrap_err();
    assert!(typo.to_string().contains("threshold"), "{typo}");
    // A misspelt optional field is refused rather than left at its default.
    let typo = serde_json::from_str::<RuleSpec>(
        r#"{"name":"x","kind":"consecutive_failures","threshold":4,"resolve_afer":3}"#,
    )
    .unwrap_err();
    assert!(
        typo.to_string().contains("unknown field `resolve_afer`"),
        "{typo}"
    );
    let stray = serde_json::from_str::<RuleSpec>(
        r#"{"name":"x","kind":"privilege_escalation","threshold":4}"#,
    )
    .unwrap_err();
    assert!(
        stray.to_string().contains("unknown field `threshold`"),
        "{stray}"
    );
}

#[test]
fn every_kind_parses_from_its_rest_shape_and_round_trips() {
    let shapes = [
        json!({"name": "r", "kind": "run_too_long", "max_duration": "2h", "workflow": "etl-*"}),
        json!({"name": "r", "kind": "run_too_long", "max_duration": "30m", "target": "step"}),
        json!({"name": "r", "kind": "missed_schedule", "grace": "10m", "workflow": "backup"}),
        json!({"name": "r", "kind": "queue_backlog", "max_depth": 500, "for_duration": "10m"}),
        json!({"name": "r", "kind": "queue_backlog", "max_oldest_age": "5m"}),
        json!({"name": "r", "kind": "auth_failures", "max_failures": 20, "window": "5m", "per_source": true}),
        json!({"name": "r", "kind": "privilege_escalation", "environment": "prod", "severity": "critical"}),
        json!({"name": "r", "kind": "slo_burn", "pairs": "page", "labels": {"team": "data"}}),
        json!({"name": "r", "kind": "slo_burn", "pairs": "ticket"}),
    ];
    for shape in shapes {
        let parsed = rule(shape.clone());
        assert!(
            parsed.validate().is_empty(),
            "{shape}: {:?}",
            parsed.validate()
        );
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(back["kind"], parsed.kind.as_str(), "{shape}");
        assert_eq!(rule(back), parsed, "{shape}");
    }
    let defaults = rule(json!({"name": "r", "kind": "run_too_long", "max_duration": "1h"}));
    assert_eq!(
        defaults.kind,
        RuleKind::RunTooLong {
            max_duration: SpecDuration(Duration::from_secs(3600)),
            target: LongTarget::Run
        }
    );
}

#[test]
fn run_based_kinds_are_judged_on_runs_the_others_on_passes() {
    let cases = [
        (
            json!({"kind": "consecutive_failures", "threshold": 1}),
            Judged::RunEnd,
        ),
        (
            json!({"kind": "failure_ratio", "ratio": 0.5, "min_runs": 1, "window": "1h"}),
            Judged::RunEnd,
        ),
        (
            json!({"kind": "run_too_long", "max_duration": "1h"}),
            Judged::Pass,
        ),
        (
            json!({"kind": "missed_schedule", "grace": "5m"}),
            Judged::Pass,
        ),
        (
            json!({"kind": "queue_backlog", "max_depth": 1}),
            Judged::Pass,
        ),
        (
            json!({"kind": "auth_failures", "max_failures": 1, "window": "1m"}),
            Judged::Pass,
        ),
        (json!({"kind": "privilege_escalation"}), Judged::Pass),
        (json!({"kind": "slo_burn", "pairs": "page"}), Judged::Pass),
    ];
    for (kind, judged) in cases {
        let kind: RuleKind = serde_json::from_value(kind.clone()).unwrap();
        assert_eq!(kind.judged_on(), judged, "{kind:?}");
    }
}

#[test]
fn each_new_kind_names_its_bad_fields() {
    let cases = [
        (
            json!({"kind": "run_too_long", "max_duration": "30s"}),
            vec!["max_duration"],
        ),
        (
            json!({"kind": "run_too_long", "max_duration": "8d"}),
            vec!["max_duration"],
        ),
        (
            json!({"kind": "missed_schedule", "grace": "0s"}),
            vec!["grace"],
        ),
        (json!({"kind": "queue_backlog"}), vec!["max_depth"]),
        (
            json!({"kind": "queue_backlog", "max_depth": 0, "max_oldest_age": "10s"}),
            vec!["max_depth", "max_oldest_age"],
        ),
        (
            json!({"kind": "auth_failures", "max_failures": 0, "window": "2d"}),
            vec!["max_failures", "window"],
        ),
        (
            json!({"kind": "privilege_escalation", "for_duration": "5m"}),
            vec!["for_duration"],
        ),
    ];
    for (mut value, want) in cases {
        value["name"] = json!("r");
        assert_eq!(fields(value.clone()), want, "{value}");
    }
    let why = rule(json!({"name": "r", "kind": "run_too_long", "max_duration": "30s"})).validate();
    assert_eq!(
        why[0].to_string(),
        "max_duration: how long a run may go on: 30s is outside 1m to 7d"
    );
}

#[test]
fn the_scope_is_checked_and_installation_kinds_refuse_a_workflow() {
    assert_eq!(
        fields(
            json!({"name": "r", "kind": "consecutive_failures", "threshold": 3,
            "workflow": "Etl_*", "labels": {"Team": "x"}, "environment": "Prod"})
        ),
        ["workflow", "labels", "environment"]
    );
    for kind in [
        json!({"kind": "queue_backlog", "max_depth": 10}),
        json!({"kind": "auth_failures", "max_failures": 10, "window": "5m"}),
    ] {
        let mut value = kind.clone();
        value["name"] = json!("r");
        value["workflow"] = json!("etl");
        value["labels"] = json!({"team": "data"});
        value["environment"] = json!("prod");
        assert_eq!(
            fields(value),
            ["workflow", "labels", "environment"],
            "{kind}"
        );
    }
    // Privilege escalation may look at one environment only.
    assert_eq!(
        fields(
            json!({"name": "r", "kind": "privilege_escalation", "workflow": "etl", "environment": "prod"})
        ),
        ["workflow"]
    );
}

#[test]
fn each_kind_reads_as_one_line() {
    let lines = [
        (
            json!({"kind": "consecutive_failures", "threshold": 3}),
            "3 failed runs in a row",
        ),
        (
            json!({"kind": "failure_ratio", "ratio": 0.2, "min_runs": 10, "window": "1h", "resolve_ratio": 0.05}),
            "20% or more of at least 10 runs within 1h failed (resolves under 5%)",
        ),
        (
            json!({"kind": "run_too_long", "max_duration": "2h", "target": "step"}),
            "a step still going after 2h",
        ),
        (
            json!({"kind": "missed_schedule", "grace": "10m"}),
            "a scheduled run not started 10m after its slot",
        ),
        (
            json!({"kind": "queue_backlog", "max_depth": 100, "max_oldest_age": "5m"}),
            "queue backlog: more than 100 steps waiting or one waiting longer than 5m",
        ),
        (
            json!({"kind": "auth_failures", "max_failures": 10, "window": "5m", "per_source": true}),
            "more than 10 authentication failures within 5m from one address",
        ),
        (
            json!({"kind": "privilege_escalation"}),
            "a privilege escalation in the audit log",
        ),
        (
            json!({"kind": "slo_burn", "pairs": "ticket"}),
            "SLO burning error budget at ticket rates",
        ),
    ];
    for (kind, line) in lines {
        let kind: RuleKind = serde_json::from_value(kind).unwrap();
        assert_eq!(kind.to_string(), line);
    }
}

#[test]
fn a_rule_serializes_without_empty_fields() {
    let r = rule(json!({"name": "r", "kind": "privilege_escalation"}));
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"name":"r","kind":"privilege_escalation","resolve_after":1,"severity":"warning"}"#
    );
}

#[test]
fn a_rule_reads_as_one_line_for_reviewers() {
    let r = rule(
        json!({"name": "r", "kind": "run_too_long", "max_duration": "2h",
        "workflow": "etl-*", "labels": {"team": "data"}, "environment": "prod",
        "for_duration": "5m", "renotify": "4h", "severity": "critical", "channels": ["ops", "pager"]}),
    );
    assert_eq!(
        r.to_string(),
        "a run still going after 2h; workflow etl-*, labels team=data, prod; for 5m; resolve after 1; remind every 4h; critical to ops, pager"
    );
}

/// The server lists its schemas by hand and relies on utoipa collecting
/// the ones they refer to; a workflow spec now carries rules.
#[cfg(feature = "openapi")]
#[test]
fn the_workflow_spec_schema_brings_the_rule_schemas_along() {
    use utoipa::ToSchema;
    let mut schemas = Vec::new();
    crate::spec::WorkflowSpec::schemas(&mut schemas);
    let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
    for name in ["RuleSpec", "RuleKind", "LongTarget", "AlertSeverity"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(!names.contains(&"Severity"), "{names:?}");
}

#[test]
fn a_name_hiding_characters_is_refused() {
    for name in ["a\u{202E}b", "two\nlines"] {
        let errors = rule(json!({"name": name, "kind": "privilege_escalation"})).validate();
        assert_eq!(errors.len(), 1, "{name:?}");
        assert_eq!(errors[0].field, "name");
        assert!(
            errors[0].message.starts_with("the name "),
            "{}",
            errors[0].message
        );
    }
    let long = "é".repeat(100);
    assert!(
        rule(json!({"name": long, "kind": "privilege_escalation"}))
            .validate()
            .is_empty()
    );
}
