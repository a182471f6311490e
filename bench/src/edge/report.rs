//! The edge section's tables, as text and as Markdown.

use super::EdgeFigures;
use super::layers::LayerFigures;
use crate::table::{print_aligned, print_markdown_table};

fn ms(v: f64) -> String {
    format!("{v:.3} ms")
}

const HEADER: [&str; 7] = [
    "GET /api/v1/me, one at a time",
    "p50",
    "p95",
    "p99",
    "max",
    "added at p50 [90 %]",
    "added at p99 [90 %]",
];

fn rows(f: &EdgeFigures) -> Vec<Vec<String>> {
    f.rows
        .iter()
        .map(|r| {
            let added = |d: Option<crate::stats::Difference>| {
                d.map_or_else(String::new, |d| d.describe_micros())
            };
            vec![
                r.label.to_owned(),
                ms(r.latency.p50),
                ms(r.p95),
                ms(r.latency.p99),
                ms(r.latency.max),
                added(r.added_p50),
                added(r.added_p99),
            ]
        })
        .collect()
}

fn note(f: &EdgeFigures) -> String {
    format!(
        "{} requests per server in {} blocks, the four servers in turn; loopback, kept-alive connections, a viewer token",
        f.samples, f.blocks
    )
}

const LAYER_HEADER: [&str; 3] = [
    "same-site POST with the session cookie",
    "per request",
    "added [90 %]",
];

fn layer_rows(f: &LayerFigures) -> Vec<Vec<String>> {
    f.rows
        .iter()
        .map(|r| {
            vec![
                r.label.to_owned(),
                format!("{:.0} ns", r.nanos),
                r.added.map_or_else(String::new, |d| {
                    format!(
                        "{:+.0} ns [{:+.0}, {:+.0}]",
                        d.ms * 1e6,
                        d.low * 1e6,
                        d.high * 1e6
                    )
                }),
            ]
        })
        .collect()
}

fn layer_note(f: &LayerFigures) -> String {
    format!(
        "in process, no network: {} calls per stack in {} rounds (median of the rounds' means)",
        f.requests, f.rounds
    )
}

pub fn print_text(layers: Option<&LayerFigures>, figures: &[EdgeFigures]) {
    if let Some(l) = layers {
        println!();
        println!("== edge layers without a setting");
        print_aligned(&LAYER_HEADER, &layer_rows(l));
        println!("  {}", layer_note(l));
    }
    for f in figures {
        println!();
        println!("== edge settings over loopback, {}", f.database);
        print_aligned(&HEADER, &rows(f));
        println!("  {}", note(f));
    }
}

pub fn print_markdown(layers: Option<&LayerFigures>, figures: &[EdgeFigures]) {
    if let Some(l) = layers {
        println!();
        println!("##### Edge layers without a setting");
        println!();
        print_markdown_table(&LAYER_HEADER, &layer_rows(l));
        println!();
        println!("- {}", layer_note(l));
    }
    for f in figures {
        println!();
        println!("##### Edge settings over loopback, {}", f.database);
        println!();
        print_markdown_table(&HEADER, &rows(f));
        println!();
        println!("- {}", note(f));
    }
}
