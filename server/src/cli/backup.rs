//! `gantry backup`: a consistent copy of an embedded (SQLite) database while
//! Gantry keeps running, checked before it is called a backup
//! (docs/ops/backup.md).

use super::DatabaseArgs;
use crate::audit::verify::verify_store;
use crate::runtime::clock::{Clock, SystemClock};
use crate::store::{self, DatabaseUrl};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Where to write the copy; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub async fn run(args: BackupArgs) -> ExitCode {
    match backup(&args).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gantry backup: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn backup(args: &BackupArgs) -> anyhow::Result<String> {
    let url = DatabaseUrl::parse(&args.db.database_url)
        .map_err(|e| anyhow::anyhow!("--database-url (GANTRY_DATABASE_URL): {e}"))?;
    if args.out.exists() {
        anyhow::bail!(
            "--out {} exists: give a new file (a backup never overwrites one)",
            args.out.display()
        );
    }
    let store = store::connect(&url, 2)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    if !store.migration_status().await?.is_current() {
        anyhow::bail!(
            "the database schema does not match this binary; back up with the version that serves it"
        );
    }
    // Written beside the target and renamed when whole, so a file named
    // --out is never half a copy (and one that does not verify is removed).
    let partial = partial_path(&args.out);
    let _ = std::fs::remove_file(&partial);
    let started = std::time::Instant::now();
    if let Err(e) = store.backup_into(&partial).await {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("{e}");
    }
    let copied = started.elapsed();
    std::fs::rename(&partial, &args.out)
        .map_err(|e| anyhow::anyhow!("cannot name the copy {}: {e}", args.out.display()))?;
    // The copy is checked as a database of its own before it counts.
    let verified = async {
        let copy_url = DatabaseUrl::parse(&format!("sqlite://{}", args.out.display()))
            .map_err(|e| anyhow::anyhow!("the copy's path: {e}"))?;
        let copy = store::connect(&copy_url, 1).await?;
        anyhow::Ok(verify_store(copy.as_ref(), None, SystemClock.now()).await?)
    }
    .await;
    let chain = match verified {
        Ok(chain) if chain.problem.is_none() => chain,
        failed => {
            let _ = std::fs::remove_file(&args.out);
            match failed {
                Ok(chain) => anyhow::bail!(
                    "the copy's audit chain does not verify ({}); no backup was kept",
                    chain.problem.map(|p| p.to_string()).unwrap_or_default()
                ),
                Err(e) => anyhow::bail!("the copy can't be read ({e:#}); no backup was kept"),
            }
        }
    };
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "ok: backed up to {} ({bytes} bytes in {} ms); its audit chain verifies: {} record(s), head {}",
        args.out.display(),
        copied.as_millis(),
        chain.records,
        chain.head_seq
    ))
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}
