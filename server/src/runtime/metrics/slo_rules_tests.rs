use super::*;
use serde_json::Value;

const BOTH: &str = "name: nightly
slo:
  prod:
    window: 28d
    success: 99%
    duration: { within: 5m, target: 95% }
steps:
  - id: a
    run: 'true'
";

fn spec(text: &str) -> WorkflowSpec {
    gantry_core::spec::parse(text).unwrap()
}

fn export_one(text: &str) -> Result<Exported, Vec<ExportProblem>> {
    let spec = spec(text);
    export(
        &[SpecFile {
            path: "nightly.yaml",
            spec: &spec,
        }],
        DEFAULT_RUNBOOK_URL,
    )
}

/// The rules file as data.
fn parsed(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap()
}

fn group<'a>(rules: &'a Value, name: &str) -> &'a Vec<Value> {
    rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))["rules"]
        .as_array()
        .unwrap()
}

fn record<'a>(rules: &'a [Value], name: &str) -> &'a str {
    rules
        .iter()
        .find(|r| r["record"] == name)
        .unwrap_or_else(|| panic!("no record {name}"))["expr"]
        .as_str()
        .unwrap()
}

fn alert(rules: &[Value], severity: &str) -> Value {
    rules
        .iter()
        .find(|r| r["alert"] == ALERT && r["labels"]["severity"] == severity)
        .unwrap_or_else(|| panic!("no {severity} alert"))
        .clone()
}

#[test]
fn each_objective_gets_its_ratios_budget_and_two_alerts() {
    let out = export_one(BOTH).unwrap();
    assert_eq!(out.objectives, 2);
    let rules = parsed(&out.yaml);
    assert_eq!(rules["groups"].as_array().unwrap().len(), 2);
    for slo in ["success", "duration"] {
        let group = group(&rules, &format!("gantry-slo:nightly:prod:{slo}"));
        // Objective, 7 burn windows, the SLO window, budget, 2 alerts.
        assert_eq!(group.len(), 1 + 7 + 1 + 1 + 2, "{slo}");
        for rule in group {
            assert_eq!(rule["labels"]["workflow"], "nightly");
            assert_eq!(rule["labels"]["environment"], "prod");
            assert_eq!(rule["labels"]["slo"], slo);
        }
        for window in BurnWindow::ALL {
            let expr = record(
                group,
                &format!("gantry:slo_error_ratio:rate{}", window.label()),
            );
            assert!(expr.contains(&format!("[{}]", window.label())), "{expr}");
        }
        let expr = record(group, "gantry:slo_error_ratio:rate_window");
        assert!(expr.contains("[28d]"), "{expr}");
    }
    let success = group(&rules, "gantry-slo:nightly:prod:success");
    assert_eq!(
        record(success, "gantry:slo_objective:ratio").trim(),
        "vector(0.99)"
    );
    assert_eq!(
        record(success, "gantry:slo_error_budget_remaining:ratio").trim(),
        "1 - gantry:slo_error_ratio:rate_window{workflow=\"nightly\", environment=\"prod\", slo=\"success\"} / 0.01"
    );
    let duration = group(&rules, "gantry-slo:nightly:prod:duration");
    assert_eq!(
        record(duration, "gantry:slo_objective:ratio").trim(),
        "vector(0.95)"
    );
}

#[test]
fn success_counts_failed_and_timed_out_runs_against_all_but_cancelled() {
    let out = export_one(BOTH).unwrap();
    let rules = parsed(&out.yaml);
    let expr = record(
        group(&rules, "gantry-slo:nightly:prod:success"),
        "gantry:slo_error_ratio:rate1h",
    );
    assert_eq!(
        expr,
        "(sum(rate(gantry_runs_finished_total{workflow=\"nightly\", environment=\"prod\", outcome=~\"failed|timed_out\"}[1h])) or vector(0))\n\
         /\n\
         (sum(rate(gantry_runs_finished_total{workflow=\"nightly\", environment=\"prod\", outcome=~\"succeeded|failed|timed_out\"}[1h])) > 0)\n"
    );
}

#[test]
fn a_duration_objective_counts_successes_in_the_bucket_of_its_bound() {
    let out = export_one(BOTH).unwrap();
    let rules = parsed(&out.yaml);
    let expr = record(
        group(&rules, "gantry-slo:nightly:prod:duration"),
        "gantry:slo_error_ratio:rate5m",
    );
    assert_eq!(
        expr,
        "(\n  sum(rate(gantry_run_duration_seconds_count{workflow=\"nightly\", environment=\"prod\", outcome=~\"succeeded|failed|timed_out\"}[5m]))\n  -\n  \
         (sum(rate(gantry_run_duration_seconds_bucket{workflow=\"nightly\", environment=\"prod\", outcome=\"succeeded\", le=\"300\"}[5m])) or vector(0))\n)\n\
         /\n\
         (sum(rate(gantry_run_duration_seconds_count{workflow=\"nightly\", environment=\"prod\", outcome=~\"succeeded|failed|timed_out\"}[5m])) > 0)\n"
    );
}

/// The counting rule is `verdict`'s; this pins what it says today, so a
/// change there shows up here as a change to the exported rules.
#[test]
fn outcomes_follow_the_counting_rule() {
    let slo = spec(BOTH).slo.remove("prod").unwrap();
    assert_eq!(
        Outcomes::of(&slo, ObjectiveKind::Success),
        Outcomes {
            counted: vec!["succeeded", "failed", "timed_out"],
            bad: vec!["failed", "timed_out"],
            good_in_time: vec![],
            good: vec!["succeeded"],
        }
    );
    assert_eq!(
        Outcomes::of(&slo, ObjectiveKind::Duration),
        Outcomes {
            counted: vec!["succeeded", "failed", "timed_out"],
            bad: vec!["failed", "timed_out"],
            good_in_time: vec!["succeeded"],
            good: vec![],
        }
    );
}

#[test]
fn alerts_use_the_workbook_pairs_with_exact_thresholds() {
    let out = export_one(BOTH).unwrap();
    let rules = parsed(&out.yaml);
    let success = group(&rules, "gantry-slo:nightly:prod:success");
    let sel = "{workflow=\"nightly\", environment=\"prod\", slo=\"success\"}";
    let page = alert(success, "page");
    let expr = page["expr"].as_str().unwrap();
    // 99%: a budget of 0.01; 14.4× is 0.144, 6× is 0.06.
    for (window, threshold) in [
        ("1h", "0.144"),
        ("5m", "0.144"),
        ("6h", "0.06"),
        ("30m", "0.06"),
    ] {
        let cond = format!("gantry:slo_error_ratio:rate{window}{sel} > {threshold}");
        assert!(expr.contains(&cond), "{cond} missing from {expr}");
    }
    assert!(!expr.contains("rate1d"), "{expr}");
    // Once firing it holds on its own state until the long windows calm.
    assert!(
        expr.contains("and on (workflow, environment, slo)\n    ALERTS{alertname=\"GantrySloBurn\", alertstate=\"firing\", severity=\"page\", workflow=\"nightly\", environment=\"prod\", slo=\"success\"}"),
        "{expr}"
    );
    assert_eq!(page["annotations"]["runbook_url"], DEFAULT_RUNBOOK_URL);
    assert_eq!(
        page["annotations"]["summary"],
        "nightly in prod is burning its success error budget fast"
    );
    let description = page["annotations"]["description"].as_str().unwrap();
    assert!(
        description.contains("(99% of runs succeed over 28d)")
            && description.contains(
                "at more than 14.4× the even rate over both the last 1h and 5m, or more than 6× the even rate over both the last 6h and 30m."
            ),
        "{description}"
    );
    let ticket = alert(success, "ticket");
    let expr = ticket["expr"].as_str().unwrap();
    for (window, threshold) in [
        ("1d", "0.03"),
        ("2h", "0.03"),
        ("3d", "0.01"),
        ("6h", "0.01"),
    ] {
        let cond = format!("gantry:slo_error_ratio:rate{window}{sel} > {threshold}");
        assert!(expr.contains(&cond), "{cond} missing from {expr}");
    }
    // The duration objective's budget is 5%: 14.4 × 0.05.
    let duration = group(&rules, "gantry-slo:nightly:prod:duration");
    let expr = alert(duration, "page")["expr"].as_str().unwrap().to_owned();
    assert!(
        expr.contains(
            "rate1h{workflow=\"nightly\", environment=\"prod\", slo=\"duration\"} > 0.72"
        ),
        "{expr}"
    );
    let description = alert(duration, "ticket")["annotations"]["description"].clone();
    assert!(
        description
            .as_str()
            .unwrap()
            .contains("(95% of runs succeed within 5m over 28d)"),
        "{description}"
    );
}

#[test]
fn thresholds_and_durations_are_written_exactly() {
    let t = |ppm| Target::from_ppm(ppm).unwrap();
    assert_eq!(threshold(AlertPair::Page1h, t(999_000)), "0.0144");
    assert_eq!(threshold(AlertPair::Page1h, t(999_500)), "0.0072");
    assert_eq!(threshold(AlertPair::Ticket3d, t(999_990)), "0.00001");
    assert_eq!(threshold(AlertPair::Ticket3d, t(1)), "0.999999");
    assert_eq!(threshold(AlertPair::Page1h, t(1)), "14.3999856");
    assert_eq!(factor(AlertPair::Page1h), "14.4");
    assert_eq!(factor(AlertPair::Page6h), "6");
    assert_eq!(ppm_decimal(999_950), "0.99995");
    let d = Duration::from_secs;
    assert_eq!(prom_duration(d(28 * 86_400)), "28d");
    assert_eq!(prom_duration(d(86_400 + 12 * 3600)), "1d12h");
    assert_eq!(prom_duration(d(300)), "5m");
    assert_eq!(prom_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(prom_duration(Duration::from_millis(10)), "10ms");
    assert_eq!(prom_duration(d(90 * 86_400 + 61)), "90d1m1s");
}

#[test]
fn a_window_that_is_not_whole_days_is_a_valid_range() {
    let text = BOTH.replace("window: 28d", "window: 1month");
    let out = export_one(&text).unwrap();
    let rules = parsed(&out.yaml);
    let expr = record(
        group(&rules, "gantry-slo:nightly:prod:success"),
        "gantry:slo_error_ratio:rate_window",
    );
    // humantime's month is 30.44 days.
    assert!(expr.contains("[30d10h33m36s]"), "{expr}");
}

#[test]
fn every_bucket_bound_is_accepted_and_written_as_the_metrics_write_it() {
    for bound in RUN_DURATION_BUCKETS {
        let within = humantime::format_duration(seconds(bound)).to_string();
        let text = BOTH.replace("within: 5m", &format!("within: {within}"));
        let out = export_one(&text).unwrap_or_else(|e| panic!("{within}: {e:?}"));
        // The exporter writes `le` with f64's Display: 300, 0.5, 21600.
        assert!(
            out.yaml.contains(&format!("le=\"{bound}\"")),
            "{within}: le=\"{bound}\" missing"
        );
    }
}

#[test]
fn a_duration_between_bounds_is_refused_naming_the_nearest() {
    let cases = [
        ("10m", "the nearest bounds are 5m and 15m"),
        ("2s", "the nearest bounds are 1s and 5s"),
        ("5ms", "the smallest bound is 10ms"),
        ("7d", "the largest bound is 6h"),
        ("6h 1s", "the largest bound is 6h"),
    ];
    for (within, nearest) in cases {
        let text = BOTH.replace("within: 5m", &format!("within: {within}"));
        let problems = export_one(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{within}: {problems:?}");
        let message = problems[0].to_string();
        assert!(
            message.starts_with("nightly.yaml: nightly: slo.prod.duration.within: ")
                && message.contains("is not a bucket bound of gantry_run_duration_seconds")
                && message.contains(nearest),
            "{within}: {message}"
        );
    }
}

#[test]
fn no_objective_anywhere_is_refused() {
    let plain = spec("name: plain\nsteps:\n  - id: a\n    run: 'true'\n");
    let problems = export(
        &[SpecFile {
            path: "plain.yaml",
            spec: &plain,
        }],
        DEFAULT_RUNBOOK_URL,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, None);
    assert!(problems[0].message.contains("no spec has an slo: section"));
    assert!(export(&[], DEFAULT_RUNBOOK_URL).is_err());
}

#[test]
fn a_spec_without_objectives_next_to_one_with_them_adds_nothing() {
    let plain = spec("name: plain\nsteps:\n  - id: a\n    run: 'true'\n");
    let both = spec(BOTH);
    let out = export(
        &[
            SpecFile {
                path: "plain.yaml",
                spec: &plain,
            },
            SpecFile {
                path: "nightly.yaml",
                spec: &both,
            },
        ],
        "https://runbooks.example/slo-burn",
    )
    .unwrap();
    assert_eq!(out.objectives, 2);
    assert!(out.yaml.contains("from plain.yaml, nightly.yaml."));
    assert!(!out.yaml.contains("plain\""));
    assert!(
        out.yaml
            .contains("runbook_url: \"https://runbooks.example/slo-burn\"")
    );
}

#[test]
fn the_same_workflow_twice_and_every_other_problem_are_reported_at_once() {
    let first = spec(BOTH);
    let bad = spec(&BOTH.replace("within: 5m", "within: 10m"));
    let other = spec(
        &BOTH
            .replace("name: nightly", "name: report")
            .replace("within: 5m", "within: 2h"),
    );
    let problems = export(
        &[
            SpecFile {
                path: "a.yaml",
                spec: &first,
            },
            SpecFile {
                path: "b.yaml",
                spec: &bad,
            },
            SpecFile {
                path: "c.yaml",
                spec: &other,
            },
        ],
        DEFAULT_RUNBOOK_URL,
    )
    .unwrap_err();
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(
        messages[0],
        "b.yaml: workflow nightly is also in a.yaml; give each workflow's spec once"
    );
    assert!(
        messages[1].starts_with("c.yaml: report: slo.prod.duration.within: 2h is not")
            && messages[1].contains("1h and 6h"),
        "{}",
        messages[1]
    );
}

#[test]
fn several_environments_make_a_group_each_in_name_order() {
    let text = BOTH.replace("slo:\n", "slo:\n  dev:\n    window: 7d\n    success: 0.9\n");
    let out = export_one(&text).unwrap();
    assert_eq!(out.objectives, 3);
    let rules = parsed(&out.yaml);
    let names: Vec<&str> = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "gantry-slo:nightly:dev:success",
            "gantry-slo:nightly:prod:success",
            "gantry-slo:nightly:prod:duration"
        ]
    );
    let dev = group(&rules, "gantry-slo:nightly:dev:success");
    assert!(record(dev, "gantry:slo_error_ratio:rate_window").contains("[7d]"));
}

#[test]
fn strings_are_quoted_for_promql_and_yaml() {
    assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    assert_eq!(yaml_string("a \"b\"\n: #"), r#""a \"b\"\n: #""#);
}
