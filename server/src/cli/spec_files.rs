//! Which files a `--file FILE|DIR` names: the file itself, or every
//! *.yaml, *.yml and *.json directly in the folder, in name order (`gantry
//! apply`, `gantry slo export`).

use std::path::{Path, PathBuf};

/// The spec files `path` names, or why none.
pub(crate) fn spec_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{} holds no *.yaml, *.yml or *.json files",
            path.display()
        ));
    }
    Ok(files)
}
