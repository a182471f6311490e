//! What metrics and tracing cost (issue 17's done-when): trigger → first
//! step start and the sequential workflow, with the Prometheus recorder and
//! OTLP trace export on versus off, in the same run, on the same database
//! kind, under the same load.
//!
//! A global recorder and subscriber can be installed once per process, so
//! each side is a process of its own: this binary again ([`child`]), one
//! with no `OTEL_*` variable and no recorder ("off"), one exporting over
//! OTLP/gRPC to a live receiver in this process ([`receiver`]) with the
//! recorder installed and served as `serve` does ("on"). Both write JSON
//! log lines through `telemetry::init` with the same filter. Both stay up
//! and take turns ([`schedule`]): a couple of samples each (off first in
//! even rounds, on first in odd ones), and now and then one sequential
//! workflow each (who goes first alternating pair by pair), so a burst of
//! load from elsewhere on the machine lands on both sides alike; the side
//! not measuring is stopped (SIGSTOP), so its background work (the "on"
//! side's span exports, both schedulers' ticks) never lands in the other's
//! samples.
//! [`figures`] turns the samples into overheads with a 90 % interval and a
//! verdict. `--overhead-on` turns on one part only, or nothing (an A/A run,
//! whose figures are the comparison's own noise and bias).

pub mod child;
mod figures;
mod process;
mod receiver;
mod schedule;

pub use figures::{Figures, LIMIT_PERCENT, Overhead, Side, Verdict, change, p99_overhead};

use crate::stats::{Percentiles, median};
use crate::{Args, BackendArg};
use anyhow::{Result, anyhow};
use clap::ValueEnum;
use process::Process;
use receiver::Receiver;
use schedule::Turn;
use std::path::Path;
use std::time::{Duration, Instant};

/// Prefixes a child's answers on its stderr (its stdout is log lines).
pub const REPLY: &str = "gantry-bench-overhead: ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Off,
    On,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::On => "on",
        }
    }
}

/// What the "on" side turns on (`--overhead-on`): both, as `serve` runs
/// with `--metrics-bind` and `OTEL_*` set (the figure issue 17 asks for),
/// or one of them, to see what each costs, or nothing: an A/A run, two
/// identical processes, whose "overhead" is the comparison's own bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Parts {
    All,
    Metrics,
    Tracing,
    Nothing,
}

impl Parts {
    pub fn metrics(self) -> bool {
        matches!(self, Parts::All | Parts::Metrics)
    }

    pub fn tracing(self) -> bool {
        matches!(self, Parts::All | Parts::Tracing)
    }
}

const STEPS_FINISHED: &str = "gantry_steps_finished_total";

/// The "on" process's `/metrics`, once it counts every step it has run
/// (a worker counts a step just after recording its end) or after 5 s.
async fn scrape(on: &Process) -> Result<String> {
    let addr = on
        .metrics
        .as_deref()
        .ok_or_else(|| anyhow!("the on process serves no metrics"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await?
            .error_for_status()?
            .text()
            .await?;
        if family_sum(&text, STEPS_FINISHED) >= on.steps as f64 || Instant::now() >= deadline {
            return Ok(text);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sum of a family's samples in Prometheus text.
fn family_sum(text: &str, family: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Both sides on `backend`, each on a fresh database of its own.
pub fn measure(backend: BackendArg, args: &Args, dir: &Path) -> Result<Figures> {
    std::fs::create_dir_all(dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(compare(backend, args, dir));
    runtime.shutdown_background();
    result
}

async fn compare(backend: BackendArg, args: &Args, dir: &Path) -> Result<Figures> {
    let began = Instant::now();
    let receiver = Receiver::start().await?;
    let (off, on) = tokio::try_join!(
        Process::start(Mode::Off, backend, args, dir, &receiver.endpoint),
        Process::start(Mode::On, backend, args, dir, &receiver.endpoint),
    )?;
    let mut sides = [off, on];
    let batch = args.overhead_batch;
    let rounds = args.overhead_samples.div_ceil(batch);
    for side in &sides {
        side.pause()?;
    }
    let cpu_before = [sides[0].cpu()?, sides[1].cpu()?];
    for turn in schedule::turns(rounds, args.overhead_chains) {
        let side = match turn {
            Turn::Latency { side, .. } | Turn::Chain { side } => &mut sides[side],
        };
        side.resume()?;
        match turn {
            Turn::Latency { round, .. } => side.latency(round, batch).await?,
            Turn::Chain { .. } => side.chain().await?,
        }
        side.pause()?;
    }
    let cpu = [
        sides[0].cpu()? - cpu_before[0],
        sides[1].cpu()? - cpu_before[1],
    ];
    for side in &sides {
        side.resume()?;
    }
    let [off, on] = sides;
    if let Some(file) = &args.overhead_raw {
        write_raw(file, backend, &off, &on)?;
    }
    let parts = args.overhead_on;
    let scraped = if parts.metrics() {
        scrape(&on).await?
    } else {
        String::new()
    };
    let p99 = figures::p99_overhead(&off.samples, &on.samples);
    let chain = figures::median_overhead(&off.chains, &on.chains);
    let side = |p: &Process, cpu| Side {
        latency: Percentiles::of(&p.samples.concat()),
        chain: median(p.chains.clone()),
        log_lines: 0,
        cpu,
    };
    let (off_figures, on_figures) = (side(&off, cpu[0]), side(&on, cpu[1]));
    let steps_ran = on.steps;
    let (_, runs_traced) = tokio::try_join!(off.quit(), on.quit())?;
    receiver
        .wait_for_runs(runs_traced, Duration::from_secs(15))
        .await;
    let received = receiver.stop().await;
    // The log files are complete now that both processes have ended.
    let lines = |mode: Mode| {
        std::fs::read_to_string(dir.join(format!("{}.log", mode.name())))
            .map_or(0, |s| s.lines().count())
    };
    Ok(Figures {
        off: Side {
            log_lines: lines(Mode::Off),
            ..off_figures
        },
        on: Side {
            log_lines: lines(Mode::On),
            ..on_figures
        },
        p99,
        chain,
        parts,
        samples: batch * rounds,
        chains: args.overhead_chains,
        rounds,
        spans: received.all,
        run_spans: received.runs,
        runs_traced,
        steps_counted: family_sum(&scraped, STEPS_FINISHED),
        steps_ran,
        dropped: family_sum(&scraped, "gantry_telemetry_dropped_total"),
        elapsed: began.elapsed(),
    })
}

/// `--overhead-raw`: what the figures were computed from, for a second look.
fn write_raw(file: &Path, backend: BackendArg, off: &Process, on: &Process) -> Result<()> {
    let side = |p: &Process| {
        serde_json::json!({
            "to_start_ms": p.samples,
            "chain_ms": p.chains.iter().map(|d| d.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
        })
    };
    let raw = serde_json::json!({ "off": side(off), "on": side(on) });
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".{}.json", crate::backend_name(backend)));
    std::fs::write(&name, raw.to_string())
        .map_err(|e| anyhow!("cannot write {}: {e}", Path::new(&name).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_sums_add_every_series_of_one_family_only() {
        let text = "# HELP gantry_steps_finished_total x\n\
                    gantry_steps_finished_total{kind=\"shell\",outcome=\"succeeded\"} 40\n\
                    gantry_steps_finished_total{kind=\"http\",outcome=\"failed\"} 2\n\
                    gantry_steps_finished_total_other 7\n\
                    gantry_telemetry_dropped_total{signal=\"traces\"} 0\n";
        assert_eq!(family_sum(text, "gantry_steps_finished_total"), 42.0);
        assert_eq!(family_sum(text, "gantry_telemetry_dropped_total"), 0.0);
        assert_eq!(family_sum(text, "gantry_absent_total"), 0.0);
    }
}
