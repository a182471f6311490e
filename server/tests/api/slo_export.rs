//! `gantry slo export` as a CI job runs it: no server, spec files in, a rules
//! file out that Prometheus's own `promtool` accepts without a warning and
//! whose alerts fire, hold and resolve on fed series as docs/slo.md says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NIGHTLY: &str = "name: nightly
schedule: '*/15 * * * *'
slo:
  prod:
    window: 28d
    success: 99%
    duration: { within: 5m, target: 70% }
steps:
  - id: work
    run: 'true'
";

fn gantry(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run gantry")
}

/// Debian's promtool, unpacked by `make tools-prometheus`.
fn promtool(dir: &Path, args: &[&str]) -> Output {
    let promtool =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/prometheus/usr/bin/promtool");
    assert!(
        promtool.is_file(),
        "{} is missing: run `make tools-prometheus`",
        promtool.display()
    );
    Command::new(&promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}; run `make tools-prometheus`", promtool.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn exported_rules_pass_promtool_and_page_on_a_fast_burn() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nightly.yaml"), NIGHTLY).unwrap();
    let out = gantry(
        dir.path(),
        &[
            "slo",
            "export",
            "--file",
            "nightly.yaml",
            "--output",
            "rules.yml",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout).trim(),
        "rules.yml: rules for 2 objectives"
    );

    // Standard output by default: the same rules.
    let stdout = gantry(dir.path(), &["slo", "export", "-f", "nightly.yaml"]);
    assert!(stdout.status.success(), "{stdout:?}");
    assert_eq!(
        text(&stdout.stdout),
        std::fs::read_to_string(dir.path().join("rules.yml")).unwrap()
    );

    // Per objective: the target, 7 burn windows, the SLO window, the
    // budget left, a page and a ticket alert.
    let checked = promtool(dir.path(), &["check", "rules", "rules.yml"]);
    let said = format!("{}{}", text(&checked.stdout), text(&checked.stderr));
    assert!(checked.status.success(), "{said}");
    assert!(said.contains("SUCCESS: 24 rules found"), "{said}");
    assert!(
        !said.to_lowercase().contains("warn") && !said.contains("duplicate"),
        "{said}"
    );

    std::fs::write(dir.path().join("rules.test.yml"), burn_test()).unwrap();
    let tested = promtool(dir.path(), &["test", "rules", "rules.test.yml"]);
    let said = format!("{}{}", text(&tested.stdout), text(&tested.stderr));
    assert!(tested.status.success(), "{said}");
    assert!(said.contains("SUCCESS"), "{said}");
}

/// Four runs a minute of nightly in prod, as one process's counters, and
/// one cancelled run a minute besides: for 20 hours all four succeed (one
/// of them slower than 5 minutes); then for 10 minutes all four fail; then
/// back to normal.
///
/// With a 99% success objective (budget 1%), at the end of the burst the
/// last hour holds 40 failures in 236 counted runs (16.9%, over 14.4% =
/// 14.4 × 1%) and the last 5 minutes only failures: the page fires. The
/// 6h pair (40 of 1 436: 2.8%, not over 6%) and the tickets (1d: 0.83%, not
/// over 3%; 3d: 0.83%, not over 1%) stay quiet. Half an hour later the last
/// 5 minutes are clean but the hour still holds every failure: the page
/// holds (Gantry's resolve rule). Once the failures leave the hour, it
/// resolves.
///
/// The duration objective (70% within 5m, budget 30%) sees 25% slow runs:
/// burning at 0.83×, it never alerts.
fn burn_test() -> String {
    let series = |name: &str, outcome: &str, extra: &str, values: &str| {
        format!(
            "      - series: 'gantry_{name}{{job=\"gantry\", instance=\"a\", workflow=\"nightly\", environment=\"prod\", outcome=\"{outcome}\"{extra}}}'\n        values: '{values}'\n"
        )
    };
    let succeeded = "0+4x1200 4800x9 4804+4x129";
    let failed = "0x1200 4+4x9 40x129";
    let cancelled = "0+1x1340";
    let input = [
        series("runs_finished_total", "succeeded", "", succeeded),
        series("runs_finished_total", "failed", "", failed),
        series("runs_finished_total", "cancelled", "", cancelled),
        series("run_duration_seconds_count", "succeeded", "", succeeded),
        series(
            "run_duration_seconds_bucket",
            "succeeded",
            ", le=\"300\"",
            "0+3x1200 3600x9 3603+3x129",
        ),
        series("run_duration_seconds_count", "failed", "", failed),
        series("run_duration_seconds_count", "cancelled", "", cancelled),
    ]
    .concat();
    let page = "          - exp_labels: {severity: page, workflow: nightly, environment: prod, slo: success}
            exp_annotations:
              summary: \"nightly in prod is burning its success error budget fast\"
              description: \"Runs of workflow nightly in environment prod are spending the error budget of its success objective (99% of runs succeed over 28d) at more than 14.4× the even rate over both the last 1h and 5m, or more than 6× the even rate over both the last 6h and 30m. It resolves once the long windows burn at or under those rates again.\"
              runbook_url: \"docs/ops/runbooks/slo-burn.md\"
";
    let recorded = |name: &str, slo: &str| {
        format!("'{name}{{workflow=\"nightly\", environment=\"prod\", slo=\"{slo}\"}}'")
    };
    format!(
        "rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{input}    alert_rule_test:
      - eval_time: 1200m
        alertname: GantrySloBurn
        exp_alerts: []
      - eval_time: 1210m
        alertname: GantrySloBurn
        exp_alerts:
{page}      - eval_time: 1240m
        alertname: GantrySloBurn
        exp_alerts:
{page}      - eval_time: 1280m
        alertname: GantrySloBurn
        exp_alerts: []
    promql_expr_test:
      # Cancelled runs don't count: 4 failed of 4 counted, not of 5.
      - expr: gantry:slo_error_ratio:rate5m{{slo=\"success\"}}
        eval_time: 1210m
        exp_samples:
          - labels: {success_5m}
            value: 1
      # One slow success in four, cancelled runs left out (else 40%).
      - expr: round(gantry:slo_error_ratio:rate5m{{slo=\"duration\"}} * 1000)
        eval_time: 1200m
        exp_samples:
          - labels: '{{workflow=\"nightly\", environment=\"prod\", slo=\"duration\"}}'
            value: 250
      # Over the window: no failure yet, and 25% slow of a 30% budget.
      - expr: round(gantry:slo_error_budget_remaining:ratio * 1000)
        eval_time: 1200m
        exp_samples:
          - labels: '{{workflow=\"nightly\", environment=\"prod\", slo=\"success\"}}'
            value: 1000
          - labels: '{{workflow=\"nightly\", environment=\"prod\", slo=\"duration\"}}'
            value: 167
      - expr: gantry:slo_objective:ratio
        eval_time: 1m
        exp_samples:
          - labels: {success_objective}
            value: 0.99
          - labels: {duration_objective}
            value: 0.7
",
        success_5m = recorded("gantry:slo_error_ratio:rate5m", "success"),
        success_objective = recorded("gantry:slo_objective:ratio", "success"),
        duration_objective = recorded("gantry:slo_objective:ratio", "duration"),
    )
}

#[test]
fn a_folder_of_specs_exports_every_workflow_with_objectives() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("workflows");
    std::fs::create_dir(&specs).unwrap();
    std::fs::write(specs.join("nightly.yaml"), NIGHTLY).unwrap();
    std::fs::write(
        specs.join("plain.yml"),
        "name: plain\nsteps:\n  - id: a\n    run: 'true'\n",
    )
    .unwrap();
    let out = gantry(
        dir.path(),
        &[
            "slo",
            "export",
            "-f",
            "workflows",
            "--runbook-url",
            "https://wiki.example/slo-burn",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let rules = text(&out.stdout);
    assert!(rules.contains("gantry-slo:nightly:prod:success"), "{rules}");
    assert!(
        rules.contains("runbook_url: \"https://wiki.example/slo-burn\""),
        "{rules}"
    );
    // The spec without objectives is named, not an error.
    let err = text(&out.stderr);
    assert!(
        err.contains("workflow plain has no slo: section; nothing to export for it"),
        "{err}"
    );
}

/// Each mistake: exit 1, one line per problem naming the file and what to
/// fix, and no rules file left behind.
#[test]
fn bad_input_is_refused_with_the_file_and_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
    write("nightly.yaml", NIGHTLY);
    write(
        "not-a-fraction.yaml",
        &NIGHTLY.replace("success: 99%", "success: 99"),
    );
    write(
        "between-bounds.yaml",
        &NIGHTLY.replace("within: 5m", "within: 10m"),
    );
    write(
        "plain.yaml",
        "name: plain\nsteps:\n  - id: a\n    run: 'true'\n",
    );
    write("copy.yaml", NIGHTLY);
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["missing.yaml"], &["cannot read missing.yaml"]),
        (
            &["empty"],
            &["empty holds no *.yaml, *.yml or *.json files"],
        ),
        (
            &["not-a-fraction.yaml"],
            &[
                "not-a-fraction.yaml: line 6: slo.prod.success: target 99 is not a fraction; write 0.99 or \"99%\"",
            ],
        ),
        (
            &["between-bounds.yaml"],
            &[
                "between-bounds.yaml: nightly: slo.prod.duration.within: 10m is not a bucket bound of gantry_run_duration_seconds",
                "the nearest bounds are 5m and 15m",
            ],
        ),
        (
            &["plain.yaml"],
            &["no spec has an slo: section, so there is nothing to export"],
        ),
        (
            &["nightly.yaml", "copy.yaml"],
            &["copy.yaml: workflow nightly is also in nightly.yaml"],
        ),
        // Every problem at once, across files.
        (
            &["missing.yaml", "not-a-fraction.yaml"],
            &["cannot read missing.yaml", "not-a-fraction.yaml: line 6"],
        ),
    ];
    for (files, fragments) in cases {
        let mut args = vec!["slo", "export", "--output", "rules.yml"];
        for file in *files {
            args.extend(["--file", file]);
        }
        let out = gantry(dir.path(), &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{files:?}: {err}");
        for fragment in *fragments {
            assert!(
                err.contains(fragment),
                "{files:?}: {fragment:?} not in {err}"
            );
        }
        assert!(
            err.lines().all(|l| l.starts_with("gantry: ")),
            "{files:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{files:?}: {out:?}");
        assert!(!dir.path().join("rules.yml").exists(), "{files:?}");
    }
    // No --file at all: clap's usage error.
    let out = gantry(dir.path(), &["slo", "export"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--file <FILE|DIR>"));
}
