//! Making sure nothing of a step outlives it: the supervisor kills its
//! descendants, and a worker starting up kills the supervisors (and their
//! process groups) a dead predecessor left behind.
//!
//! A process is named by its pid *and* its start time (field 22 of
//! `/proc/PID/stat`), so a pid the kernel has since handed to another
//! process is never killed.

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};

/// The file in an attempt's directory (outside what the step may write)
/// naming its supervisor and the worker process that owns it.
pub const SUPERVISOR_FILE: &str = "supervisor";

/// A process as it was when recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcessId {
    /// The process, if it is running now.
    pub fn of(pid: i32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(Self {
            pid,
            start_time: stat_field(&stat, 22)?.parse().ok()?,
        })
    }

    pub fn current() -> Option<Self> {
        Self::of(i32::try_from(std::process::id()).ok()?)
    }

    /// Still the same process (not exited, pid not recycled).
    pub fn is_alive(&self) -> bool {
        Self::of(self.pid).is_some_and(|now| now == *self)
    }
}

/// Field `n` (1-based, as in proc(5)) of a `/proc/PID/stat` line. The
/// command name (field 2) may hold spaces and parentheses, so counting
/// starts after its last `)`.
pub fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n.checked_sub(3)?)
}

/// The pids whose parent is `parent`, by reading every process's
/// `/proc/PID/stat`: a millisecond or more on a busy host.
fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| stat_field(&s, 4)?.parse::<i32>().ok())
                == Some(parent)
        })
        .collect()
}

/// This process's children from its threads' `children` files
/// (`CONFIG_PROC_CHILDREN`, on in every mainstream kernel): a few reads
/// instead of one per process on the host. `None` where the files are
/// missing. The kernel lists them without stopping anyone, so a child
/// forked meanwhile may be missed: [`kill_descendants`] asks `waitpid`
/// before it believes an empty list.
fn own_children() -> Option<Vec<i32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let listed = std::fs::read_to_string(task.path().join("children")).ok()?;
        children.extend(
            listed
                .split_whitespace()
                .filter_map(|pid| pid.parse::<i32>().ok()),
        );
    }
    Some(children)
}

/// SIGKILLs every descendant of this process and reaps them. As a child
/// subreaper we inherit the orphans of each one killed, so repeating until
/// no child is left takes the whole tree, including processes that left
/// the process group (`setsid`). Done only when `waitpid` says no child is
/// left at all, whatever the listings said.
pub fn kill_descendants() {
    use nix::errno::Errno;
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    // Bounded: a tree can't regrow once its ancestors are SIGKILLed, so
    // this ends within a few rounds; the bound only guards against a
    // kernel that keeps surprising us.
    for _ in 0..10_000 {
        let mut children = own_children().unwrap_or_else(|| children_of(me));
        if children.is_empty() {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Err(Errno::ECHILD) => break,
                // One ended just now: reaped; look again.
                Ok(status) if status != WaitStatus::StillAlive => continue,
                // A child the listing missed: the slow, complete way.
                _ => children = children_of(me),
            }
            if children.is_empty() {
                // Still unlisted (being born or re-parented): look again
                // rather than block on a child nothing has killed.
                continue;
            }
        }
        for pid in &children {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        // Block for one, then collect whatever else has ended.
        if waitpid(None, None).is_err() {
            continue;
        }
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            if status == WaitStatus::StillAlive {
                break;
            }
        }
    }
}

/// What the worker records for an attempt.
pub fn record(attempt_dir: &Path, supervisor: ProcessId) -> std::io::Result<()> {
    let owner = ProcessId::current().unwrap_or(ProcessId {
        pid: 0,
        start_time: 0,
    });
    std::fs::write(
        attempt_dir.join(SUPERVISOR_FILE),
        format!(
            "{} {} {} {}\n",
            supervisor.pid, supervisor.start_time, owner.pid, owner.start_time
        ),
    )
}

fn read_record(path: &Path) -> Option<(ProcessId, ProcessId)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut numbers = text.split_whitespace();
    let mut next = || numbers.next()?.parse::<u64>().ok();
    let (sp, ss, op, os) = (next()?, next()?, next()?, next()?);
    Some((
        ProcessId {
            pid: i32::try_from(sp).ok()?,
            start_time: ss,
        },
        ProcessId {
            pid: i32::try_from(op).ok()?,
            start_time: os,
        },
    ))
}

/// On worker start: for every attempt directory under `work_root` whose
/// owning worker process is gone, SIGKILL its supervisor's process group
/// if that supervisor still runs, and remove the directory, then run
/// directories left empty. Attempts owned by a live worker (another
/// process sharing the work root) are left alone. Returns how many groups
/// were killed.
pub fn kill_leftovers(work_root: &Path) -> usize {
    let mut killed = 0;
    for attempt_dir in attempt_dirs(work_root) {
        let Some((supervisor, owner)) = read_record(&attempt_dir.join(SUPERVISOR_FILE)) else {
            continue;
        };
        if owner.is_alive() {
            continue;
        }
        if supervisor.is_alive() && supervisor.pid > 1 {
            // The supervisor leads its group: the group's id is its pid.
            if killpg(Pid::from_raw(supervisor.pid), Signal::SIGKILL).is_ok() {
                killed += 1;
            }
            tracing::warn!(
                pid = supervisor.pid,
                dir = %attempt_dir.display(),
                "killed the processes of a step a previous worker left running"
            );
        }
        let _ = std::fs::remove_dir_all(&attempt_dir);
    }
    // Run folders left empty (by the attempts above, or by a version that
    // kept them); one still in use is not empty and stays.
    for run in std::fs::read_dir(work_root).into_iter().flatten().flatten() {
        let _ = std::fs::remove_dir(run.path());
    }
    killed
}

/// `work_root/RUN/STEP-ATTEMPT` directories.
fn attempt_dirs(work_root: &Path) -> Vec<PathBuf> {
    let Ok(runs) = std::fs::read_dir(work_root) else {
        return Vec::new();
    };
    runs.flatten()
        .filter_map(|run| std::fs::read_dir(run.path()).ok())
        .flat_map(|attempts| attempts.flatten().map(|a| a.path()))
        .filter(|p| p.is_dir())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_command_names_with_spaces_and_parentheses() {
        let stat =
            "4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 1 2";
        assert_eq!(stat_field(stat, 3), Some("S"));
        assert_eq!(stat_field(stat, 4), Some("17"));
        assert_eq!(stat_field(stat, 22), Some("987654"));
    }

    #[test]
    fn own_children_lists_what_a_scan_of_proc_finds() {
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let listed = own_children().expect("this kernel has /proc/PID/task/TID/children");
        let scanned = children_of(me);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(listed.contains(&pid), "{listed:?}");
        assert!(scanned.contains(&pid), "{scanned:?}");
    }

    #[test]
    fn this_process_is_alive_and_a_recycled_pid_is_not_it() {
        let me = ProcessId::current().unwrap();
        assert!(me.is_alive());
        let impostor = ProcessId {
            pid: me.pid,
            start_time: me.start_time + 1,
        };
        assert!(!impostor.is_alive());
    }

    #[test]
    fn attempts_of_a_live_owner_are_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let attempt = root.path().join("run1").join("a-1");
        std::fs::create_dir_all(&attempt).unwrap();
        // Owned by this (live) process.
        record(&attempt, ProcessId::current().unwrap()).unwrap();
        assert_eq!(kill_leftovers(root.path()), 0);
        assert!(attempt.exists());
    }

    #[test]
    fn a_group_left_by_a_dead_worker_is_killed() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let root = tempfile::tempdir().unwrap();
        let attempt = root.path().join("run1").join("a-1");
        std::fs::create_dir_all(&attempt).unwrap();
        // A "supervisor" leading its own group, as the worker starts them.
        let mut leftover = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = i32::try_from(leftover.id()).unwrap();
        let supervisor = ProcessId::of(pid).unwrap();
        std::fs::write(
            attempt.join(SUPERVISOR_FILE),
            format!(
                "{} {} 2147483646 1\n",
                supervisor.pid, supervisor.start_time
            ),
        )
        .unwrap();
        assert_eq!(kill_leftovers(root.path()), 1);
        let status = leftover.wait().unwrap();
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        assert!(!attempt.exists());
    }

    #[test]
    fn attempts_of_a_dead_owner_are_removed_without_killing_recycled_pids() {
        let root = tempfile::tempdir().unwrap();
        let attempt = root.path().join("run1").join("a-1");
        std::fs::create_dir_all(&attempt).unwrap();
        let me = ProcessId::current().unwrap();
        // The "supervisor" is us with another start time (a recycled pid),
        // the owner a pid that can't exist.
        std::fs::write(
            attempt.join(SUPERVISOR_FILE),
            format!("{} {} 2147483646 1\n", me.pid, me.start_time + 1),
        )
        .unwrap();
        // A run folder an older version left empty.
        std::fs::create_dir(root.path().join("run0")).unwrap();
        assert_eq!(kill_leftovers(root.path()), 0);
        assert!(!attempt.exists());
        assert!(me.is_alive());
        assert!(!root.path().join("run1").exists());
        assert!(!root.path().join("run0").exists());
        assert!(root.path().is_dir());
    }
}
