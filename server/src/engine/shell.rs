//! Shell steps: `/bin/sh -c SCRIPT` in its own process group, working
//! directory and environment, with output captured line by line. Timeouts
//! and cancellation kill the whole group, so nothing the script started
//! outlives it.

use super::logs::LogSink;
use gantry_core::run::{AttemptEnd, LogStream};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// What one shell attempt gets to run.
pub struct ShellJob<'a> {
    pub script: &'a str,
    pub workdir: &'a Path,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
}

pub struct ShellOutcome {
    pub end: AttemptEnd,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

/// How long a stopped group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// Variables every step sees even though the environment starts empty (so
/// Gantry's own secrets, like its database URL, never leak into scripts).
pub fn base_env() -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert(
        "PATH".into(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    env.insert("LANG".into(), "C.UTF-8".into());
    env
}

pub async fn run(job: ShellJob<'_>, logs: &LogSink, stop: &CancellationToken) -> ShellOutcome {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(job.script)
        .current_dir(job.workdir)
        .env_clear()
        .envs(&job.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return ShellOutcome {
                end: AttemptEnd::Failed,
                exit_code: None,
                error: Some(format!("could not start /bin/sh: {e}")),
            };
        }
    };
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let readers = [
        child
            .stdout
            .take()
            .map(|s| pump(s, LogStream::Stdout, logs.clone())),
        child
            .stderr
            .take()
            .map(|s| pump(s, LogStream::Stderr, logs.clone())),
    ];
    let timeout = async {
        match job.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let (end, status, error) = tokio::select! {
        status = child.wait() => match status {
            Ok(s) => match s.code() {
                Some(0) => (AttemptEnd::Succeeded, Some(0), None),
                Some(code) => (AttemptEnd::Failed, Some(code), Some(format!("exited with status {code}"))),
                None => (AttemptEnd::Failed, None, Some(describe_signal(&s))),
            },
            Err(e) => (AttemptEnd::Failed, None, Some(format!("could not wait for the step: {e}"))),
        },
        () = timeout => {
            let t = job.timeout.map(|t| humantime::format_duration(t).to_string()).unwrap_or_default();
            logs.system(format!("timed out after {t}; stopping the process group")).await;
            terminate(group, &mut child).await;
            (AttemptEnd::TimedOut, None, Some(format!("timed out after {t}")))
        },
        () = stop.cancelled() => {
            logs.system("stop requested; stopping the process group").await;
            terminate(group, &mut child).await;
            (AttemptEnd::Stopped, None, Some("stopped: the run was cancelled or timed out".into()))
        },
    };
    // Background processes the script left behind would keep the pipes open
    // (and keep running): the group goes with the step.
    if let Some(pg) = group {
        let _ = killpg(pg, Signal::SIGKILL);
    }
    for reader in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    }
    ShellOutcome {
        end,
        exit_code: status,
        error,
    }
}

/// SIGTERM the group, give it a grace period, then SIGKILL.
async fn terminate(group: Option<Pid>, child: &mut tokio::process::Child) {
    if let Some(pg) = group {
        let _ = killpg(pg, Signal::SIGTERM);
        if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
            let _ = killpg(pg, Signal::SIGKILL);
        }
    }
    let _ = child.kill().await;
}

fn describe_signal(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal().and_then(|s| Signal::try_from(s).ok()) {
        Some(sig) => format!("killed by signal {}", sig.as_str()),
        None => "ended without an exit status".into(),
    }
}

/// Reads one stream line by line (bytes, so invalid UTF-8 can't stop it).
/// A line longer than 64 KiB arrives as several, so memory stays bounded.
fn pump(
    stream: impl AsyncRead + Unpin + Send + 'static,
    kind: LogStream,
    logs: LogSink,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match (&mut reader)
                .take(64 * 1024)
                .read_until(b'\n', &mut buf)
                .await
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    logs.line(kind, String::from_utf8_lossy(&buf).into_owned())
                        .await;
                }
            }
        }
    })
}
