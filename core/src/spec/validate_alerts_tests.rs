use crate::alert::RuleKind;
use crate::spec::{SpecProblem, SpecRejection, parse};

const STEPS: &str = "steps:\n  - {id: a, run: 'true'}\n";

/// A spec with a daily schedule and a prod SLO, `extra` before its steps.
fn source(extra: &str) -> String {
    format!(
        "name: etl-orders\nschedule: '0 3 * * *'\nslo:\n  prod: {{window: 28d, success: 99%}}\n{extra}{STEPS}"
    )
}

fn problems_of(source: &str) -> Vec<SpecProblem> {
    match parse(source) {
        Err(SpecRejection::Invalid { problems }) => problems,
        other => panic!("expected problems for:\n{source}\ngot {other:?}"),
    }
}

#[test]
fn labels_and_own_rules_parse_and_are_scoped_to_the_workflow() {
    let spec = parse(&source(
        "labels: {team: data, tier: '1'}\nalerts:\n  - {name: keeps failing, kind: consecutive_failures, threshold: 3, environment: prod, resolve_after: 2, channels: [ops]}\n  - {name: burning, kind: slo_burn, pairs: page, environment: prod}\n  - {name: late, kind: missed_schedule, grace: 15m}\n  - {name: slow, kind: run_too_long, max_duration: 2h, target: step}\n",
    ))
    .unwrap();
    assert_eq!(spec.labels["team"], "data");
    assert_eq!(spec.labels["tier"], "1");
    assert_eq!(spec.alerts.len(), 4);
    assert_eq!(
        spec.alerts[0].kind,
        RuleKind::ConsecutiveFailures { threshold: 3 }
    );
    assert_eq!(spec.alerts[0].workflow, None);
    let rules = spec.alert_rules();
    assert!(
        rules
            .iter()
            .all(|r| r.workflow.as_deref() == Some("etl-orders"))
    );
    assert!(rules[0].matches("etl-orders", &spec.labels, "prod"));
    assert!(!rules[0].matches("etl-other", &spec.labels, "prod"));
    // A rule elsewhere selecting by the spec's labels matches it too.
    let by_label: crate::alert::RuleSpec = serde_json::from_str(
        r#"{"name": "data team", "kind": "consecutive_failures", "threshold": 2, "labels": {"team": "data"}}"#,
    )
    .unwrap();
    assert!(by_label.matches(&spec.name, &spec.labels, "dev"));
}

#[test]
fn labels_and_rules_hash_by_meaning_and_an_empty_list_is_no_list() {
    let base = parse(&source("")).unwrap().content_hash();
    let a = parse(&source(
        "labels: {team: data}\nalerts:\n  - {name: r, kind: consecutive_failures, threshold: 3}\n",
    ))
    .unwrap();
    assert_ne!(a.content_hash(), base);
    assert!(
        a.canonical_json().contains(
            r#""labels":{"team":"data"},"#
        ) && a.canonical_json().contains(
            r#""alerts":[{"name":"r","kind":"consecutive_failures","threshold":3,"resolve_after":1,"severity":"warning"}]"#
        ),
        "{}",
        a.canonical_json()
    );
    // Written in another order, with defaults spelled out: the same.
    let b = parse(&source(
        "alerts:\n  - threshold: 3\n    severity: warning\n    resolve_after: 1\n    kind: consecutive_failures\n    name: r\nlabels:\n  team: data\n",
    ))
    .unwrap();
    assert_eq!(a.content_hash(), b.content_hash());
    assert_eq!(
        parse(&source("labels: {}\nalerts: []\n"))
            .unwrap()
            .content_hash(),
        base
    );
}

#[test]
fn each_problem_is_placed_at_its_rule_and_line() {
    // (what, extra, path, line, fragment)
    let cases = [
        (
            "bad label key",
            "labels: {Team: data}\n",
            "labels.Team",
            Some(5),
            "label \"Team\"",
        ),
        (
            "bad label value",
            "labels:\n  team: 'da ta'\n",
            "labels.team",
            Some(6),
            "team's value",
        ),
        (
            "a bad field of a rule",
            "alerts:\n  - name: r\n    kind: consecutive_failures\n    threshold: 0\n",
            "alerts[0].threshold",
            Some(8),
            "failures in a row must be 1 to 1000",
        ),
        (
            "a rule naming a workflow",
            "alerts:\n  - {name: r, kind: consecutive_failures, threshold: 3, workflow: other}\n",
            "alerts[0].workflow",
            Some(6),
            "about its own workflow",
        ),
        (
            "a rule selecting by labels",
            "alerts:\n  - {name: r, kind: consecutive_failures, threshold: 3, labels: {team: x}}\n",
            "alerts[0].labels",
            None,
            "about its own workflow",
        ),
        (
            "an installation-wide kind",
            "alerts:\n  - {name: r, kind: queue_backlog, max_depth: 10}\n",
            "alerts[0].kind",
            Some(6),
            "create it on the Alerts page",
        ),
        (
            "a bad environment",
            "alerts:\n  - {name: r, kind: consecutive_failures, threshold: 3, environment: Prod}\n",
            "alerts[0].environment",
            None,
            "",
        ),
        (
            "a second rule of the same name",
            "alerts:\n  - {name: r, kind: consecutive_failures, threshold: 3}\n  - {name: r, kind: run_too_long, max_duration: 1h}\n",
            "alerts[1].name",
            Some(7),
            "rule name \"r\" is used twice",
        ),
        (
            "an SLO burn rule where there is no SLO",
            "alerts:\n  - {name: r, kind: slo_burn, pairs: ticket, environment: dev}\n",
            "alerts[0].environment",
            None,
            "there is no SLO in dev; the slo: section sets prod",
        ),
        (
            "a misspelt field",
            "alerts:\n  - {name: r, kind: consecutive_failures, threshold: 3, resolve_afer: 2}\n",
            "alerts[0].resolve_afer",
            Some(6),
            "unknown field \"resolve_afer\"",
        ),
        (
            "an unknown kind",
            "alerts:\n  - {name: r, kind: vibes}\n",
            "alerts[0].kind",
            Some(6),
            "unknown value \"vibes\"; use one of: consecutive_failures,",
        ),
    ];
    for (what, extra, path, line, fragment) in cases {
        let problems = problems_of(&source(extra));
        let Some(problem) = problems
            .iter()
            .find(|p| p.path == path && p.message.contains(fragment))
        else {
            panic!("{what}: no problem at {path:?} containing {fragment:?} in {problems:#?}");
        };
        if line.is_some() {
            assert_eq!(problem.line, line, "{what}: {problem:?}");
        }
    }
}

#[test]
fn rules_that_need_a_schedule_or_an_slo_say_so() {
    let bare = |extra: &str| format!("name: w\n{extra}{STEPS}");
    let problems = problems_of(&bare(
        "alerts:\n  - {name: late, kind: missed_schedule, grace: 10m}\n  - {name: burn, kind: slo_burn, pairs: page}\n",
    ));
    let found: Vec<(&str, bool)> = problems
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.message.contains("add schedule") || p.message.contains("add an slo: section"),
            )
        })
        .collect();
    assert_eq!(found, [("alerts[0].kind", true), ("alerts[1].kind", true)]);
}

#[test]
fn every_problem_of_every_rule_is_reported_at_once() {
    let problems = problems_of(&source(
        "alerts:\n  - {name: '', kind: failure_ratio, ratio: 2, min_runs: 0, window: 1h}\n  - {name: b, kind: auth_failures, max_failures: 0, window: 1h}\n",
    ));
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "alerts[0].name",
            "alerts[0].ratio",
            "alerts[0].min_runs",
            "alerts[1].kind",
            "alerts[1].max_failures",
        ]
    );
}
