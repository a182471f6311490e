//! What the operator asked of the sandbox (the `--step-*` flags, turned
//! into this by `config/`), before it is resolved against the kernel and
//! the user database. Field names follow the flags, which the errors name.

use gantry_core::spec::SpecBytes;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SandboxRequest {
    /// The supervisor binary; None: this process's own executable.
    pub step_runner: Option<PathBuf>,
    pub step_sandbox: SandboxMode,
    pub step_user: Option<String>,
    pub step_max_memory: Option<SpecBytes>,
    pub step_max_cpu: Option<Duration>,
    pub step_max_processes: u64,
    pub step_max_open_files: u64,
    pub step_allow_write: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxMode {
    /// Landlock where the kernel has it; a warning and degraded isolation where not.
    On,
    /// Landlock or no start.
    Required,
    /// No Landlock ruleset (steps still run as the step user, with limits).
    Off,
}
