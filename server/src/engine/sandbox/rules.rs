//! Which paths a step may read: the system's (programs, libraries,
//! configuration, /proc, /sys) minus Gantry's own. When one of Gantry's
//! protected paths (its data directory, configuration file, key files, the
//! work root) lies inside a system path (a config in /etc/gantry, a work
//! root under /opt), that system path is replaced by its other children,
//! recursively, so the protected path and nothing else drops out. Computed
//! once at start-up: entries created in those directories later are not
//! readable by steps.

use std::path::{Path, PathBuf};

/// Read-only for every step (those missing on this machine are skipped).
pub const SYSTEM_PATHS: [&str; 10] = [
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/etc",
    "/opt",
    "/proc",
    "/sys",
    // Where /etc/resolv.conf often points, so steps can resolve names.
    "/run/systemd/resolve",
];

/// Devices a step may read and write.
pub const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// `/proc` and `/sys` are never split: their entries come and go, and what
/// Gantry protects never lives there.
const NEVER_SPLIT: [&str; 2] = ["/proc", "/sys"];

/// The read-only paths for steps, given the paths to keep them out of.
pub fn readable_paths(system: &[&str], protected: &[PathBuf]) -> Vec<PathBuf> {
    let protected: Vec<PathBuf> = protected.iter().map(|p| canonical(p)).collect();
    let mut out = Vec::new();
    for path in system {
        let path = Path::new(path);
        if !path.exists() {
            continue;
        }
        if NEVER_SPLIT.iter().any(|n| path == Path::new(n)) {
            out.push(path.to_owned());
            continue;
        }
        // `/lib` may be a link to `/usr/lib`: the rule lands on the target,
        // so the split has to be computed there too.
        expand(&canonical(path), &protected, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn expand(path: &Path, protected: &[PathBuf], out: &mut Vec<PathBuf>) {
    // The path is protected itself, or lies inside a protected one.
    if protected.iter().any(|p| path.starts_with(p)) {
        return;
    }
    if !protected.iter().any(|p| p.starts_with(path)) {
        out.push(path.to_owned());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        // Can't list it: leaving it out is the safe side.
        return;
    };
    for entry in entries.flatten() {
        let child = entry.path();
        // A link inside a split directory could lead back to the protected
        // path; its target is covered (or not) by its own rules.
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            let target = canonical(&child);
            if protected
                .iter()
                .any(|p| target.starts_with(p) || p.starts_with(&target))
            {
                continue;
            }
        }
        expand(&child, protected, out);
    }
}

/// The path with links resolved; the path as given when it doesn't exist
/// (yet), with its existing parent resolved.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical(parent).join(name)
        }
        _ => absolute(path),
    }
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protected_path_inside_a_system_path_drops_out_with_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let sys = root.path().join("etc");
        std::fs::create_dir_all(sys.join("gantry")).unwrap();
        std::fs::create_dir_all(sys.join("ssl")).unwrap();
        std::fs::write(sys.join("hosts"), "").unwrap();
        std::fs::write(sys.join("gantry/gantry.toml"), "").unwrap();
        std::fs::write(sys.join("gantry/motd"), "").unwrap();
        let sys_text = sys.to_str().unwrap().to_owned();
        let readable = readable_paths(&[&sys_text], &[sys.join("gantry/gantry.toml")]);
        let sys = canonical(&sys);
        assert_eq!(
            readable,
            vec![sys.join("gantry/motd"), sys.join("hosts"), sys.join("ssl")]
        );
    }

    #[test]
    fn untouched_system_paths_stay_whole_and_missing_ones_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let sys = root.path().join("usr");
        std::fs::create_dir_all(sys.join("bin")).unwrap();
        let sys_text = sys.to_str().unwrap().to_owned();
        let missing = root.path().join("nope");
        let readable = readable_paths(
            &[&sys_text, missing.to_str().unwrap()],
            &[root.path().join("data")],
        );
        assert_eq!(readable, vec![canonical(&sys)]);
    }

    #[test]
    fn a_protected_system_path_itself_is_left_out() {
        let root = tempfile::tempdir().unwrap();
        let sys = root.path().join("opt");
        std::fs::create_dir_all(&sys).unwrap();
        let sys_text = sys.to_str().unwrap().to_owned();
        assert!(readable_paths(&[&sys_text], &[root.path().to_owned()]).is_empty());
    }
}
