//! An attempt's folder, `work_root/RUN/STEP-ATTEMPT`: made before the step
//! starts and removed, with its run's folder once that is empty, when it
//! ends, so a long-lived worker's work root holds only what runs now.
//!
//! Attempts of one run can start and end at once (parallel steps, several
//! workers sharing a work root): one ending may remove the run's folder
//! between another's making it and making its own folder inside. Removal
//! takes only an empty folder, so making the attempt's folder again is
//! enough: once it exists the run's folder is no longer empty.

use std::io::ErrorKind;
use std::path::Path;

/// Tries at making a folder whose parent another attempt may be removing.
/// Each lost try means another attempt of the run ended in between, so
/// the count only bounds a pathological case; it is never reached in
/// practice.
const TRIES: usize = 100;

/// Makes `dir` and its parents.
pub async fn create(dir: &Path) -> std::io::Result<()> {
    let mut tries = TRIES;
    loop {
        match tokio::fs::create_dir_all(dir).await {
            Err(e) if e.kind() == ErrorKind::NotFound && tries > 1 => tries -= 1,
            done => return done,
        }
    }
}

/// Removes the attempt's folder `attempt_dir` and its run's folder if no
/// other attempt's is left in it. Best effort: what cannot be removed is
/// left (the worker's start-up sweep removes dead attempts' folders).
pub async fn remove(attempt_dir: &Path) {
    let _ = tokio::fs::remove_dir_all(attempt_dir).await;
    if let Some(run_dir) = attempt_dir.parent() {
        // Fails, harmlessly, while another attempt's folder is in it.
        let _ = tokio::fs::remove_dir(run_dir).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_run_folder_goes_with_its_last_attempt() {
        let root = tempfile::tempdir().unwrap();
        let first = root.path().join("run").join("a-1");
        let second = root.path().join("run").join("b-1");
        create(&first.join("work")).await.unwrap();
        create(&second.join("work")).await.unwrap();
        remove(&first).await;
        assert!(!first.exists());
        assert!(
            second.join("work").is_dir(),
            "a running attempt's folder stays"
        );
        remove(&second).await;
        assert!(!root.path().join("run").exists());
        assert!(root.path().is_dir(), "the work root stays");
    }

    /// Attempts of one run starting and ending at once: every start gets
    /// its folder, and none is left once all ended.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempts_racing_on_one_run_folder_all_get_theirs() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("run");
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let run = run.clone();
                tokio::spawn(async move {
                    for attempt in 0..200 {
                        let dir = run.join(format!("s{task}-{attempt}"));
                        create(&dir.join("work")).await.unwrap();
                        assert!(dir.join("work").is_dir());
                        remove(&dir).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(!run.exists());
    }
}
