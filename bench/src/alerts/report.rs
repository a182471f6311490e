//! The alert section's report: each figure's median and p95 beside its raw
//! baseline, the store reads that make up a pass, and what the database
//! held; as aligned text and, with `--markdown`, as Markdown.

use super::AlertFigures;
use super::phases::INBOX_BATCH;
use crate::report::count;
use crate::stats::Spread;

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// Figure, median, p95, baseline median, ratio.
fn rows(f: &AlertFigures) -> Vec<[String; 5]> {
    let row = |name: String, v: Spread, raw: Spread| {
        [
            name,
            ms(v.p50),
            ms(v.p95),
            ms(raw.p50),
            format!("{:.1}×", v.p50 / raw.p50),
        ]
    };
    vec![
        row(
            "steady-state pass, empty inbox".into(),
            f.steady,
            f.steady_raw,
        ),
        row(
            format!(
                "pass judging {INBOX_BATCH} finished runs of {} workflows",
                f.workflows.min(INBOX_BATCH as usize)
            ),
            f.batch,
            f.batch_raw,
        ),
        row(
            format!(
                "backtest of 3 failures in a row, 30 days, all {} workflows",
                count(f.workflows as u64)
            ),
            f.backtest,
            f.backtest_raw,
        ),
    ]
}

fn reads(list: &[(&'static str, f64)]) -> String {
    list.iter()
        .map(|(name, v)| format!("{name} {}", ms(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn notes(f: &AlertFigures) -> Vec<String> {
    let per_run = f.batch.p50 / f64::from(INBOX_BATCH);
    vec![
        format!(
            "Installation: {} workflows applied through the port ({:.1} s), {} finished runs over 30 days \
             inserted in batches ({:.1} s, not measured), {} runs at the end; {} rules ({} of them from \
             workflows' alerts:), all sending to one webhook channel on a loopback receiver (the pass \
             writes the outbox; delivery is not measured); {} instances stored, {} pending or firing; \
             the timed batch passes made {} transitions and {} notifications, the steady ones {} \
             transitions.",
            count(f.workflows as u64),
            f.apply.as_secs_f64(),
            count(f.seeded_runs as u64),
            f.seed.as_secs_f64(),
            count(u64::try_from(f.runs_at_end).unwrap_or_default()),
            f.rules,
            f.spec_rules,
            f.instances,
            f.open,
            f.transitions,
            f.notifications,
            f.steady_transitions,
        ),
        format!(
            "Repetitions: {} steady passes, {} batches ({:.3} ms per judged run), {} backtests \
             ({} runs replayed, {} firings). Baselines: the bare reads (inbox joined with its runs, \
             every instance, the active versions, COUNT over runs; for a batch also each workflow's \
             last 10 runs; for the backtest one SELECT of the 30 days' runs).",
            f.samples,
            f.samples,
            per_run,
            f.backtests,
            count(u64::from(f.backtest_runs)),
            count(u64::from(f.backtest_fired)),
        ),
        format!(
            "Store reads of a steady pass (medians, called one by one): {}.",
            reads(&f.steady_reads)
        ),
        format!(
            "Store reads of a batch pass (medians): {}.",
            reads(&f.batch_reads)
        ),
    ]
}

pub fn print_text(f: &AlertFigures) {
    println!();
    println!("== alert evaluation, {}", f.database);
    let header = [
        String::new(),
        "median".to_owned(),
        "p95".to_owned(),
        "raw reads".to_owned(),
        "ratio".to_owned(),
    ];
    let rows = rows(f);
    let width = |i: usize| {
        rows.iter()
            .chain([&header])
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    for r in [&header].into_iter().chain(rows.iter()) {
        println!(
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        );
    }
    for n in notes(f) {
        println!("  {n}");
    }
}

pub fn print_markdown(f: &AlertFigures) {
    println!();
    println!("#### Alert evaluation, {}", f.database);
    println!();
    println!("| figure | median | p95 | raw reads (median) | ratio |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows(f) {
        println!("| {} | {} | {} | {} | {} |", r[0], r[1], r[2], r[3], r[4]);
    }
    for n in notes(f) {
        println!();
        println!("{n}");
    }
}
