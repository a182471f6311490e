//! Plain tables for the sections' reports: aligned text for the terminal
//! and Markdown for docs/benchmarks.md.

/// Left-aligned first column, the rest right-aligned.
pub fn print_aligned(header: &[&str], rows: &[Vec<String>]) {
    let header: Vec<String> = header.iter().map(|s| (*s).to_owned()).collect();
    let all: Vec<&Vec<String>> = [&header].into_iter().chain(rows).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            all.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in all {
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
        println!("  {}", cells.join("  ").trim_end());
    }
}

pub fn print_markdown_table(header: &[&str], rows: &[Vec<String>]) {
    println!("| {} |", header.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    println!("|{}|", align.join("|"));
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
}
