use super::*;
use serde_json::json;

fn spec(value: serde_json::Value) -> WorkflowSpec {
    serde_json::from_value(value).unwrap()
}

fn base() -> serde_json::Value {
    json!({
        "name": "deploy",
        "description": "Ships it",
        "schedule": "0 3 * * *",
        // json! sorts object keys: declared here in that order.
        "inputs": {
            "dry": {"type": "boolean", "default": false},
            "target": {"type": "string", "default": "primary"}
        },
        "concurrency": 1,
        "approval": {"required_in": ["prod"]},
        "steps": [
            {"id": "build", "run": "make build", "timeout": "10m"},
            {"id": "notify", "needs": ["build"], "http": {
                "method": "POST", "url": "https://hooks.example.com/x",
                "headers": {"Content-Type": "application/json"}
            }},
            {"id": "cleanup", "needs": ["build"], "run": "rm -rf out"}
        ]
    })
}

fn change(field: &str, before: Option<&str>, after: Option<&str>) -> FieldChange {
    FieldChange {
        field: field.into(),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
    }
}

#[test]
fn the_same_spec_has_an_empty_diff() {
    let s = spec(base());
    let d = diff(Some(&s), &s);
    assert!(d.is_empty(), "{d:?}");
    assert!(!d.first_deployment);
}

#[test]
fn a_first_deployment_lists_everything_as_added() {
    let s = spec(base());
    let d = diff(None, &s);
    assert!(d.first_deployment);
    assert_eq!(
        d.workflow,
        vec![
            change("description", None, Some("Ships it")),
            change("schedule", None, Some("0 3 * * *")),
            change("concurrency", None, Some("1")),
            change("approval.required_in", None, Some("prod")),
        ]
    );
    let inputs: Vec<(&str, Change)> = d
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.change))
        .collect();
    assert_eq!(inputs, [("dry", Change::Added), ("target", Change::Added)]);
    let steps: Vec<(&str, Change)> = d.steps.iter().map(|s| (s.id.as_str(), s.change)).collect();
    assert_eq!(
        steps,
        [
            ("build", Change::Added),
            ("notify", Change::Added),
            ("cleanup", Change::Added)
        ]
    );
    assert_eq!(
        d.steps[1].fields,
        vec![
            change("needs", None, Some("build")),
            change("http.method", None, Some("POST")),
            change("http.url", None, Some("https://hooks.example.com/x")),
            change("http.headers.Content-Type", None, Some("application/json")),
        ]
    );
    assert_eq!(d.new_host_labels(), ["hooks.example.com"]);
}

#[test]
fn step_changes_are_reported_field_by_field() {
    let before = spec(base());
    let mut after = base();
    after["steps"][0]["run"] = json!("make build release");
    after["steps"][0]["timeout"] = json!("20m");
    after["steps"][0]["retries"] =
        json!({"max_attempts": 3, "backoff": "exponential", "initial": "5s"});
    after["steps"][0]["env"] = json!({"PROFILE": "release"});
    after["steps"][0]["outputs"] = json!(["artifact"]);
    after["steps"][1]["http"]["method"] = json!("PUT");
    after["steps"][1]["http"]["url"] = json!("https://hooks.example.com/y");
    after["steps"][1]["http"]["expect_status"] = json!([204, 200]);
    after["steps"][2]["needs"] = json!(["notify", "build"]);
    let d = diff(Some(&before), &spec(after));
    assert!(d.workflow.is_empty() && d.inputs.is_empty(), "{d:?}");
    assert_eq!(
        d.steps,
        vec![
            StepDiff {
                id: "build".into(),
                change: Change::Changed,
                fields: vec![
                    change("run", Some("make build"), Some("make build release")),
                    change("timeout", Some("10m"), Some("20m")),
                    change(
                        "retries",
                        None,
                        Some("3 attempts, exponential backoff, first delay 5s")
                    ),
                    change("env.PROFILE", None, Some("release")),
                    change("outputs", None, Some("artifact")),
                ],
            },
            StepDiff {
                id: "notify".into(),
                change: Change::Changed,
                fields: vec![
                    change("http.method", Some("POST"), Some("PUT")),
                    change(
                        "http.url",
                        Some("https://hooks.example.com/x"),
                        Some("https://hooks.example.com/y")
                    ),
                    change("http.expect_status", None, Some("200, 204")),
                ],
            },
            StepDiff {
                id: "cleanup".into(),
                change: Change::Changed,
                fields: vec![change("needs", Some("build"), Some("build, notify"))],
            },
        ]
    );
    // Same host, other path: nothing new to acknowledge.
    assert!(d.new_http_hosts.is_empty());
}

#[test]
fn sets_compare_regardless_of_order() {
    let mut a = base();
    a["steps"][2]["needs"] = json!(["build", "notify"]);
    a["steps"][1]["http"]["expect_status"] = json!([200, 204]);
    let mut b = a.clone();
    b["steps"][2]["needs"] = json!(["notify", "build"]);
    b["steps"][1]["http"]["expect_status"] = json!([204, 200]);
    assert!(diff(Some(&spec(a)), &spec(b)).is_empty());
}

#[test]
fn added_removed_and_reordered_steps_and_inputs() {
    let before = spec(base());
    let mut after = base();
    let steps = after["steps"].as_array_mut().unwrap();
    steps.remove(2);
    steps.insert(
        0,
        json!({"id": "check", "http": {"method": "get", "url": "https://status.example.org/"}}),
    );
    after["steps"].as_array_mut().unwrap().swap(1, 2); // check, notify, build
    let mut after = spec(after);
    // Declared order: target, dry, region (json! would sort them).
    after.inputs = serde_json::from_str(
        r#"{"target": {"type": "choice", "options": ["primary", "replica"], "default": "primary"},
            "dry": {"type": "boolean", "default": true},
            "region": {"type": "string", "description": "Where"}}"#,
    )
    .unwrap();
    let d = diff(Some(&before), &after);
    let steps: Vec<(&str, Change)> = d.steps.iter().map(|s| (s.id.as_str(), s.change)).collect();
    // Candidate order first (unchanged steps left out), then the removed.
    assert_eq!(
        steps,
        [("check", Change::Added), ("cleanup", Change::Removed)]
    );
    assert_eq!(
        d.steps[1].fields,
        vec![
            change("needs", Some("build"), None),
            change("run", Some("rm -rf out"), None)
        ]
    );
    assert_eq!(
        d.workflow,
        vec![
            change("inputs (order)", Some("dry, target"), Some("target, dry")),
            change(
                "steps (order)",
                Some("build, notify"),
                Some("notify, build")
            ),
        ]
    );
    assert_eq!(
        d.inputs,
        vec![
            InputDiff {
                name: "target".into(),
                change: Change::Changed,
                fields: vec![
                    change("type", Some("string"), Some("choice")),
                    change("options", None, Some("primary, replica")),
                ],
            },
            InputDiff {
                name: "dry".into(),
                change: Change::Changed,
                fields: vec![change("default", Some("false"), Some("true"))],
            },
            InputDiff {
                name: "region".into(),
                change: Change::Added,
                fields: vec![
                    change("type", None, Some("string")),
                    change("description", None, Some("Where")),
                ],
            },
        ]
    );
    assert_eq!(d.new_host_labels(), ["status.example.org"]);
    // The method reads as it runs.
    assert_eq!(
        d.steps[0].fields[0],
        change("http.method", None, Some("GET"))
    );
}

#[test]
fn workflow_settings_table() {
    // (a change to the candidate, the field it shows as, before, after)
    type Case = (
        fn(&mut serde_json::Value),
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        (
            |v| v["schedule"] = json!("0 4 * * *"),
            "schedule",
            Some("0 3 * * *"),
            Some("0 4 * * *"),
        ),
        (
            |v| v["timezone"] = json!("Europe/Paris"),
            "timezone",
            None,
            Some("Europe/Paris"),
        ),
        (
            |v| v["concurrency"] = json!(4),
            "concurrency",
            Some("1"),
            Some("4"),
        ),
        (
            |v| {
                v.as_object_mut().unwrap().remove("concurrency");
            },
            "concurrency",
            Some("1"),
            None,
        ),
        (|v| v["timeout"] = json!("2h"), "timeout", None, Some("2h")),
        (
            |v| v["approval"] = json!({"required_in": ["stage", "prod"]}),
            "approval.required_in",
            Some("prod"),
            Some("prod, stage"),
        ),
        (
            |v| {
                v.as_object_mut().unwrap().remove("approval");
            },
            "approval.required_in",
            Some("prod"),
            None,
        ),
        (
            |v| v["slo"] = json!({"prod": {"window": "28d", "success": 0.99}}),
            "slo.prod",
            None,
            Some("99% succeed over 28days"),
        ),
        (
            |v| v["labels"] = json!({"tier": "1", "team": "data"}),
            "labels",
            None,
            Some("team=data, tier=1"),
        ),
        (
            |v| {
                v["alerts"] = json!([{"name": "failing", "kind": "consecutive_failures",
                    "threshold": 3, "environment": "prod", "resolve_after": 2, "channels": ["ops"]}])
            },
            "alerts.failing",
            None,
            Some("3 failed runs in a row; prod; resolve after 2; warning to ops"),
        ),
        (
            |v| v["description"] = json!("Ships it faster"),
            "description",
            Some("Ships it"),
            Some("Ships it faster"),
        ),
    ];
    let before = spec(base());
    for (edit, field, was, now) in cases {
        let mut after = base();
        edit(&mut after);
        let d = diff(Some(&before), &spec(after));
        assert_eq!(d.workflow, vec![change(field, *was, *now)], "{field}");
        assert!(d.steps.is_empty() && d.inputs.is_empty(), "{field}");
    }
}

#[test]
fn new_hosts_are_called_out_with_templated_ones_marked() {
    let before = spec(base());
    let mut after = base();
    let steps = after["steps"].as_array_mut().unwrap();
    steps.push(
        json!({"id": "a", "http": {"method": "GET", "url": "https://HOOKS.example.com:443/z"}}),
    );
    steps.push(json!({"id": "b", "http": {"method": "GET", "url": "https://${{inputs.target}}.db.example.com/"}}));
    steps.push(json!({"id": "c", "http": {"method": "GET", "url": "http://api.example.net/v1"}}));
    steps.push(json!({"id": "d", "run": "curl https://not-counted.example.com"}));
    let d = diff(Some(&before), &spec(after));
    // Sorted, deterministic; a known host on another port is not new.
    assert_eq!(
        d.new_host_labels(),
        [
            "${{ inputs.target }}.db.example.com (templated)",
            "api.example.net"
        ]
    );
    assert!(d.new_http_hosts[0].templated);
    // Removing a host is no new host.
    let d = diff(
        Some(&spec(base())),
        &spec(json!({"name": "deploy", "steps": [{"id": "x", "run": "true"}]})),
    );
    assert!(d.new_http_hosts.is_empty());
}

#[test]
fn a_spec_without_secrets_references_none() {
    let s = spec(base());
    assert!(secret_references(&s).is_empty());
    assert!(diff(None, &s).new_secret_references.is_empty());
}

fn with_secrets(build: serde_json::Value, notify: serde_json::Value) -> WorkflowSpec {
    let mut v = base();
    v["steps"][0]["secrets"] = build;
    v["steps"][1]["secrets"] = notify;
    spec(v)
}

#[test]
fn new_secret_references_are_called_out_by_step_and_name() {
    let active = with_secrets(json!({"DB": "vault:kv/data/{env}/db#password"}), json!({}));
    let candidate = with_secrets(
        json!({
            "DB": "vault:kv/data/{env}/db#password",
            "CA": {"ref": "file:/run/secrets/ca.pem", "as": "file"}
        }),
        json!({"DB": "vault:kv/data/{env}/db#password"}),
    );
    assert_eq!(
        secret_references(&candidate)
            .into_iter()
            .collect::<Vec<_>>(),
        vec![
            "steps.build.secrets.CA: file:/run/secrets/ca.pem (as file)",
            "steps.build.secrets.DB: vault:kv/data/{env}/db#password",
            "steps.notify.secrets.DB: vault:kv/data/{env}/db#password",
        ]
    );
    let d = diff(Some(&active), &candidate);
    // The same reference given to another step is new access too.
    assert_eq!(
        d.new_secret_references,
        vec![
            "steps.build.secrets.CA: file:/run/secrets/ca.pem (as file)",
            "steps.notify.secrets.DB: vault:kv/data/{env}/db#password",
        ]
    );
    let build = d.steps.iter().find(|s| s.id == "build").unwrap();
    assert_eq!(build.fields.len(), 1);
    assert_eq!(build.fields[0].field, "secrets.CA");
    assert!(!d.is_empty());
}

#[test]
fn removed_or_unchanged_secret_references_are_not_new() {
    let active = with_secrets(
        json!({"DB": "vault:kv/data/{env}/db#password", "TOKEN": "env:TOKEN"}),
        json!({}),
    );
    let fewer = with_secrets(json!({"DB": "vault:kv/data/{env}/db#password"}), json!({}));
    assert!(diff(Some(&active), &fewer).new_secret_references.is_empty());
    assert!(diff(Some(&active), &active).is_empty());
    let moved = with_secrets(json!({"DB": "vault:kv/data/{env}/db2#password"}), json!({}));
    assert_eq!(
        diff(Some(&fewer), &moved).new_secret_references,
        vec!["steps.build.secrets.DB: vault:kv/data/{env}/db2#password"]
    );
}

#[test]
fn the_digest_follows_the_content_of_the_diff() {
    let before = spec(base());
    let mut other = base();
    other["steps"][0]["run"] = json!("make all");
    let a = diff(Some(&before), &spec(other.clone()));
    let b = diff(Some(&before), &spec(other));
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 64);
    // Against nothing active, the same candidate is a different review.
    let c = diff(None, &spec(base()));
    assert_ne!(diff(Some(&before), &before).digest(), c.digest());
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn diffs_travel_as_json() {
    let d = diff(None, &spec(base()));
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["steps"][0]["change"], "added");
    assert_eq!(
        json["new_http_hosts"][0],
        json!({"host": "hooks.example.com", "templated": false})
    );
    let back: SpecDiff = serde_json::from_value(json).unwrap();
    assert_eq!(back, d);
}
