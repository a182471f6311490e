//! What the worker and a step's supervisor say to each other, one JSON
//! object per line over the socket that is the supervisor's standard input.
//! The worker sends the [`StepExecJob`] first and may later send
//! [`KILL`]; the supervisor answers [`Report::Started`] and then exactly
//! one of the ending reports. Closing the socket is itself a message: the
//! worker is gone, and the step goes with it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The worker's request to end the step now (SIGKILL to all of it).
pub const KILL: &str = "kill";

/// The longest job line a supervisor reads (scripts are bounded by the
/// spec's size limit; this only stops a runaway writer).
pub const MAX_JOB_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepExecJob {
    /// For `/bin/sh -c`.
    pub script: String,
    pub workdir: PathBuf,
    /// The step's whole environment (it starts empty).
    pub env: BTreeMap<String, String>,
    /// Run the shell as this user and group instead of the supervisor's.
    pub user: Option<RunAs>,
    pub limits: ProcessLimits,
    /// Confine the step to these paths; `None` when the sandbox is off.
    pub access: Option<AccessRules>,
    /// Refuse to run the step when the kernel can't enforce `access`.
    pub require_enforcement: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// `setrlimit` values for every process of the step (soft = hard, so a
/// step can't raise them again).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessLimits {
    /// RLIMIT_NOFILE.
    pub open_files: u64,
    /// RLIMIT_NPROC (counted per user, see docs/security.md).
    pub processes: u64,
    /// RLIMIT_DATA in bytes: heap and private memory of each process.
    pub memory: Option<u64>,
    /// RLIMIT_CPU in seconds of CPU time per process.
    pub cpu_seconds: Option<u64>,
}

/// The paths a step may touch; everything else is denied.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessRules {
    /// Read and execute beneath these.
    pub read: Vec<PathBuf>,
    /// Read, write, create and remove beneath these (directories or files).
    pub write: Vec<PathBuf>,
}

/// The supervisor's side of the conversation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// The shell runs; `confinement` says how much of the sandbox the
    /// kernel enforces ("full", "partial" or "none").
    Started { pid: u32, confinement: String },
    /// The shell exited with this status.
    Exited { code: i32 },
    /// The shell was ended by this signal.
    Signalled { signal: i32 },
    /// The step could not be started (or was killed on request).
    Failed { error: String },
}

impl Report {
    pub fn to_line(&self) -> String {
        // Serializing these plain types can't fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}
