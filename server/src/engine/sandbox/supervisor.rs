//! `gantry step-exec`: one supervisor per shell attempt, the step's parent.
//!
//! Its standard input is a socket to the worker: the job arrives there as
//! one JSON line, and the reports go back the same way. In order, it
//! leads its own process group and becomes a child subreaper (orphans of
//! the step are re-parented to it, even those that left the group); sets
//! the resource limits on itself (children inherit them); confines itself
//! with Landlock; and only then starts `/bin/sh -c` as the step user in
//! its group. When the shell ends, or the worker asks, or the socket
//! closes because the worker died, it SIGKILLs every descendant and
//! reports. It stays the user it was started as (root, where Gantry runs
//! as root), so a step running as the unprivileged step user can't signal
//! it.

use super::job::{KILL, MAX_JOB_BYTES, ProcessLimits, Report, StepExecJob};
use super::reap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::{ExitCode, Stdio};

/// Runs the supervisor to completion. Its exit code is 0 once it reported
/// (the step's own status is in the report), 2 when it could not even
/// read its job.
pub fn main() -> ExitCode {
    ExitCode::from(run())
}

/// [`main`] for binaries that dispatch by hand (the benchmark's workers
/// re-execute the benchmark itself as their supervisor).
pub fn run() -> u8 {
    let socket = match stdin_socket() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gantry step-exec: standard input must be the worker's socket: {e}");
            return 2;
        }
    };
    let mut writer = match socket.try_clone() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("gantry step-exec: {e}");
            return 2;
        }
    };
    let mut reader = BufReader::new(socket);
    let job = match read_job(&mut reader) {
        Ok(job) => job,
        Err(e) => {
            let _ = writer.write_all(Report::Failed { error: e }.to_line().as_bytes());
            return 2;
        }
    };
    // Anything after the job line (a kill sent right away) stays buffered.
    let early_kill = String::from_utf8_lossy(reader.buffer()).contains(KILL);
    let socket = reader.into_inner();
    let end = match confine(&job) {
        Err(error) => Report::Failed { error },
        Ok(_) if early_kill => Report::Failed {
            error: "stopped before it started".into(),
        },
        Ok(confinement) => supervise(job, socket, confinement),
    };
    // Whatever the ending, nothing the step started survives it.
    reap::kill_descendants();
    let _ = writer.write_all(end.to_line().as_bytes());
    0
}

/// Our standard input as a socket (a duplicate of fd 0: taking the
/// descriptor itself would need `unsafe`).
fn stdin_socket() -> std::io::Result<UnixStream> {
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    let socket = UnixStream::from(fd);
    // Fails unless it really is a socket.
    socket.peer_addr()?;
    Ok(socket)
}

fn read_job(reader: &mut BufReader<UnixStream>) -> Result<StepExecJob, String> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_JOB_BYTES)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("cannot read the job: {e}"))?;
    serde_json::from_slice(&line).map_err(|e| format!("the job is not valid: {e}"))
}

/// Group, subreaper, limits, Landlock: applied to this process before any
/// thread or child exists, so everything started later inherits them.
fn confine(job: &StepExecJob) -> Result<&'static str, String> {
    #[cfg(target_os = "linux")]
    {
        use nix::unistd::{Pid, setpgid};
        // Already the leader when the worker started us in a new group.
        let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| format!("cannot become the step's subreaper: {e}"))?;
        set_limits(&job.limits)?;
        let Some(rules) = &job.access else {
            return Ok("off");
        };
        let confinement = super::landlock_rules::confine_self(rules)?;
        if job.require_enforcement && confinement != super::landlock_rules::Confinement::Full {
            return Err(format!(
                "the kernel enforces the sandbox only partly ({}) and --step-sandbox is required",
                confinement.as_str()
            ));
        }
        Ok(confinement.as_str())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = job;
        Err("the step sandbox needs Linux".into())
    }
}

#[cfg(target_os = "linux")]
fn set_limits(limits: &ProcessLimits) -> Result<(), String> {
    use nix::sys::resource::{Resource, setrlimit};
    let mut wanted = vec![
        (Resource::RLIMIT_NOFILE, limits.open_files, "open files"),
        (Resource::RLIMIT_NPROC, limits.processes, "processes"),
        // No core files: they would land in the working directory holding
        // whatever the step had in memory.
        (Resource::RLIMIT_CORE, 0, "core size"),
    ];
    if let Some(bytes) = limits.memory {
        wanted.push((Resource::RLIMIT_DATA, bytes, "memory"));
    }
    if let Some(secs) = limits.cpu_seconds {
        wanted.push((Resource::RLIMIT_CPU, secs, "cpu"));
    }
    for (resource, value, what) in wanted {
        // Soft = hard: the step can't raise them again.
        setrlimit(resource, value, value)
            .map_err(|e| format!("cannot set the {what} limit to {value}: {e}"))?;
    }
    Ok(())
}

/// Starts the shell and waits for it, the worker's kill, or the worker's
/// departure.
fn supervise(job: StepExecJob, socket: UnixStream, confinement: &str) -> Report {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return Report::Failed {
                error: format!("cannot start the supervisor: {e}"),
            };
        }
    };
    runtime.block_on(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        use tokio::signal::unix::{SignalKind, signal};
        // The worker stops a step with SIGTERM to the whole group, us
        // included: we outlive it (the shell gets the default action).
        let mut term = signal(SignalKind::terminate()).ok();
        // Started before the socket is split: a failure here returns with the
        // socket whole, so the caller can still send the report (dropping a
        // split write half would shut the socket down for writing).
        let mut cmd = tokio::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&job.script)
            .current_dir(&job.workdir)
            .env_clear()
            .envs(&job.env)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        if let Some(user) = job.user {
            // std drops supplementary groups (setgroups) before setuid
            // when started as root.
            cmd.gid(user.gid).uid(user.uid);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && job.user.is_some() => {
                return Report::Failed {
                    error: format!(
                        "could not start /bin/sh in {} as the step user: {e}; every folder above \
                         --work-dir must be traversable (o+x) by that user",
                        job.workdir.display()
                    ),
                };
            }
            Err(e) => {
                return Report::Failed {
                    error: format!("could not start /bin/sh: {e}"),
                };
            }
        };
        if let Err(e) = socket.set_nonblocking(true) {
            return Report::Failed {
                error: format!("cannot use the worker's socket: {e}"),
            };
        }
        let socket = match tokio::net::UnixStream::from_std(socket) {
            Ok(s) => s,
            Err(e) => {
                return Report::Failed {
                    error: format!("cannot use the worker's socket: {e}"),
                };
            }
        };
        let (read, mut write) = socket.into_split();
        let started = Report::Started {
            pid: child.id().unwrap_or(0),
            confinement: confinement.to_owned(),
        };
        let _ = write.write_all(started.to_line().as_bytes()).await;
        let mut lines = tokio::io::BufReader::new(read).lines();
        let end = watch(&mut child, &mut lines, term.as_mut()).await;
        // Dropping a write half shuts the socket down for writing, and the
        // final report is still to be sent (after the step is reaped).
        write.forget();
        end
    })
}

/// Until the shell ends, the worker asks for a kill, or the worker is gone.
async fn watch(
    child: &mut tokio::process::Child,
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>>,
    mut term: Option<&mut tokio::signal::unix::Signal>,
) -> Report {
    loop {
        let term_signal = async {
            match term.as_mut() {
                Some(t) => t.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => return match status {
                Ok(s) => exit_report(s),
                Err(e) => Report::Failed { error: format!("could not wait for the step: {e}") },
            },
            line = lines.next_line() => match line {
                Ok(Some(l)) if l.trim() == KILL => {
                    return Report::Failed { error: "killed on the worker's request".into() };
                }
                Ok(Some(_)) => {}
                // The worker is gone: so is the step.
                Ok(None) | Err(_) => {
                    return Report::Failed { error: "the worker went away".into() };
                }
            },
            // The shell got the same SIGTERM and decides for itself.
            Some(()) = term_signal => {}
        }
    }
}

fn exit_report(status: std::process::ExitStatus) -> Report {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Report::Exited { code },
        (None, Some(signal)) => Report::Signalled { signal },
        (None, None) => Report::Failed {
            error: "the step ended without an exit status".into(),
        },
    }
}
