//! The step sandbox's settings from the `--step-*` flags, so the engine
//! never sees a clap type.

use crate::cli::sandbox::StepSandboxFlags;
use crate::engine::sandbox::{SandboxRequest, StepSandbox};
use std::path::PathBuf;

impl From<&StepSandboxFlags> for SandboxRequest {
    fn from(flags: &StepSandboxFlags) -> Self {
        Self {
            step_runner: flags.step_runner.clone(),
            step_sandbox: flags.step_sandbox.into(),
            step_user: flags.step_user.clone(),
            step_max_memory: flags.step_max_memory,
            step_max_cpu: flags.step_max_cpu,
            step_max_processes: flags.step_max_processes,
            step_max_open_files: flags.step_max_open_files,
            step_allow_write: flags.step_allow_write.clone(),
        }
    }
}

impl StepSandbox {
    /// Resolves the flags; `protected` as in [`StepSandbox::resolve`].
    pub fn from_flags(flags: &StepSandboxFlags, protected: &[PathBuf]) -> Result<Self, String> {
        Self::resolve(&flags.into(), protected)
    }
}
