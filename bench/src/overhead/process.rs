//! One side of the comparison as the parent sees it: this binary started
//! again as [`child`](super::child) with the side's environment, its JSON
//! log lines going to a file, commands on its stdin and answers on its
//! stderr; stopped (SIGSTOP) whenever it is not its turn.

use super::child;
use super::{Mode, REPLY};
use crate::harness::RUN_TIMEOUT;
use crate::{Args, BackendArg};
use anyhow::{Context, Result, anyhow, bail, ensure};
use gantry_server::engine::sandbox::reap::stat_field;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdin};

/// Clock ticks per second of `/proc`'s CPU times (USER_HZ: 100 on every
/// Linux architecture Gantry runs on).
const USER_HZ: f64 = 100.0;

/// CPU seconds of one side.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// The engine's own threads.
    pub engine: f64,
    /// The steps' processes (supervisor and shell).
    pub steps: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, earlier: Cpu) -> Cpu {
        Cpu {
            engine: self.engine - earlier.engine,
            steps: self.steps - earlier.steps,
        }
    }
}

/// One side, a child process answering commands.
pub struct Process {
    pub mode: Mode,
    child: Child,
    stdin: ChildStdin,
    replies: Lines<BufReader<ChildStderr>>,
    /// The "on" side's metrics listener.
    pub metrics: Option<String>,
    /// Trigger → first step start (ms), per round.
    pub samples: Vec<Vec<f64>>,
    /// The sequential workflow's wall times, in the order they ran.
    pub chains: Vec<Duration>,
    /// Steps it has run (its last answer said).
    pub steps: usize,
    pid: nix::unistd::Pid,
}

impl Process {
    pub async fn start(
        mode: Mode,
        backend: BackendArg,
        args: &Args,
        dir: &Path,
        otlp: &str,
    ) -> Result<Self> {
        let mut command = tokio::process::Command::new(std::env::current_exe()?);
        command
            .arg(child::ARG)
            .args(["--backend", crate::backend_name(backend)])
            .arg("--dir")
            .arg(dir.join(mode.name()))
            .args(["--slots", &args.slots.to_string()])
            .args(["--chain", &args.chain.to_string()])
            .args(["--log", &args.overhead_log]);
        let parts = match mode {
            Mode::Off => super::Parts::Nothing,
            Mode::On => args.overhead_on,
        };
        if parts.metrics() {
            command.arg("--metrics");
        }
        if parts.tracing() {
            command.arg("--tracing");
        }
        // Only the variables set here decide whether spans are exported.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OTEL_") {
                command.env_remove(name);
            }
        }
        if parts.tracing() {
            command
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                .env("OTEL_SERVICE_NAME", "gantry-bench");
        }
        if let Some(url) = &args.postgres_admin_url {
            command.env("GANTRY_TEST_POSTGRES_URL", url);
        }
        let log = std::fs::File::create(dir.join(format!("{}.log", mode.name())))?;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the overhead process")?;
        let (Some(stdin), Some(stderr), Some(pid)) =
            (child.stdin.take(), child.stderr.take(), child.id())
        else {
            bail!("the overhead process has no pipes");
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid)?);
        let mut process = Self {
            mode,
            child,
            stdin,
            replies: BufReader::new(stderr).lines(),
            metrics: None,
            samples: Vec::new(),
            chains: Vec::new(),
            steps: 0,
            pid,
        };
        let ready = process.reply().await?;
        process.metrics = ready["metrics"].as_str().map(str::to_owned);
        Ok(process)
    }

    /// CPU the process has used so far, from `/proc/PID/stat`: its own
    /// threads, and its children once reaped (the steps' processes).
    pub fn cpu(&self) -> Result<Cpu> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // utime 14, stime 15, cutime 16, cstime 17 (proc(5)), in ticks.
        let seconds = |n| {
            stat_field(&stat, n)
                .and_then(|f| f.parse::<f64>().ok())
                .map(|ticks| ticks / USER_HZ)
                .ok_or_else(|| anyhow!("no field {n} in /proc/{}/stat", self.pid))
        };
        Ok(Cpu {
            engine: seconds(14)? + seconds(15)?,
            steps: seconds(16)? + seconds(17)?,
        })
    }

    /// Stops the process (SIGSTOP) between its turns, so that nothing it
    /// does in the background (exporting spans, the scheduler's tick,
    /// the metrics upkeep) runs during the other side's samples.
    pub fn pause(&self) -> Result<()> {
        nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGSTOP)
            .with_context(|| format!("cannot pause the {} process", self.mode.name()))
    }

    pub fn resume(&self) -> Result<()> {
        nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGCONT)
            .with_context(|| format!("cannot resume the {} process", self.mode.name()))
    }

    async fn ask(&mut self, command: &str) -> Result<Value> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        self.reply().await
    }

    /// The next answer; whatever else the child says goes to our stderr.
    async fn reply(&mut self) -> Result<Value> {
        let mode = self.mode.name();
        let answer = tokio::time::timeout(RUN_TIMEOUT, async {
            while let Some(line) = self.replies.next_line().await? {
                match line.strip_prefix(REPLY) {
                    Some(json) => {
                        let value = serde_json::from_str::<Value>(json)?;
                        if let Some(steps) = value["steps"].as_u64() {
                            self.steps = steps as usize;
                        }
                        return Ok(Some(value));
                    }
                    None => eprintln!("[{mode}] {line}"),
                }
            }
            anyhow::Ok(None)
        })
        .await
        .map_err(|_| anyhow!("the {mode} process did not answer within {RUN_TIMEOUT:?}"))??;
        match answer {
            Some(value) => Ok(value),
            None => {
                let status = self.child.wait().await?;
                bail!("the {mode} process ended ({status})")
            }
        }
    }

    pub async fn latency(&mut self, round: usize, n: usize) -> Result<()> {
        let answer = self.ask(&format!("latency {n}")).await?;
        let samples = answer["to_start_ms"]
            .as_array()
            .ok_or_else(|| anyhow!("no samples in {answer}"))?
            .iter()
            .filter_map(Value::as_f64)
            .collect::<Vec<_>>();
        ensure!(
            samples.len() == n,
            "{} samples, asked for {n}",
            samples.len()
        );
        if self.samples.len() <= round {
            self.samples.resize(round + 1, Vec::new());
        }
        self.samples[round].extend(samples);
        Ok(())
    }

    pub async fn chain(&mut self) -> Result<()> {
        let answer = self.ask("chain").await?;
        let ms = answer["wall_ms"]
            .as_f64()
            .ok_or_else(|| anyhow!("no wall time in {answer}"))?;
        self.chains.push(Duration::from_secs_f64(ms / 1000.0));
        Ok(())
    }

    /// Stops the process; the runs it triggered.
    pub async fn quit(mut self) -> Result<usize> {
        let answer = self.ask("quit").await?;
        let status = self.child.wait().await?;
        ensure!(
            status.success(),
            "the {} process ended {status}",
            self.mode.name()
        );
        answer["runs"]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| anyhow!("no run count in {answer}"))
    }
}
