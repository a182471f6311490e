//! A large-database table, as text and as Markdown.

use super::{Goal, LargeFigures};
use crate::table::{print_aligned, print_markdown_table};

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
            let mark = match f.goal.met(r) {
                true => "",
                false => " (over the goal)",
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
    let goal = match f.goal {
        Goal::WithinRatio(r) => format!("large p99 within {r}× of small"),
        Goal::UnderMs(ms) => format!("large p99 under {ms} ms"),
    };
    format!(
        "{} requests of each kind per database size, the kinds in turn, over loopback on a kept-alive \
         connection ({}); small: {} {unit}, large: {} {unit} (bulk-inserted in {:.0} s, not \
         measured); goal: {goal}",
        f.samples,
        f.reader,
        f.small,
        f.large,
        f.seed_seconds,
        unit = f.unit,
    )
}

pub fn print_text(f: &LargeFigures) {
    println!("\n== {}, {}", f.title, f.database);
    print_aligned(&HEADER, &rows(f));
    println!("  {}", note(f));
}

pub fn print_markdown(f: &LargeFigures) {
    println!("\n#### {}, {}\n", f.title, f.database);
    print_markdown_table(&HEADER, &rows(f));
    println!("\n{}.", note(f));
}
