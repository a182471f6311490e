//! The step sandbox's flags, shared by `serve` and `worker` (flattened into
//! `cli::WorkerFlags`; `config/` turns them into the engine's
//! `SandboxRequest`). Documented in docs/configuration.md.

use clap::{Args, ValueEnum};
use gantry_core::spec::SpecBytes;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct StepSandboxFlags {
    /// The binary that supervises each step (run as `RUNNER step-exec`); defaults to
    /// `gantry-step-exec` next to this executable, else this executable itself. Tests that run
    /// the server in-process point it at the built binary.
    #[arg(long, env = "GANTRY_STEP_RUNNER", value_name = "PATH", hide = true)]
    pub step_runner: Option<PathBuf>,

    /// Confine shell steps with Landlock: `on` (where the kernel supports it, degraded with a
    /// warning where not), `required` (refuse to start without it), `off`.
    #[arg(
        long,
        env = "GANTRY_STEP_SANDBOX",
        value_enum,
        default_value = "on",
        value_name = "MODE"
    )]
    pub step_sandbox: SandboxMode,

    /// Run shell steps as this user (and its primary group). Defaults to `nobody` when Gantry
    /// runs as root; otherwise steps run as Gantry's own user.
    #[arg(long, env = "GANTRY_STEP_USER", value_name = "USER")]
    pub step_user: Option<String>,

    /// Most memory each process of a step may allocate (e.g. 2Gi): the default for steps
    /// without `limits.memory`, and the cap for those with it.
    #[arg(long, env = "GANTRY_STEP_MAX_MEMORY", value_name = "SIZE", value_parser = SpecBytes::parse)]
    pub step_max_memory: Option<SpecBytes>,

    /// Most CPU time each process of a step may use (e.g. 1h): the default for steps without
    /// `limits.cpu`, and the cap for those with it.
    #[arg(long, env = "GANTRY_STEP_MAX_CPU", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub step_max_cpu: Option<Duration>,

    /// Most processes the step user may have (RLIMIT_NPROC, counted per user, so shared by
    /// the steps running at once as that user).
    #[arg(
        long,
        env = "GANTRY_STEP_MAX_PROCESSES",
        value_name = "N",
        default_value_t = 4096
    )]
    pub step_max_processes: u64,

    /// Most open files per step process (RLIMIT_NOFILE).
    #[arg(
        long,
        env = "GANTRY_STEP_MAX_OPEN_FILES",
        value_name = "N",
        default_value_t = 1024
    )]
    pub step_max_open_files: u64,

    /// An extra directory every shell step may read and write (repeatable, or comma-separated
    /// in GANTRY_STEP_ALLOW_WRITE). An escape hatch for a shared cache: every step of every
    /// workflow can then read and change what is there.
    #[arg(
        long,
        env = "GANTRY_STEP_ALLOW_WRITE",
        value_name = "DIR",
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub step_allow_write: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxMode {
    /// Landlock where the kernel has it; a warning and degraded isolation where not.
    On,
    /// Landlock or no start.
    Required,
    /// No Landlock ruleset (steps still run as the step user, with limits).
    Off,
}

impl From<SandboxMode> for crate::engine::sandbox::SandboxMode {
    fn from(mode: SandboxMode) -> Self {
        match mode {
            SandboxMode::On => Self::On,
            SandboxMode::Required => Self::Required,
            SandboxMode::Off => Self::Off,
        }
    }
}
