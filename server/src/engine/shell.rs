//! Shell steps: `/bin/sh -c SCRIPT` under a per-attempt supervisor
//! (`gantry step-exec`, see `sandbox`) that confines it and kills all of
//! it when the attempt ends or this worker dies. Output is captured line by
//! line. Timeouts and cancellation stop the whole process group (SIGTERM,
//! a grace period, SIGKILL), so nothing the script started outlives it.

use super::logs::LogSink;
use super::sandbox::StepSandbox;
use super::sandbox::job::{KILL, Report, StepExecJob};
use super::sandbox::reap::{self, ProcessId};
use gantry_core::run::{AttemptEnd, LogStream};
use gantry_core::spec::StepLimits;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// What one shell attempt gets to run.
pub struct ShellJob<'a> {
    pub script: &'a str,
    pub workdir: &'a Path,
    /// The attempt's own directory (holds `workdir`; the step may write
    /// only its working directory, temporary directory and output file).
    pub attempt_dir: &'a Path,
    /// `$GANTRY_OUTPUT`.
    pub output_file: &'a Path,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub sandbox: &'a StepSandbox,
    /// The step's `limits` from its spec.
    pub limits: Option<&'a StepLimits>,
    /// `as: file` secrets: name and contents, written under the working
    /// directory's `.gantry-secrets/` readable by the step's user only.
    pub secret_files: Vec<(&'a str, &'a str)>,
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

fn failed(error: String) -> ShellOutcome {
    ShellOutcome {
        end: AttemptEnd::Failed,
        exit_code: None,
        error: Some(error),
    }
}

pub async fn run(mut job: ShellJob<'_>, logs: &LogSink, stop: &CancellationToken) -> ShellOutcome {
    let tmp = match prepare_dirs(&job) {
        Ok(tmp) => tmp,
        Err(e) => return failed(format!("cannot prepare the step's directories: {e}")),
    };
    job.env.insert("TMPDIR".into(), tmp.display().to_string());
    let (limits, notes) = job.sandbox.limits_for(job.limits);
    for note in notes {
        logs.system(note).await;
    }
    let exec_job = StepExecJob {
        script: job.script.to_owned(),
        workdir: job.workdir.to_owned(),
        env: std::mem::take(&mut job.env),
        user: job.sandbox.run_as(),
        limits,
        access: job.sandbox.access_for(vec![
            job.workdir.to_owned(),
            tmp,
            job.output_file.to_owned(),
        ]),
        require_enforcement: job.sandbox.mode == super::sandbox::SandboxMode::Required,
    };
    let (ours, theirs) = match std::os::unix::net::UnixStream::pair() {
        Ok(pair) => pair,
        Err(e) => return failed(format!("cannot talk to the step's supervisor: {e}")),
    };
    let ours = match ours
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(ours))
    {
        Ok(s) => s,
        Err(e) => return failed(format!("cannot talk to the step's supervisor: {e}")),
    };
    let mut cmd = Command::new(&job.sandbox.runner);
    cmd.arg("step-exec")
        .env_clear()
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // Dropping the attempt closes the socket, and the supervisor then
        // kills everything of the step; killing the supervisor first would
        // leave that undone.
        .kill_on_drop(false);
    let spawned = cmd.spawn();
    // Our copy of the supervisor's end must go, or its death would never
    // read as the end of the socket.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return failed(format!(
                "could not start the step supervisor {}: {e}",
                job.sandbox.runner.display()
            ));
        }
    };
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    if let Some(id) = group.and_then(|g| ProcessId::of(g.as_raw()))
        && let Err(e) = reap::record(job.attempt_dir, id)
    {
        tracing::warn!(error = %e, "cannot record the step's supervisor");
    }
    let (read, mut write) = ours.into_split();
    let mut line = serde_json::to_string(&exec_job).unwrap_or_default();
    line.push('\n');
    if let Err(e) = write.write_all(line.as_bytes()).await {
        logs.system(format!("could not hand the step to its supervisor: {e}"))
            .await;
    }
    drop(exec_job);
    let reports = tokio::spawn(read_reports(read));
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
    let stopped = tokio::select! {
        _ = child.wait() => None,
        () = timeout => {
            let t = job.timeout.map(|t| humantime::format_duration(t).to_string()).unwrap_or_default();
            logs.system(format!("timed out after {t}; stopping the process group")).await;
            terminate(group, &mut child, &mut write).await;
            Some((AttemptEnd::TimedOut, format!("timed out after {t}")))
        },
        () = stop.cancelled() => {
            logs.system("stop requested; stopping the process group").await;
            terminate(group, &mut child, &mut write).await;
            Some((AttemptEnd::Stopped, "stopped: the run was cancelled or timed out".to_owned()))
        },
    };
    let supervisor_status = child.wait().await.ok();
    // The supervisor is gone; anything left in its group (a step that
    // managed to kill it) goes too.
    if let Some(pg) = group {
        let _ = killpg(pg, Signal::SIGKILL);
    }
    drop(write);
    for reader in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    }
    let (confinement, end) = tokio::time::timeout(Duration::from_secs(5), reports)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or((None, None));
    if let Some(c) = confinement
        && c != "full"
        && job.sandbox.mode != super::sandbox::SandboxMode::Off
    {
        logs.system(format!("the step ran with sandbox confinement {c}"))
            .await;
    }
    if let Some((end, error)) = stopped {
        return ShellOutcome {
            end,
            exit_code: None,
            error: Some(error),
        };
    }
    outcome(end, supervisor_status, &job)
}

/// The working directory, a private temporary directory and the output
/// file, owned by the step user when steps run as another user.
fn prepare_dirs(job: &ShellJob<'_>) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let tmp = job.attempt_dir.join("tmp");
    std::fs::create_dir_all(job.workdir)?;
    std::fs::create_dir_all(&tmp)?;
    // Landlock rules attach to existing files: the step may write this
    // one, not create others next to it.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(job.output_file)?;
    let mut owned = vec![
        job.workdir.to_owned(),
        tmp.clone(),
        job.output_file.to_owned(),
    ];
    if !job.secret_files.is_empty() {
        let dir = job.workdir.join(super::worker::SECRET_DIR);
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        owned.push(dir.clone());
        for (name, contents) in &job.secret_files {
            let path = dir.join(name);
            // Created private, then filled: never readable by others.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::io::Write::write_all(&mut file, contents.as_bytes())?;
            owned.push(path);
        }
    }
    for path in &owned {
        if let Some(user) = &job.sandbox.user {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))?;
        }
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(tmp)
}

/// The supervisor's reports: how much confinement it got, and how the
/// step ended.
async fn read_reports(read: tokio::net::unix::OwnedReadHalf) -> (Option<String>, Option<Report>) {
    let mut lines = BufReader::new(read.take(1024 * 1024)).lines();
    let (mut confinement, mut end) = (None, None);
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<Report>(&line) {
            Ok(Report::Started { confinement: c, .. }) => confinement = Some(c),
            Ok(report) => end = Some(report),
            Err(_) => tracing::warn!("unreadable report from a step supervisor"),
        }
    }
    (confinement, end)
}

fn outcome(
    report: Option<Report>,
    supervisor: Option<std::process::ExitStatus>,
    job: &ShellJob<'_>,
) -> ShellOutcome {
    match report {
        Some(Report::Exited { code: 0 }) => ShellOutcome {
            end: AttemptEnd::Succeeded,
            exit_code: Some(0),
            error: None,
        },
        Some(Report::Exited { code }) => ShellOutcome {
            end: AttemptEnd::Failed,
            exit_code: Some(code),
            error: Some(format!("exited with status {code}")),
        },
        Some(Report::Signalled { signal }) => failed(describe_signal(signal, job)),
        Some(Report::Failed { error }) => failed(error),
        Some(Report::Started { .. }) | None => failed(match supervisor {
            Some(s) => format!(
                "the step's supervisor ended without reporting ({})",
                describe_status(s)
            ),
            None => "the step's supervisor ended without reporting".into(),
        }),
    }
}

/// SIGTERM the group, give it a grace period, then have the supervisor
/// SIGKILL everything, and SIGKILL the group ourselves should it not.
async fn terminate(
    group: Option<Pid>,
    child: &mut tokio::process::Child,
    socket: &mut tokio::net::unix::OwnedWriteHalf,
) {
    let Some(pg) = group else {
        return;
    };
    let _ = killpg(pg, Signal::SIGTERM);
    if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
        return;
    }
    let _ = socket.write_all(format!("{KILL}\n").as_bytes()).await;
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        let _ = killpg(pg, Signal::SIGKILL);
    }
}

fn describe_signal(signal: i32, job: &ShellJob<'_>) -> String {
    let sig = Signal::try_from(signal).ok();
    let mut text = match sig {
        Some(s) => format!("killed by signal {}", s.as_str()),
        None => format!("killed by signal {signal}"),
    };
    let (limits, _) = job.sandbox.limits_for(job.limits);
    if matches!(sig, Some(Signal::SIGXCPU | Signal::SIGKILL)) && limits.cpu_seconds.is_some() {
        text.push_str(" (it may have reached its cpu limit)");
    }
    text
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(s)) => match Signal::try_from(s) {
            Ok(sig) => format!("killed by {}", sig.as_str()),
            Err(_) => format!("killed by signal {s}"),
        },
        _ => "no exit status".into(),
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
                    // Cut at 64 KiB: the next piece continues this line, so
                    // masking sees the two as one text.
                    let ends_line = buf.last() == Some(&b'\n');
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    logs.piece(kind, String::from_utf8_lossy(&buf).into_owned(), ends_line)
                        .await;
                }
            }
        }
    })
}
