//! The sandbox as configured, resolved once at start-up: the supervisor
//! binary, the step user, the readable paths, the limits, and what the
//! kernel can enforce.

use super::job::{AccessRules, ProcessLimits, RunAs};
use super::request::{SandboxMode, SandboxRequest};
use super::rules;
use gantry_core::spec::{SpecBytes, StepLimits};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct StepSandbox {
    /// The `gantry` binary re-executed as each step's supervisor.
    pub runner: PathBuf,
    pub mode: SandboxMode,
    /// The Landlock ABI this kernel offers (None: no Landlock).
    pub landlock_abi: Option<u8>,
    /// Steps run as this user; None: as Gantry's own user.
    pub user: Option<StepUser>,
    /// Readable by every step.
    pub read: Arc<Vec<PathBuf>>,
    /// Writable by every step (`--step-allow-write`).
    pub extra_write: Vec<PathBuf>,
    pub max_memory: Option<SpecBytes>,
    pub max_cpu: Option<Duration>,
    pub processes: u64,
    pub open_files: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// How isolated steps are, for the start-up line and `/readyz`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Isolation {
    /// "landlock", "unavailable" (the kernel has none) or "off".
    pub sandbox: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landlock_abi: Option<u8>,
    /// The user steps run as (absent: Gantry's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_user: Option<String>,
    /// Steps are less isolated than Gantry promises by default.
    pub degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The supervisor-only binary, shipped next to `gantry`.
pub const STEP_EXEC_BINARY: &str = "gantry-step-exec";

/// [`STEP_EXEC_BINARY`] next to this executable when it is there: it
/// starts in about a third of the time of this whole binary (a start on
/// every shell step's path), with the same code. Else this executable
/// itself, as `gantry step-exec`.
fn default_runner() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| {
        format!("--step-runner (GANTRY_STEP_RUNNER): cannot find this executable: {e}")
    })?;
    Ok(runner_beside(me))
}

/// [`STEP_EXEC_BINARY`] in `me`'s folder if it is an executable file there,
/// else `me`.
fn runner_beside(me: PathBuf) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let sibling = me.with_file_name(STEP_EXEC_BINARY);
    let executable = std::fs::metadata(&sibling)
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if executable { sibling } else { me }
}

impl StepSandbox {
    /// Resolves the request; `protected` are Gantry's own paths (data
    /// directory, configuration and key files, work root) that steps must
    /// not read even where they lie inside a system path.
    pub fn resolve(flags: &SandboxRequest, protected: &[PathBuf]) -> Result<Self, String> {
        let runner = match &flags.step_runner {
            Some(p) => p.clone(),
            None => default_runner()?,
        };
        let landlock_abi = probe_landlock();
        if flags.step_sandbox == SandboxMode::Required && landlock_abi.is_none() {
            return Err(
                "--step-sandbox required (GANTRY_STEP_SANDBOX): this kernel has no Landlock \
                 (Linux 5.13+ with landlock in the lsm= boot list); use --step-sandbox on to run \
                 with degraded isolation"
                    .into(),
            );
        }
        let user = resolve_user(flags.step_user.as_deref())?;
        if flags.step_max_processes == 0 || flags.step_max_open_files < 16 {
            return Err(
                "--step-max-processes must be at least 1 and --step-max-open-files at least 16"
                    .into(),
            );
        }
        if let Some(why) = flags.step_max_memory.and_then(|m| m.out_of_memory_bounds()) {
            return Err(format!("--step-max-memory (GANTRY_STEP_MAX_MEMORY) {why}"));
        }
        if flags
            .step_max_cpu
            .is_some_and(|c| c < Duration::from_secs(1))
        {
            return Err("--step-max-cpu (GANTRY_STEP_MAX_CPU) must be at least 1s".into());
        }
        let read = if flags.step_sandbox == SandboxMode::Off {
            Vec::new()
        } else {
            rules::readable_paths(&rules::SYSTEM_PATHS, protected)
        };
        Ok(Self {
            runner,
            mode: flags.step_sandbox,
            landlock_abi,
            user,
            read: Arc::new(read),
            extra_write: flags.step_allow_write.clone(),
            max_memory: flags.step_max_memory,
            max_cpu: flags.step_max_cpu,
            processes: flags.step_max_processes,
            open_files: flags.step_max_open_files,
        })
    }

    /// Whether the step user can pass through to the work folder: every
    /// shell step fails at its start otherwise. Folders not made yet are
    /// fine (Gantry makes them, traversable).
    pub fn check_work_dir(&self, work_root: &Path) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let Some(user) = &self.user else {
            return Ok(());
        };
        let absolute = std::path::absolute(work_root).unwrap_or_else(|_| work_root.to_owned());
        for dir in absolute.ancestors() {
            let Ok(meta) = std::fs::metadata(dir) else {
                continue;
            };
            // The shell runs with the user's primary group only.
            let bit = if meta.uid() == user.uid {
                0o100
            } else if meta.gid() == user.gid {
                0o010
            } else {
                0o001
            };
            if meta.mode() & bit == 0 {
                return Err(format!(
                    "--work-dir (GANTRY_WORK_DIR): shell steps run as {}, who can't pass through {} \
                     (mode {:o}); make it traversable (chmod o+x {}) or choose another --work-dir",
                    user.name,
                    dir.display(),
                    meta.mode() & 0o7777,
                    dir.display()
                ));
            }
        }
        Ok(())
    }

    /// The defaults (`serve` without sandbox flags), for workers built in
    /// code rather than from flags.
    pub fn defaults(work_root: &Path) -> Self {
        let flags = SandboxRequest {
            step_runner: None,
            step_sandbox: SandboxMode::On,
            step_user: None,
            step_max_memory: None,
            step_max_cpu: None,
            step_max_processes: 4096,
            step_max_open_files: 1024,
            step_allow_write: Vec::new(),
        };
        Self::resolve(&flags, &[work_root.to_owned()]).unwrap_or_else(|_| Self {
            runner: PathBuf::from("gantry"),
            mode: SandboxMode::On,
            landlock_abi: probe_landlock(),
            user: None,
            read: Arc::new(rules::readable_paths(
                &rules::SYSTEM_PATHS,
                &[work_root.to_owned()],
            )),
            extra_write: Vec::new(),
            max_memory: None,
            max_cpu: None,
            processes: 4096,
            open_files: 1024,
        })
    }

    pub fn isolation(&self) -> Isolation {
        let step_user = self.user.as_ref().map(|u| u.name.clone());
        let running_as_root = nix::unistd::geteuid().is_root();
        let root_steps = running_as_root && self.user.as_ref().is_none_or(|u| u.uid == 0);
        let (sandbox, mut reason) = match (self.mode, self.landlock_abi) {
            (SandboxMode::Off, _) => (
                "off",
                Some("--step-sandbox off: steps can read whatever their user can".to_owned()),
            ),
            (_, None) => (
                "unavailable",
                Some(
                    "this kernel has no Landlock: steps can read whatever their user can"
                        .to_owned(),
                ),
            ),
            (_, Some(_)) => ("landlock", None),
        };
        if root_steps {
            let also = "steps run as root";
            reason = Some(match reason {
                Some(r) => format!("{r}; {also}"),
                None => also.to_owned(),
            });
        }
        Isolation {
            sandbox,
            landlock_abi: self.landlock_abi,
            step_user,
            degraded: reason.is_some(),
            reason,
        }
    }

    /// The limits for one step: its own, capped by the platform maximums
    /// (which are also the defaults). The notes say what was capped.
    pub fn limits_for(&self, spec: Option<&StepLimits>) -> (ProcessLimits, Vec<String>) {
        let mut notes = Vec::new();
        let memory = cap(
            spec.and_then(|l| l.memory),
            self.max_memory,
            "memory",
            &mut notes,
        );
        let cpu = cap(
            spec.and_then(|l| l.cpu),
            self.max_cpu.map(gantry_core::spec::SpecDuration),
            "cpu",
            &mut notes,
        );
        let limits = ProcessLimits {
            open_files: self.open_files,
            processes: self.processes,
            memory: memory.map(|m| m.0),
            cpu_seconds: cpu.map(|c| c.0.as_secs().max(1)),
        };
        (limits, notes)
    }

    /// The rules for one attempt, whose own paths are `writable`.
    pub fn access_for(&self, mut writable: Vec<PathBuf>) -> Option<AccessRules> {
        if self.mode == SandboxMode::Off {
            return None;
        }
        let mut read: Vec<PathBuf> = self.read.as_ref().clone();
        read.extend(rules::DEVICES.iter().map(PathBuf::from));
        writable.extend(self.extra_write.iter().cloned());
        writable.extend(rules::DEVICES.iter().map(PathBuf::from));
        Some(AccessRules {
            read,
            write: writable,
        })
    }

    pub fn run_as(&self) -> Option<RunAs> {
        self.user.as_ref().map(|u| RunAs {
            uid: u.uid,
            gid: u.gid,
        })
    }
}

fn cap<T: Copy + Ord + std::fmt::Display>(
    asked: Option<T>,
    max: Option<T>,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<T> {
    match (asked, max) {
        (Some(a), Some(m)) if a > m => {
            notes.push(format!(
                "{what} limit {a} lowered to the platform maximum {m}"
            ));
            Some(m)
        }
        (a, m) => a.or(m),
    }
}

/// `--step-user`, or `nobody` when running as root.
fn resolve_user(name: Option<&str>) -> Result<Option<StepUser>, String> {
    let name = match name {
        Some(n) => n.to_owned(),
        None if nix::unistd::geteuid().is_root() => "nobody".to_owned(),
        None => return Ok(None),
    };
    let found = if let Ok(uid) = name.parse::<u32>() {
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
    } else {
        nix::unistd::User::from_name(&name)
    };
    match found {
        Ok(Some(u)) => {
            let me = nix::unistd::geteuid();
            if !me.is_root() {
                // Only root can switch users: a non-root Gantry may name
                // itself, nobody else.
                if u.uid != me {
                    return Err(format!(
                        "--step-user (GANTRY_STEP_USER) {name:?}: only a Gantry running as root can run steps as another user"
                    ));
                }
                return Ok(None);
            }
            Ok(Some(StepUser {
                name,
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }))
        }
        Ok(None) => Err(format!(
            "--step-user (GANTRY_STEP_USER): no user named {name:?} on this machine; create it or name another"
        )),
        Err(e) => Err(format!(
            "--step-user (GANTRY_STEP_USER): cannot look up {name:?}: {e}"
        )),
    }
}

/// The Landlock ABI the running kernel offers.
#[cfg(target_os = "linux")]
fn probe_landlock() -> Option<u8> {
    super::landlock_rules::probe()
}

#[cfg(not(target_os = "linux"))]
fn probe_landlock() -> Option<u8> {
    None
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.sandbox {
            "landlock" => write!(
                f,
                "steps sandboxed with Landlock (ABI {})",
                self.landlock_abi.unwrap_or(0)
            )?,
            other => write!(f, "step sandbox {other}")?,
        }
        if let Some(user) = &self.step_user {
            write!(f, ", running as {user}")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, "; DEGRADED ISOLATION: {reason}")?;
        }
        Ok(())
    }
}

/// Gantry's own paths that no step may read: the work root (other
/// attempts), the SQLite database's folder (or the files, for a database in
/// the current directory), and the configuration and key files given.
pub fn protected_paths(
    work_root: &Path,
    database_url: Option<&str>,
    files: &[Option<&Path>],
) -> Vec<PathBuf> {
    let mut out = vec![work_root.to_owned()];
    if let Some(db) = database_url.and_then(sqlite_file) {
        match db.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => out.push(dir.to_owned()),
            None => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut name = db.as_os_str().to_owned();
                    name.push(suffix);
                    out.push(PathBuf::from(name));
                }
            }
        }
    }
    out.extend(files.iter().flatten().map(|p| p.to_path_buf()));
    out
}

/// The file of a `sqlite:` URL.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::spec::SpecDuration;

    #[test]
    fn the_supervisor_binary_beside_gantry_is_preferred_when_it_can_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let me = dir.path().join("gantry");
        std::fs::write(&me, "").unwrap();
        assert_eq!(runner_beside(me.clone()), me, "none beside it");
        let sibling = dir.path().join(STEP_EXEC_BINARY);
        std::fs::write(&sibling, "").unwrap();
        std::fs::set_permissions(&sibling, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(runner_beside(me.clone()), me, "not executable");
        std::fs::set_permissions(&sibling, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(runner_beside(me), sibling);
    }

    fn sandbox(max_memory: Option<u64>, max_cpu: Option<u64>) -> StepSandbox {
        let mut s = StepSandbox::defaults(Path::new("/nonexistent/work"));
        s.max_memory = max_memory.map(SpecBytes);
        s.max_cpu = max_cpu.map(Duration::from_secs);
        s
    }

    #[test]
    fn a_work_dir_the_step_user_cannot_pass_through_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let closed = dir.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        let work = closed.join("work");
        let mut s = sandbox(None, None);
        s.user = Some(StepUser {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        });
        let err = s.check_work_dir(&work).unwrap_err();
        assert!(err.contains("can't pass through"), "{err}");
        assert!(err.contains(&closed.display().to_string()), "{err}");
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o711)).unwrap();
        assert!(s.check_work_dir(&work).is_ok());
        // Without a step user, steps run as Gantry itself: nothing to check.
        s.user = None;
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(s.check_work_dir(&work).is_ok());
    }

    #[test]
    fn step_limits_are_capped_by_the_platform_maximums_which_are_also_defaults() {
        const MI: u64 = 1024 * 1024;
        let s = sandbox(Some(64 * MI), Some(60));
        let asked = StepLimits {
            memory: Some(SpecBytes(1024 * MI)),
            cpu: Some(SpecDuration(Duration::from_secs(30))),
        };
        let (limits, notes) = s.limits_for(Some(&asked));
        assert_eq!(limits.memory, Some(64 * MI));
        assert_eq!(limits.cpu_seconds, Some(30));
        assert_eq!(
            notes,
            vec!["memory limit 1Gi lowered to the platform maximum 64Mi".to_owned()]
        );
        let (defaults, notes) = s.limits_for(None);
        assert_eq!(defaults.memory, Some(64 * MI));
        assert_eq!(defaults.cpu_seconds, Some(60));
        assert!(notes.is_empty());
        let (unlimited, _) = sandbox(None, None).limits_for(None);
        assert_eq!((unlimited.memory, unlimited.cpu_seconds), (None, None));
    }

    #[test]
    fn an_attempt_may_write_only_its_own_paths_and_the_devices() {
        let s = sandbox(None, None);
        let rules = s
            .access_for(vec![PathBuf::from("/w/run/a-1/work")])
            .unwrap();
        assert!(rules.write.contains(&PathBuf::from("/w/run/a-1/work")));
        assert!(rules.write.contains(&PathBuf::from("/dev/null")));
        assert!(!rules.write.iter().any(|p| p.starts_with("/tmp")));
        assert!(
            !rules
                .read
                .iter()
                .any(|p| p.starts_with("/tmp") || p == Path::new("/"))
        );
    }

    #[test]
    fn switching_the_sandbox_off_is_reported_as_degraded() {
        let mut s = sandbox(None, None);
        s.mode = SandboxMode::Off;
        assert!(s.access_for(vec![]).is_none());
        let isolation = s.isolation();
        assert_eq!(isolation.sandbox, "off");
        assert!(isolation.degraded);
        assert!(isolation.to_string().contains("DEGRADED ISOLATION"));
    }

    #[test]
    fn protected_paths_cover_the_sqlite_folder_and_the_given_files() {
        let p = protected_paths(
            Path::new("/srv/work"),
            Some("sqlite:///var/lib/gantry/gantry.db?mode=rwc"),
            &[Some(Path::new("/etc/gantry/gantry.toml")), None],
        );
        assert_eq!(
            p,
            vec![
                PathBuf::from("/srv/work"),
                PathBuf::from("/var/lib/gantry"),
                PathBuf::from("/etc/gantry/gantry.toml"),
            ]
        );
        let here = protected_paths(Path::new("w"), Some("sqlite:g.db"), &[]);
        assert!(here.contains(&PathBuf::from("g.db-wal")));
        assert_eq!(
            protected_paths(Path::new("w"), Some("postgres://h/db"), &[]),
            vec![PathBuf::from("w")]
        );
    }
}
