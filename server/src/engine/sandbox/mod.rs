//! The step sandbox: every shell step runs under a small supervisor,
//! `gantry step-exec`, re-executed per attempt as the step's parent. The
//! supervisor reads its job (script, working directory, environment,
//! limits, access rules) from a socket on its standard input, never from
//! argv; confines itself (resource limits, a Landlock ruleset) before it
//! starts `/bin/sh -c` in its process group as an unprivileged user; and
//! kills every process of the step as soon as its socket to the worker
//! closes, so a step never outlives the worker that leased it. What this
//! does and does not promise: docs/security.md, "The step sandbox".
//!
//! - [`request`]: what the operator configured.
//! - [`settings`]: that, resolved once at start-up.
//! - [`job`]: the messages between worker and supervisor.
//! - [`supervisor`]: the `step-exec` process.
//! - [`rules`]: which paths a step may read or write.
//! - [`landlock_rules`]: applying them with Landlock.
//! - [`reap`]: killing what a step left, and what a dead worker left.

pub mod job;
#[cfg(target_os = "linux")]
mod landlock_rules;
pub mod reap;
mod request;
pub mod rules;
pub mod settings;
pub mod supervisor;

pub use request::{SandboxMode, SandboxRequest};
pub use settings::{Isolation, StepSandbox, StepUser, protected_paths};
