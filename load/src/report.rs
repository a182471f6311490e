//! The reports: a table per request class and the checks, printed and
//! written as Markdown beside the processes' logs (`report.md`).

use crate::check::Checks;
use crate::mix::{Driven, LoadOutcome};
use crate::soak::SoakOutcome;
use anyhow::Result;
use std::fmt::Write as _;
use std::path::Path;

/// Read p99 and write p99 goals (issue 21), in milliseconds.
const READ_GOAL_MS: f64 = 50.0;
const WRITE_GOAL_MS: f64 = 100.0;

pub fn print_load(outcome: &LoadOutcome, markdown: bool) {
    if markdown {
        println!("{}", load_markdown(outcome));
    } else {
        println!("\n== {}", outcome.topology.label());
        println!("{}", table(&outcome.driven, false));
        println!("{}", checks_text(&outcome.checks));
        print_problems(&outcome.problems());
    }
}

pub fn write_load(outcome: &LoadOutcome, out: &Path) -> Result<()> {
    let path = out.join(outcome.topology.slug()).join("report.md");
    std::fs::write(&path, load_markdown(outcome))?;
    eprintln!("load: report in {}", path.display());
    Ok(())
}

pub fn print_soak(outcome: &SoakOutcome) {
    println!("\n== Soak, {}", outcome.topology.label());
    println!("{}", table(&outcome.driven, false));
    println!("{}", trends(outcome));
    println!("{}", checks_text(&outcome.checks));
    print_problems(&outcome.problems());
}

pub fn write_soak(outcome: &SoakOutcome, out: &Path) -> Result<()> {
    let dir = out.join(format!("soak-{}", outcome.topology.slug()));
    let mut md = format!(
        "# Soak: {}\n\n{} clients at {} actions/s for {:.0} s, resources sampled every {:?}.\n\n",
        outcome.topology.label(),
        outcome.clients,
        outcome.rate,
        outcome.driven.seconds,
        outcome.sample_every
    );
    md.push_str(&table(&outcome.driven, true));
    md.push_str("\n\n## Resources\n\n");
    md.push_str(&trends(outcome));
    md.push('\n');
    for plot in &outcome.plots {
        if let Some(name) = plot.file_name().and_then(|n| n.to_str()) {
            let _ = writeln!(md, "\n![{name}]({name})");
        }
    }
    md.push_str("\n## Checks\n\n");
    md.push_str(&checks_text(&outcome.checks));
    md.push_str(&verdict(&outcome.problems()));
    let path = dir.join("report.md");
    std::fs::write(&path, md)?;
    eprintln!("soak: report and plots in {}", dir.display());
    Ok(())
}

fn load_markdown(outcome: &LoadOutcome) -> String {
    let d = &outcome.driven;
    let mut md = format!(
        "#### {}: {} clients for {:.0} s\n\n",
        outcome.topology.label(),
        outcome.clients,
        d.seconds
    );
    md.push_str(&table(d, true));
    md.push_str("\n\n");
    md.push_str(&checks_text(&outcome.checks));
    md.push_str(&verdict(&outcome.problems()));
    md
}

/// Requests/s and latency per class, and all together; markdown or aligned text.
fn table(d: &Driven, markdown: bool) -> String {
    let header = [
        "request",
        "requests",
        "per second",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "goal (p99)",
        "refused (429)",
        "errors",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (class, t) in &d.record.classes {
        let goal = if class.is_read() {
            READ_GOAL_MS
        } else {
            WRITE_GOAL_MS
        };
        let met = if t.answered() == 0 {
            "–".to_owned()
        } else if t.ms(0.99) < goal {
            format!("< {goal:.0}: met")
        } else {
            format!("< {goal:.0}: NOT met")
        };
        rows.push(vec![
            class.label().to_owned(),
            t.requests().to_string(),
            format!("{:.0}", t.requests() as f64 / d.seconds.max(f64::EPSILON)),
            format!("{:.1}", t.ms(0.50)),
            format!("{:.1}", t.ms(0.95)),
            format!("{:.1}", t.ms(0.99)),
            format!("{:.1}", t.ms(1.0)),
            met,
            t.refused.to_string(),
            t.errors.to_string(),
        ]);
    }
    let total = d.record.requests();
    rows.push(vec![
        "all".to_owned(),
        total.to_string(),
        format!("{:.0}", total as f64 / d.seconds.max(f64::EPSILON)),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        d.record
            .classes
            .values()
            .map(|t| t.refused)
            .sum::<u64>()
            .to_string(),
        d.record.errors().to_string(),
    ]);
    let mut out = if markdown {
        let mut s = format!(
            "| {} |\n|---|{}\n",
            header.join(" | "),
            "---:|".repeat(header.len() - 1)
        );
        for r in &rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        s.trim_end().to_owned()
    } else {
        aligned(&header, &rows)
    };
    for (class, t) in &d.record.classes {
        for e in &t.first_errors {
            let _ = write!(out, "\n  error, {}: {e}", class.label());
        }
    }
    out
}

fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let all: Vec<Vec<String>> = std::iter::once(header.iter().map(|s| (*s).to_owned()).collect())
        .chain(rows.iter().cloned())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &all {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
    }
    out.trim_end().to_owned()
}

fn checks_text(c: &Checks) -> String {
    format!(
        "Afterwards: {} runs started by the load and {} before it; {} ended as expected \
         (succeeded, or cancelled when cancelled), the last {:.1} s after the load stopped; \
         {} steps succeeded twice, {} needed a second attempt; the database holds {} runs, \
         {} nobody was told about, {} missing; `gantry audit verify`: {}.\n",
        c.started,
        c.history,
        c.as_expected,
        c.drain_seconds,
        c.steps_twice,
        c.steps_retried,
        c.runs_in_database,
        c.unknown_runs,
        c.missing_runs,
        if c.audit_verified {
            format!("passed ({})", c.audit)
        } else {
            format!("FAILED ({})", c.audit)
        }
    )
}

fn trends(outcome: &SoakOutcome) -> String {
    let mut s = String::from(
        "| resource | of | samples judged | median | fitted rise | allowed | trend |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for (series, v) in &outcome.series {
        let unit = series.resource.unit();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} {unit} | {:+.1} {unit} | {:.1} {unit} | {} |",
            series.resource.title(),
            series.of,
            v.judged,
            v.median,
            v.rise,
            v.allowed,
            if v.too_short() {
                "too few samples"
            } else if v.growing() {
                "GROWING"
            } else {
                "flat"
            }
        );
    }
    s
}

fn verdict(problems: &[String]) -> String {
    if problems.is_empty() {
        "\nResult: **pass**.\n".to_owned()
    } else {
        let mut s = String::from("\nResult: **FAIL**:\n");
        for p in problems {
            let _ = writeln!(s, "- {p}");
        }
        s
    }
}

fn print_problems(problems: &[String]) {
    if problems.is_empty() {
        println!("Result: pass");
    } else {
        println!("Result: FAIL");
        for p in problems {
            println!("  - {p}");
        }
    }
}
