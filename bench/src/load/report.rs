//! The load section's table, as text and as Markdown.

use super::LoadFigures;
use crate::table::{print_aligned, print_markdown_table};

const HEADER: [&str; 8] = [
    "phase",
    "requests/s",
    "of raw",
    "p50",
    "p99",
    "max",
    "refused (429)",
    "errors",
];

fn rows(f: &LoadFigures) -> Vec<Vec<String>> {
    let raw = f.phases.first().map_or(f64::NAN, |p| p.per_second());
    f.phases
        .iter()
        .map(|p| {
            vec![
                p.label.to_owned(),
                format!("{:.0}", p.per_second()),
                format!("{:.0} %", 100.0 * p.per_second() / raw),
                format!("{:.2} ms", p.latency.p50),
                format!("{:.2} ms", p.latency.p99),
                format!("{:.1} ms", p.latency.max),
                p.refused.to_string(),
                format!("{} of {}", p.errors, p.requests),
            ]
        })
        .collect()
}

fn note(f: &LoadFigures) -> String {
    let seconds = f.phases.first().map_or(0.0, |p| p.seconds);
    format!(
        "{} kept-alive connections for {seconds:.0} s per phase, each sending its next request \
         when the last was answered (a trigger's connection keeps to one of the 100 workflows; \
         p50 and p99 are of the answered requests, refusals aside); the load generator runs in the same process on the same two \
         cores. The triggers started {} runs; {} finished once (succeeded, one attempt), the last \
         {:.1} s after the phase ended",
        f.connections, f.triggered, f.finished_once, f.drain_seconds
    )
}

pub fn print_text(f: &LoadFigures) {
    println!("\n== Under load, {}", f.database);
    print_aligned(&HEADER, &rows(f));
    println!("  {}", note(f));
}

pub fn print_markdown(f: &LoadFigures) {
    println!("\n#### Under load, {}\n", f.database);
    print_markdown_table(&HEADER, &rows(f));
    println!("\n{}.", note(f));
}
