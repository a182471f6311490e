//! `gantry slo export`: Prometheus recording and alerting rules (in the
//! manner of Sloth) that evaluate the `slo:` objectives of workflow specs
//! as Gantry does, from the metrics Gantry serves. Pure: specs in, YAML
//! text out.
//!
//! Per objective (workflow × environment × `success` or `duration`), one
//! rule group:
//! - `gantry:slo_objective:ratio`: the target;
//! - `gantry:slo_error_ratio:rate5m` … `:rate3d` (every [`BurnWindow`]) and
//!   `:rate_window` (the SLO window): bad runs ÷ counted runs;
//! - `gantry:slo_error_budget_remaining:ratio`: 1 − window ratio ÷ budget;
//! - `GantrySloBurn` twice, `severity: page` and `ticket`, each firing on
//!   the workbook's pairs of that severity ([`AlertPair::ALL`]).
//!
//! Which runs count and which are bad is asked of [`verdict`], the rule
//! Gantry's own evaluation uses, so the two cannot disagree on it; the
//! windows, factors and severities are [`AlertPair`]'s.

use super::RUN_DURATION_BUCKETS;
use gantry_core::run::RunStatus;
use gantry_core::slo::{
    AlertPair, BurnWindow, FinishedRun, ObjectiveKind, PPM, Severity, SloSpec, Target, Verdict,
    verdict,
};
use gantry_core::spec::WorkflowSpec;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// The alert's name; `severity`, `workflow`, `environment` and `slo` tell
/// its instances apart.
pub const ALERT: &str = "GantrySloBurn";

/// Where the alerts' `runbook_url` points unless told otherwise: a path in
/// the Gantry repository, like the shipped rules' links.
pub const DEFAULT_RUNBOOK_URL: &str = "docs/ops/runbooks/slo-burn.md";

const RUNS_FINISHED: &str = "gantry_runs_finished_total";
const RUN_DURATION: &str = "gantry_run_duration_seconds";

/// A parsed spec and the file it came from (named in the output's header
/// and in problems).
pub struct SpecFile<'a> {
    pub path: &'a str,
    pub spec: &'a WorkflowSpec,
}

/// The rules file.
#[derive(Debug)]
pub struct Exported {
    pub yaml: String,
    /// Objectives exported (one rule group each).
    pub objectives: usize,
}

/// Why the specs cannot be exported, naming the file where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct ExportProblem {
    pub file: Option<String>,
    pub message: String,
}

/// The rules for every objective in `files`, or every problem at once.
pub fn export(files: &[SpecFile<'_>], runbook_url: &str) -> Result<Exported, Vec<ExportProblem>> {
    let mut problems = Vec::new();
    let mut objectives = Vec::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for file in files {
        let workflow = file.spec.name.as_str();
        if let Some(first) = seen.get(workflow) {
            problems.push(ExportProblem {
                file: Some(file.path.to_owned()),
                message: format!(
                    "workflow {workflow} is also in {first}; give each workflow's spec once"
                ),
            });
            continue;
        }
        seen.insert(workflow, file.path);
        for (environment, slo) in &file.spec.slo {
            for (kind, target) in slo.objectives() {
                match Objective::new(workflow, environment, slo, kind, target) {
                    Ok(objective) => objectives.push(objective),
                    Err(message) => problems.push(ExportProblem {
                        file: Some(file.path.to_owned()),
                        message: format!("{workflow}: {message}"),
                    }),
                }
            }
        }
    }
    if problems.is_empty() && objectives.is_empty() {
        problems.push(ExportProblem {
            file: None,
            message: "no spec has an slo: section, so there is nothing to export (docs/slo.md says how to write one)".to_owned(),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut yaml = header(files);
    yaml.push_str("groups:\n");
    for objective in &objectives {
        objective.render(runbook_url, &mut yaml);
    }
    Ok(Exported {
        yaml,
        objectives: objectives.len(),
    })
}

/// One objective of one workflow in one environment.
struct Objective<'a> {
    workflow: &'a str,
    environment: &'a str,
    kind: ObjectiveKind,
    target: Target,
    window: Duration,
    outcomes: Outcomes,
    /// A duration objective's `within`: a bucket bound, in seconds.
    le: Option<f64>,
}

impl<'a> Objective<'a> {
    fn new(
        workflow: &'a str,
        environment: &'a str,
        slo: &SloSpec,
        kind: ObjectiveKind,
        target: Target,
    ) -> Result<Self, String> {
        let le = match (kind, &slo.duration) {
            (ObjectiveKind::Duration, Some(duration)) => Some(
                bucket_bound(duration.within.0)
                    .map_err(|why| format!("slo.{environment}.duration.within: {why}"))?,
            ),
            _ => None,
        };
        Ok(Self {
            workflow,
            environment,
            kind,
            target,
            window: slo.window.0,
            outcomes: Outcomes::of(slo, kind),
            le,
        })
    }

    fn slo_label(&self) -> &'static str {
        match self.kind {
            ObjectiveKind::Success => "success",
            ObjectiveKind::Duration => "duration",
        }
    }

    /// `99% of runs succeed within 5m over 28d`.
    fn describe(&self) -> String {
        let within = self
            .le
            .map(|le| format!(" within {}", prom_duration(seconds(le))))
            .unwrap_or_default();
        format!(
            "{} of runs succeed{within} over {}",
            self.target,
            prom_duration(self.window)
        )
    }

    /// `workflow="w", environment="e"`: the metrics' own labels.
    fn metric_matchers(&self) -> String {
        format!(
            "workflow={}, environment={}",
            promql_string(self.workflow),
            promql_string(self.environment)
        )
    }

    /// The recorded series' labels, as matchers.
    fn recorded(&self, name: &str) -> String {
        format!(
            "{name}{{{}, slo={}}}",
            self.metric_matchers(),
            promql_string(self.slo_label())
        )
    }

    /// Bad runs ÷ counted runs over `range`: 0 when none was bad, absent
    /// (not NaN) when none counted, like the shipped rules' ratios.
    fn error_ratio(&self, range: &str) -> String {
        let m = self.metric_matchers();
        let counted = outcome_matcher(&self.outcomes.counted);
        match self.le {
            // Success: the bad outcomes' share of the counted ones.
            None => {
                let bad = outcome_matcher(&self.outcomes.bad);
                format!(
                    "(sum(rate({RUNS_FINISHED}{{{m}, {bad}}}[{range}])) or vector(0))\n\
                     /\n\
                     (sum(rate({RUNS_FINISHED}{{{m}, {counted}}}[{range}])) > 0)\n"
                )
            }
            // Duration: counted runs less those good within the bound
            // (`le` is "at most", as `within` is).
            Some(le) => {
                let good = outcome_matcher(&self.outcomes.good_in_time);
                format!(
                    "(\n  sum(rate({RUN_DURATION}_count{{{m}, {counted}}}[{range}]))\n  -\n  \
                     (sum(rate({RUN_DURATION}_bucket{{{m}, {good}, le=\"{le}\"}}[{range}])) or vector(0))\n)\n\
                     /\n\
                     (sum(rate({RUN_DURATION}_count{{{m}, {counted}}}[{range}])) > 0)\n"
                )
            }
        }
    }

    fn render(&self, runbook_url: &str, out: &mut String) {
        let labels = self.labels();
        let _ = write!(
            out,
            "  - name: {}\n    rules:\n      # {} in {}: {}.\n",
            yaml_string(&format!(
                "gantry-slo:{}:{}:{}",
                self.workflow,
                self.environment,
                self.slo_label()
            )),
            self.workflow,
            self.environment,
            self.describe()
        );
        let budget = self.target.budget_ppm();
        record(
            out,
            "gantry:slo_objective:ratio",
            &format!("vector({})\n", ppm_decimal(u64::from(self.target.ppm()))),
            &labels,
        );
        for window in BurnWindow::ALL {
            record(
                out,
                &format!("gantry:slo_error_ratio:rate{}", window.label()),
                &self.error_ratio(window.label()),
                &labels,
            );
        }
        let _ = writeln!(
            out,
            "      # The SLO window, {}.",
            prom_duration(self.window)
        );
        record(
            out,
            "gantry:slo_error_ratio:rate_window",
            &self.error_ratio(&prom_duration(self.window)),
            &labels,
        );
        record(
            out,
            "gantry:slo_error_budget_remaining:ratio",
            &format!(
                "1 - {} / {}\n",
                self.recorded("gantry:slo_error_ratio:rate_window"),
                ppm_decimal(u64::from(budget))
            ),
            &labels,
        );
        for severity in [Severity::Page, Severity::Ticket] {
            self.render_alert(severity, runbook_url, out);
        }
    }

    fn labels(&self) -> String {
        format!(
            "          workflow: {}\n          environment: {}\n          slo: {}\n",
            yaml_string(self.workflow),
            yaml_string(self.environment),
            yaml_string(self.slo_label())
        )
    }

    /// Fires when both windows of one of the severity's pairs burn faster
    /// than its factor; once firing, keeps firing until every long window
    /// burns at or under its factor. That is Gantry's resolve rule
    /// (`AlertPair::resolved`): runs are sparse, a short window often holds
    /// none, and resolving on it would fire and resolve once per failed
    /// run. The rule reads its own state from `ALERTS`.
    fn render_alert(&self, severity: Severity, runbook_url: &str, out: &mut String) {
        let pairs: Vec<AlertPair> = AlertPair::ALL
            .into_iter()
            .filter(|p| p.severity() == severity)
            .collect();
        let severity_label = match severity {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        };
        let above = |pair: AlertPair, window: BurnWindow| {
            format!(
                "{} > {}",
                self.recorded(&format!("gantry:slo_error_ratio:rate{}", window.label())),
                threshold(pair, self.target)
            )
        };
        let both: Vec<String> = pairs
            .iter()
            .map(|&p| {
                format!(
                    "    (\n        {}\n      and\n        {}\n    )\n",
                    above(p, p.long()),
                    above(p, p.short())
                )
            })
            .collect();
        let long: Vec<String> = pairs
            .iter()
            .map(|&p| format!("        {}\n", above(p, p.long())))
            .collect();
        let firing = format!(
            "ALERTS{{alertname=\"{ALERT}\", alertstate=\"firing\", severity=\"{severity_label}\", {}, slo={}}}",
            self.metric_matchers(),
            promql_string(self.slo_label())
        );
        let expr = format!(
            "(\n{})\nor\n(\n    (\n{}    )\n  and on (workflow, environment, slo)\n    {firing}\n)\n",
            both.join("  or\n"),
            long.join("      or\n"),
        );
        let rates: Vec<String> = pairs
            .iter()
            .map(|p| {
                format!(
                    "more than {}× the even rate over both the last {} and {}",
                    factor(*p),
                    p.long().label(),
                    p.short().label()
                )
            })
            .collect();
        let speed = match severity {
            Severity::Page => "fast",
            Severity::Ticket => "steadily",
        };
        let summary = format!(
            "{} in {} is burning its {} error budget {speed}",
            self.workflow,
            self.environment,
            self.slo_label()
        );
        let description = format!(
            "Runs of workflow {} in environment {} are spending the error budget of its {} objective ({}) at {}. It resolves once the long windows burn at or under those rates again.",
            self.workflow,
            self.environment,
            self.slo_label(),
            self.describe(),
            rates.join(", or ")
        );
        let _ = write!(
            out,
            "      - alert: {ALERT}\n        expr: |\n{}        labels:\n          severity: {severity_label}\n{}        annotations:\n          summary: {}\n          description: {}\n          runbook_url: {}\n",
            indent(&expr),
            self.labels(),
            yaml_string(&summary),
            yaml_string(&description),
            yaml_string(runbook_url)
        );
    }
}

fn record(out: &mut String, name: &str, expr: &str, labels: &str) {
    let _ = write!(
        out,
        "      - record: {name}\n        expr: |\n{}        labels:\n{labels}",
        indent(expr)
    );
}

/// `text`'s lines indented into a block scalar under `expr: |`.
fn indent(text: &str) -> String {
    text.lines().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "          {line}");
        out
    })
}

/// The `outcome` label values of runs of each final status, by how they
/// count for one objective, as [`verdict`] decides.
#[derive(Debug, PartialEq, Eq)]
struct Outcomes {
    /// Counted at all (cancelled runs are not).
    counted: Vec<&'static str>,
    /// Bad however fast they were.
    bad: Vec<&'static str>,
    /// Good only when they finished within the objective's `within`.
    good_in_time: Vec<&'static str>,
    /// Good however long they took.
    good: Vec<&'static str>,
}

impl Outcomes {
    fn of(slo: &SloSpec, kind: ObjectiveKind) -> Self {
        let mut outcomes = Self {
            counted: Vec::new(),
            bad: Vec::new(),
            good_in_time: Vec::new(),
            good: Vec::new(),
        };
        for &status in RunStatus::ALL.iter().filter(|s| s.is_terminal()) {
            let judge = |took| {
                verdict(
                    slo,
                    kind,
                    FinishedRun {
                        status,
                        ran_for: Some(took),
                    },
                )
            };
            let name = status.as_str();
            match (judge(Duration::ZERO), judge(Duration::MAX)) {
                (None, _) => continue,
                (Some(Verdict::Bad), _) => outcomes.bad.push(name),
                (Some(Verdict::Good), Some(Verdict::Good)) => outcomes.good.push(name),
                (Some(Verdict::Good), _) => outcomes.good_in_time.push(name),
            }
            outcomes.counted.push(name);
        }
        outcomes
    }
}

/// `outcome="a"` or `outcome=~"a|b"`.
fn outcome_matcher(outcomes: &[&str]) -> String {
    match outcomes {
        [one] => format!("outcome={}", promql_string(one)),
        many => format!("outcome=~{}", promql_string(&many.join("|"))),
    }
}

/// The bucket bound equal to `within`, in seconds; otherwise why not, with
/// the nearest bounds. Rounding up instead would export a looser objective
/// than the one Gantry evaluates, silently.
fn bucket_bound(within: Duration) -> Result<f64, String> {
    let nanos = within.as_nanos();
    let bound_nanos = |b: f64| (b * 1e9).round() as u128;
    if let Some(&b) = RUN_DURATION_BUCKETS
        .iter()
        .find(|&&b| bound_nanos(b) == nanos)
    {
        return Ok(b);
    }
    let shown = |b: f64| humantime::format_duration(seconds(b)).to_string();
    let below = RUN_DURATION_BUCKETS
        .iter()
        .rev()
        .find(|&&b| bound_nanos(b) < nanos);
    let above = RUN_DURATION_BUCKETS
        .iter()
        .find(|&&b| bound_nanos(b) > nanos);
    let nearest = match (below, above) {
        (Some(&b), Some(&a)) => format!("the nearest bounds are {} and {}", shown(b), shown(a)),
        (None, Some(&a)) => format!("the smallest bound is {}", shown(a)),
        (Some(&b), None) => format!("the largest bound is {}", shown(b)),
        (None, None) => "it has no bounds".to_owned(),
    };
    Err(format!(
        "{} is not a bucket bound of {RUN_DURATION}, so Prometheus cannot count the runs that finished within it; {nearest}: use one of them in the spec (docs/slo.md, \"Evaluating in Prometheus\")",
        humantime::format_duration(within)
    ))
}

fn seconds(bound: f64) -> Duration {
    Duration::from_nanos((bound * 1e9).round() as u64)
}

/// The error ratio above which `pair` burns faster than its factor:
/// factor × (1 − target), written exactly (14.4 × 1% is `0.144`).
fn threshold(pair: AlertPair, target: Target) -> String {
    // Tenths × ppm is in units of 10⁻⁷.
    let units = u64::from(pair.factor_tenths()) * u64::from(target.budget_ppm());
    decimal(units, 7)
}

/// `14.4`, `6`.
fn factor(pair: AlertPair) -> String {
    decimal(u64::from(pair.factor_tenths()), 1)
}

/// A count of parts per million ([`PPM`]) as an exact decimal fraction.
fn ppm_decimal(ppm: u64) -> String {
    decimal(ppm, PPM.ilog10())
}

/// `units × 10^−digits` in its shortest exact decimal form.
fn decimal(units: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let (whole, frac) = (units / scale, units % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// A Prometheus duration: `28d`, `1d12h`, `5m`, `500ms`.
fn prom_duration(d: Duration) -> String {
    const UNITS: [(&str, u128); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut ms = d.as_millis();
    let mut out = String::new();
    for (unit, size) in UNITS {
        if ms >= size {
            let _ = write!(out, "{}{unit}", ms / size);
            ms %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// A PromQL string literal. Workflow and environment names cannot hold
/// quotes today; escaping keeps the output valid if that ever changes.
fn promql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML double-quoted scalar: a JSON string is one.
fn yaml_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn header(files: &[SpecFile<'_>]) -> String {
    let sources: Vec<String> = files
        .iter()
        .map(|f| f.path.replace(|c: char| c.is_control(), "?"))
        .collect();
    format!(
        "# Prometheus rules for Gantry's SLOs, written by `gantry slo export`\n\
         # (Gantry {}) from {}.\n\
         # Export again rather than edit: the specs' slo: sections are the source.\n\
         #\n\
         # Per objective: gantry:slo_error_ratio:rate<window> is bad runs ÷ counted\n\
         # runs (cancelled runs don't count), from {RUNS_FINISHED} (success)\n\
         # or {RUN_DURATION}'s buckets (duration). {ALERT} fires on the\n\
         # Google SRE workbook's multiwindow burn-rate pairs and resolves once its\n\
         # long windows burn at or under their factor, as in Gantry. Prometheus\n\
         # needs to keep at least the longest SLO window of samples (retention).\n\
         # See docs/slo.md, \"Evaluating in Prometheus\".\n",
        env!("CARGO_PKG_VERSION"),
        sources.join(", ")
    )
}

#[cfg(test)]
#[path = "slo_rules_tests.rs"]
mod tests;
