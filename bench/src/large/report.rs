//! The large-database section's table, as text and as Markdown.

use super::LargeFigures;
use crate::table::{print_aligned, print_markdown_table};

/// The goal: p99 on the large database within this factor of the small.
pub const GOAL_RATIO: f64 = 2.0;

const HEADER: [&str; 6] = [
    "one request at a time",
    "small p50",
    "small p99",
    "large p50",
    "large p99",
    "p99 large/small",
];

fn ms(v: f64) -> String {
    format!("{v:.2} ms")
}

fn rows(f: &LargeFigures) -> Vec<Vec<String>> {
    f.rows
        .iter()
        .map(|r| {
            let ratio = r.ratio();
            let mark = if ratio <= GOAL_RATIO {
                ""
            } else {
                " (over the goal)"
            };
            vec![
                r.label.clone(),
                ms(r.small.p50),
                ms(r.small.p99),
                ms(r.large.p50),
                ms(r.large.p99),
                format!("{ratio:.2}×{mark}"),
            ]
        })
        .collect()
}

fn note(f: &LargeFigures) -> String {
    format!(
        "{} requests of each kind per database size, the kinds in turn, over loopback on a kept-alive \
         connection (API: a viewer token; pages: a dev session); small: {} runs, large: {} runs \
         (bulk-inserted in {:.0} s, not measured); goal: large p99 within {GOAL_RATIO}× of small",
        f.samples, f.small_runs, f.large_runs, f.seed_seconds
    )
}

pub fn print_text(f: &LargeFigures) {
    println!("\n== Reads on a large database, {}", f.database);
    print_aligned(&HEADER, &rows(f));
    println!("  {}", note(f));
}

pub fn print_markdown(f: &LargeFigures) {
    println!("\n#### Reads on a large database, {}\n", f.database);
    print_markdown_table(&HEADER, &rows(f));
    println!("\n{}.", note(f));
}
