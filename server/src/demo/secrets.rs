//! The secrets demo of `gantry serve --dev`: without a vault, and without
//! `--secrets-file-root`, dev mode makes a folder of demo secret files
//! beside its database (`demo-secrets/{env}/api-token`, a fresh random
//! value at every start, readable by Gantry's user only), points the
//! `file:` provider at it, and registers a workflow whose step uses one.

use crate::secrets::SecretSettings;
use base64::Engine;
use gantry_core::Environments;
use rand::RngCore;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The demo folder's name, beside the SQLite database.
pub const DEMO_DIR: &str = "demo-secrets";
/// The secret file in each environment's folder.
pub const TOKEN_FILE: &str = "api-token";
/// Marks a folder as the demo's own (a `--secrets-file-root` someone gave
/// is never treated as one).
const MARKER: &str = "README";
const MARKER_TEXT: &str = "Written by `gantry serve --dev` at every start: demo values only.\n\
    Give --secrets-file-root to use a folder of your own instead.\n";

const SPEC_TEMPLATE: &str = include_str!("secret-demo.yaml");

/// Where a `--dev` server keeps its demo secrets: beside its SQLite
/// database, or beside its work folder when the database is elsewhere.
pub fn demo_root(database_url: &str, work_dir: &Path) -> PathBuf {
    let beside = |path: &Path| match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.contains(":memory:"))
        .map_or_else(|| beside(work_dir), |path| beside(Path::new(path)))
        .join(DEMO_DIR)
}

/// Dev mode's default: when no `file:` provider is configured, writes a
/// fresh random token per environment under [`demo_root`] and makes that
/// folder the file provider's root (so steps can't read it either: the
/// sandbox protects the file provider's folder). A given
/// `--secrets-file-root` is left alone, and so is a database folder that
/// doesn't exist (nothing is made outside it; the database can't open
/// there either).
pub fn with_demo_file_root(
    mut settings: SecretSettings,
    database_url: &str,
    work_dir: &Path,
    environments: &Environments,
) -> Result<SecretSettings, String> {
    if settings.file_root.is_some() {
        return Ok(settings);
    }
    let root = demo_root(database_url, work_dir);
    if !root.parent().is_some_and(Path::is_dir) {
        return Ok(settings);
    }
    write_demo_files(&root, environments).map_err(|e| {
        format!(
            "dev mode: cannot write the demo secrets in {}: {e}",
            root.display()
        )
    })?;
    let root = root
        .canonicalize()
        .map_err(|e| format!("dev mode: {}: {e}", root.display()))?;
    settings.file_root = Some(root);
    Ok(settings)
}

fn write_demo_files(root: &Path, environments: &Environments) -> std::io::Result<()> {
    let mut dirs = std::fs::DirBuilder::new();
    dirs.mode(0o700);
    let made = |dir: &Path| match dirs.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    };
    made(root)?;
    std::fs::write(root.join(MARKER), MARKER_TEXT)?;
    for env in environments.iter() {
        let dir = root.join(env.as_str());
        made(&dir)?;
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!(
            "demo-{}-{}",
            env.as_str(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let path = dir.join(TOKEN_FILE);
        // Replaced, not rewritten in place: a file made earlier with a
        // wider mode doesn't keep it.
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(token.as_bytes())?;
    }
    Ok(())
}

/// The demo workflow's spec for the file provider's folder, when that
/// folder is the one [`with_demo_file_root`] made.
pub fn demo_spec(file_root: Option<&Path>) -> Option<String> {
    let root = file_root?;
    if !root.join(MARKER).is_file() || root.file_name()? != DEMO_DIR {
        return None;
    }
    Some(SPEC_TEMPLATE.replace("@ROOT@", root.to_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_demo_folder_sits_beside_the_sqlite_database_or_the_work_folder() {
        let work = Path::new("/w");
        assert_eq!(
            demo_root("sqlite://data/gantry.db", work),
            Path::new("data/demo-secrets")
        );
        assert_eq!(
            demo_root("sqlite:///srv/g/gantry.db?mode=rwc", work),
            Path::new("/srv/g/demo-secrets")
        );
        assert_eq!(
            demo_root("sqlite://gantry.db", work),
            Path::new("./demo-secrets")
        );
        let work = Path::new("/srv/data/work");
        assert_eq!(
            demo_root("sqlite::memory:", work),
            Path::new("/srv/data/demo-secrets")
        );
        assert_eq!(
            demo_root("postgres://u@h/db", work),
            Path::new("/srv/data/demo-secrets")
        );
    }

    #[test]
    fn dev_mode_writes_private_fresh_tokens_and_points_the_file_provider_there() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/gantry.db", dir.path().display());
        let envs = Environments::parse_list("dev,prod").unwrap();
        let first =
            with_demo_file_root(SecretSettings::default(), &url, dir.path(), &envs).unwrap();
        let root = first.file_root.clone().unwrap();
        assert_eq!(root, dir.path().join(DEMO_DIR).canonicalize().unwrap());
        let token = |env: &str| std::fs::read_to_string(root.join(env).join(TOKEN_FILE)).unwrap();
        let (dev, prod) = (token("dev"), token("prod"));
        assert!(dev.starts_with("demo-dev-") && dev.len() > 30, "{dev}");
        assert_ne!(dev, prod);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("dev").join(TOKEN_FILE)), 0o600);
        assert_eq!(mode(&root), 0o700);
        // A new start, a new value.
        with_demo_file_root(SecretSettings::default(), &url, dir.path(), &envs).unwrap();
        assert_ne!(token("dev"), dev);
        // The spec names the folder; it parses.
        let spec = demo_spec(Some(&root)).unwrap();
        assert!(spec.contains(&format!("file:{}/{{env}}/api-token", root.display())));
        gantry_core::spec::parse(&spec).unwrap();
    }

    #[test]
    fn a_folder_someone_gave_is_left_alone_and_gets_no_demo() {
        let dir = tempfile::tempdir().unwrap();
        let given = SecretSettings {
            file_root: Some(dir.path().to_path_buf()),
            ..SecretSettings::default()
        };
        let envs = Environments::parse_list("dev").unwrap();
        let kept = with_demo_file_root(given.clone(), "sqlite://x.db", dir.path(), &envs).unwrap();
        assert_eq!(kept, given);
        assert!(!dir.path().join(DEMO_DIR).exists());
        assert_eq!(demo_spec(Some(dir.path())), None);
        // Nor is a database folder that isn't there.
        let missing = format!("sqlite://{}/nowhere/g.db", dir.path().display());
        let none =
            with_demo_file_root(SecretSettings::default(), &missing, dir.path(), &envs).unwrap();
        assert_eq!(none.file_root, None);
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(demo_spec(None), None);
    }
}
