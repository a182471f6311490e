//! The report of one backend: the throughput table (each engine figure
//! beside its raw baseline and the ratio) and the latency and wall-time
//! table, printed as aligned text and, with `--markdown`, as the Markdown
//! tables `docs/benchmarks.md` records.

use crate::audit::AuditFigures;
use crate::engine::{HISTORY_RUNS, Throughput, Timings};
use crate::overhead::{self, LIMIT_PERCENT, Verdict};
use crate::raw::RawFigures;
use crate::remote::RemoteFigures;
use crate::stats::Percentiles;
use crate::{CONCURRENCY, POOL_CONNECTIONS};

/// Everything measured on one backend.
pub struct Report {
    pub raw: RawFigures,
    pub throughput: Throughput,
    pub remote: RemoteFigures,
    pub timings: Timings,
    pub audit: AuditFigures,
    pub latency_samples: usize,
    /// The goal for p99 trigger → first step start, if any.
    pub latency_target_ms: Option<f64>,
    pub chain_steps: usize,
    pub parallel_runs: usize,
    pub slots: usize,
    pub repeat: usize,
    /// Metrics and tracing off against on (`None` with `--overhead-samples 0`).
    pub overhead: Option<overhead::Figures>,
}

/// How much slower the median trigger → first step start may be once the
/// workflow has [`HISTORY_RUNS`] past runs: a read on that path scaling
/// with the history shows far above it (3.8× before migration 0029).
const HISTORY_GOAL: f64 = 1.5;

/// 12345.6 → "12,346"; small rates keep a decimal.
fn rate(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    grouped(&format!("{v:.0}"))
}

/// 1234567 → "1,234,567".
pub fn count(n: u64) -> String {
    grouped(&n.to_string())
}

fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(engine: f64, raw: f64) -> String {
    format!("{:.1} %", 100.0 * engine / raw)
}

impl Report {
    /// Median trigger → first step start with [`HISTORY_RUNS`] past runs
    /// over the same without.
    pub fn history_slope(&self) -> f64 {
        self.timings.latency_start_history.p50 / self.timings.latency_start.p50.max(f64::EPSILON)
    }

    /// Whether trigger latency stayed flat as the history grew: the
    /// benchmark fails when not, as it does on the overhead.
    pub fn history_verdict(&self) -> anyhow::Result<()> {
        let slope = self.history_slope();
        anyhow::ensure!(
            slope <= HISTORY_GOAL,
            "trigger → first step start's p50 is {slope:.2}× as long once the workflow has {} past runs \
             (goal ≤ {HISTORY_GOAL}×): a read on the trigger's path walks the history",
            count(HISTORY_RUNS as u64)
        );
        Ok(())
    }

    /// Figure, unit, then one column per concurrency.
    fn throughput_rows(&self) -> Vec<[String; 4]> {
        let row = |figure: &str, unit: &str, v: [String; 2]| {
            let [a, b] = v;
            [figure.to_owned(), unit.to_owned(), a, b]
        };
        let per = |v: &[f64]| [rate(v[0]), rate(v[1])];
        let ratio = |e: &[f64]| {
            [
                percent(e[0], self.raw.one_tx[0]),
                percent(e[1], self.raw.one_tx[1]),
            ]
        };
        vec![
            row(
                "raw claim+complete, 1 tx per job (baseline)",
                "jobs/s",
                per(&self.raw.one_tx),
            ),
            row(
                "raw claim tx, then complete tx",
                "jobs/s",
                per(&self.raw.two_tx),
            ),
            row(
                "engine, no-op shell step (`true`)",
                "steps/s",
                per(&self.throughput.shell),
            ),
            row("  ratio to baseline", "", ratio(&self.throughput.shell)),
            row(
                "remote worker over the execution API, no-op shell step",
                "steps/s",
                per(&self.remote.shell),
            ),
            row("  ratio to baseline", "", ratio(&self.remote.shell)),
            row(
                "engine, no-op HTTP step (local server)",
                "steps/s",
                per(&self.throughput.http),
            ),
            row("  ratio to baseline", "", ratio(&self.throughput.http)),
            row(
                "audit: plain INSERT, 1 tx per row (baseline)",
                "rows/s",
                per(&self.audit.plain),
            ),
            row(
                "audit: append_audit, hash-chained",
                "appends/s",
                per(&self.audit.chained),
            ),
            row(
                "  ratio to baseline",
                "",
                [
                    percent(self.audit.chained[0], self.audit.plain[0]),
                    percent(self.audit.chained[1], self.audit.plain[1]),
                ],
            ),
        ]
    }

    /// Figure, value, detail.
    fn timing_rows(&self) -> Vec<[String; 3]> {
        let pct = |p: &Percentiles| {
            [
                format!("p50 {:.1} ms, p99 {:.1} ms", p.p50, p.p99),
                format!("max {:.1} ms, {} runs", p.max, self.latency_samples),
            ]
        };
        let [a, mut b] = pct(&self.timings.latency_start);
        if let Some(target) = self.latency_target_ms {
            let verdict = if self.timings.latency_start.p99 < target {
                "met"
            } else {
                "NOT MET"
            };
            b.push_str(&format!("; target p99 < {target:.0} ms: {verdict}"));
        }
        let [h, mut i] = pct(&self.timings.latency_start_history);
        i.push_str(&format!(
            "; p50 {:.2}× the row above's, goal ≤ {HISTORY_GOAL}×: {}",
            self.history_slope(),
            if self.history_verdict().is_ok() {
                "met"
            } else {
                "NOT MET"
            }
        ));
        let [c, d] = pct(&self.timings.latency_finish);
        let [e, f] = pct(&self.remote.latency_start);
        let chain_ms = self.timings.chain.as_secs_f64() * 1000.0 / self.chain_steps as f64;
        let parallel_steps = (self.chain_steps * self.parallel_runs) as f64;
        vec![
            ["trigger → first step start, idle".into(), a, b],
            [
                format!(
                    "trigger → first step start, idle, {} more past runs of the workflow",
                    count(HISTORY_RUNS as u64)
                ),
                h,
                i,
            ],
            ["trigger → 1-step run finished, idle".into(), c, d],
            [
                "trigger → first step start, remote worker (execution API), idle".into(),
                e,
                f,
            ],
            [
                format!("one {}-step sequential workflow", self.chain_steps),
                format!("{:.2} s", self.timings.chain.as_secs_f64()),
                format!(
                    "{chain_ms:.1} ms/step: {:.1} claim → report, {:.1} report → next claim",
                    self.timings.chain_in_step_ms, self.timings.chain_between_ms
                ),
            ],
            [
                format!(
                    "{} parallel {}-step workflows",
                    self.parallel_runs, self.chain_steps
                ),
                format!("{:.2} s", self.timings.parallel.as_secs_f64()),
                format!(
                    "{} steps/s",
                    rate(parallel_steps / self.timings.parallel.as_secs_f64())
                ),
            ],
            [
                "verify the audit chain (verify_store)".into(),
                format!("{:.0} ms", self.audit.verify.as_secs_f64() * 1000.0),
                format!(
                    "{} records, {} records/s; intact",
                    count(self.audit.verified),
                    rate(self.audit.verified as f64 / self.audit.verify.as_secs_f64())
                ),
            ],
        ]
    }

    fn notes(&self) -> String {
        format!(
            "Throughput: raw loops with {c0} and {c1} concurrent tasks; the engine with one worker of {c0} and {c1} \
             slots draining a queue of {{runs}} × {{steps}}; the remote worker the same through the execution API \
             of a `gantry serve` in this process (HTTP on loopback, a worker token, long-poll claims). \
             Latency and wall times: one worker of {slots} slots; \
             wall times are the median of {repeat}. Audit: {c0} and {c1} concurrent writers for {audit} each, \
             through `append_audit` (the appends waiting together commit as one transaction that locks the chain head once) and, as the baseline, \
             plain one-row INSERT transactions of the same records with constant hashes into the same \
             table, over a pool of the store's settings ({pool} connections); the chain is then verified.",
            c0 = CONCURRENCY[0],
            c1 = CONCURRENCY[1],
            slots = self.slots,
            repeat = self.repeat,
            audit = humantime::format_duration(self.audit.time),
            pool = POOL_CONNECTIONS,
        )
    }

    /// Figure, off, on, overhead [90 % interval], verdict.
    fn overhead_rows(&self, o: &overhead::Figures) -> Vec<[String; 5]> {
        let verdict = |v: &overhead::Overhead| match v.verdict() {
            Verdict::Under => format!("under {LIMIT_PERCENT} %"),
            Verdict::Over => format!("{LIMIT_PERCENT} % or more: FAILED"),
            Verdict::Unresolved => "not resolved: too noisy".to_owned(),
        };
        // CPU seconds of each side and their change (no interval: one figure a side).
        let cpu = |label: &str, off: f64, on: f64| {
            [
                label.to_owned(),
                format!("{off:.1} s"),
                format!("{on:.1} s"),
                format!("{:+.1} %", overhead::change(off, on)),
                String::new(),
            ]
        };
        vec![
            [
                "trigger → first step start, p50".into(),
                format!("{:.2} ms", o.off.latency.p50),
                format!("{:.2} ms", o.on.latency.p50),
                format!("{:+.1} %", o.p50_overhead()),
                String::new(),
            ],
            [
                "trigger → first step start, p99".into(),
                format!("{:.2} ms", o.off.latency.p99),
                format!("{:.2} ms", o.on.latency.p99),
                o.p99.describe(),
                verdict(&o.p99),
            ],
            [
                format!("one {}-step sequential workflow, median", self.chain_steps),
                format!("{:.3} s", o.off.chain.as_secs_f64()),
                format!("{:.3} s", o.on.chain.as_secs_f64()),
                o.chain.describe(),
                verdict(&o.chain),
            ],
            cpu(
                "CPU time, engine process",
                o.off.cpu.engine,
                o.on.cpu.engine,
            ),
            cpu("CPU time, step processes", o.off.cpu.steps, o.on.cpu.steps),
            [
                "JSON log lines written".into(),
                count(o.off.log_lines as u64),
                count(o.on.log_lines as u64),
                String::new(),
                String::new(),
            ],
        ]
    }

    fn overhead_notes(o: &overhead::Figures) -> String {
        let metrics = format!(
            "the Prometheus recorder installed and served as `serve` does it ({steps} of {ran} \
             finished steps counted, {dropped} spans dropped)",
            steps = count(o.steps_counted as u64),
            ran = count(o.steps_ran as u64),
            dropped = count(o.dropped as u64),
        );
        let tracing = format!(
            "OTLP/gRPC export to a live receiver in the benchmark ({spans} spans received, \
             {run_spans} run spans for {runs} runs traced)",
            spans = count(o.spans as u64),
            run_spans = count(o.run_spans as u64),
            runs = count(o.runs_traced as u64),
        );
        let on = match o.parts {
            overhead::Parts::All => format!("{metrics} and {tracing}"),
            overhead::Parts::Metrics => format!("{metrics} only (`--overhead-on metrics`)"),
            overhead::Parts::Tracing => format!("{tracing} only (`--overhead-on tracing`)"),
            overhead::Parts::Nothing => {
                "nothing either (`--overhead-on nothing`: an A/A run measuring the comparison's \
                 own bias)"
                    .to_owned()
            }
        };
        format!(
            "Metrics and tracing: \"on\" is {on}; \"off\" is neither. Each is a process of its own \
             on a fresh database, both write JSON log lines, and each is stopped while the other \
             measures. {samples} samples and {chains} workflows per side in {rounds} alternating \
             rounds, {elapsed:.0} s. Brackets: 90 % interval of a paired bootstrap over the rounds; \
             the benchmark fails when a whole interval is at or over {LIMIT_PERCENT} %.",
            samples = count(o.samples as u64),
            chains = o.chains,
            rounds = o.rounds,
            elapsed = o.elapsed.as_secs_f64(),
        )
    }

    pub fn print_text(&self, workload: &str) {
        println!();
        println!("== {} ({})", self.raw.database, self.raw.settings);
        let header = [
            String::new(),
            String::new(),
            format!("{} slot/task", CONCURRENCY[0]),
            format!("{} slots/tasks", CONCURRENCY[1]),
        ];
        let rows = self.throughput_rows();
        let timing = self.timing_rows();
        let w0 = rows
            .iter()
            .map(|r| r[0].chars().count())
            .chain(timing.iter().map(|r| r[0].chars().count()))
            .max()
            .unwrap_or(0);
        let w2 = rows
            .iter()
            .chain([&header])
            .map(|r| r[2].chars().count())
            .max()
            .unwrap_or(0);
        let w3 = rows
            .iter()
            .chain([&header])
            .map(|r| r[3].chars().count())
            .max()
            .unwrap_or(0);
        let wu = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        for r in [&header].into_iter().chain(rows.iter()) {
            println!(
                "  {:<w0$}  {:<wu$}  {:>w2$}  {:>w3$}",
                r[0], r[1], r[2], r[3]
            );
        }
        let w1 = timing
            .iter()
            .map(|r| r[1].chars().count())
            .max()
            .unwrap_or(0);
        for r in &timing {
            println!("  {:<w0$}  {:<w1$}  ({})", r[0], r[1], r[2]);
        }
        println!("  {}", self.notes().replace("{runs} × {steps}", workload));
        if let Some(o) = &self.overhead {
            let header = [
                "metrics and tracing".to_owned(),
                "off".to_owned(),
                "on".to_owned(),
                "overhead [90 % interval]".to_owned(),
                String::new(),
            ];
            let rows = self.overhead_rows(o);
            let width = |i: usize| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
            for r in [&header].into_iter().chain(rows.iter()) {
                println!(
                    "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
                    r[0], r[1], r[2], r[3], r[4]
                );
            }
            println!("  {}", Self::overhead_notes(o));
        }
    }

    pub fn print_markdown(&self, workload: &str) {
        println!();
        println!("#### {} ({})", self.raw.database, self.raw.settings);
        println!();
        println!(
            "| throughput | unit | {} slot / task | {} slots / tasks |",
            CONCURRENCY[0], CONCURRENCY[1]
        );
        println!("|---|---|---:|---:|");
        for r in self.throughput_rows() {
            println!("| {} | {} | {} | {} |", r[0].trim(), r[1], r[2], r[3]);
        }
        println!();
        println!("| latency and wall time | value | detail |");
        println!("|---|---:|---|");
        for r in self.timing_rows() {
            println!("| {} | {} | {} |", r[0], r[1], r[2]);
        }
        println!();
        println!("{}", self.notes().replace("{runs} × {steps}", workload));
        if let Some(o) = &self.overhead {
            println!();
            println!("| metrics and tracing | off | on | overhead [90 % interval] | verdict |");
            println!("|---|---:|---:|---:|---|");
            for r in self.overhead_rows(o) {
                println!("| {} | {} | {} | {} | {} |", r[0], r[1], r[2], r[3], r[4]);
            }
            println!();
            println!("{}", Self::overhead_notes(o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_well() {
        assert_eq!(rate(23105.4), "23,105");
        assert_eq!(rate(1234567.0), "1,234,567");
        assert_eq!(rate(999.6), "1,000");
        assert_eq!(rate(42.25), "42.2");
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1234567), "1,234,567");
    }
}
