//! `gantry audit …`: verify, export and archive the log straight from the
//! database (so they work whether or not a server is up), and make a
//! checkpoint key pair. Exit codes: 0 fine, 1 the chain is broken, 2 bad
//! usage or an unreachable database.

use super::DatabaseArgs;
use crate::audit::file::{FORMAT, Header, Line, write_line};
use crate::audit::keys;
use crate::audit::verify::{FileVerifyError, verify_file, verify_store};
use crate::runtime::clock::{Clock, SystemClock};
use crate::store::{self, DatabaseUrl, SharedStore};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use gantry_core::audit::{Actor, AuditAction, AuditEvent, AuditFilter, ChainLink};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain (and signed checkpoints); exit 1 naming the first broken record.
    Verify(VerifyArgs),
    /// Write records from a sequence number on as JSON lines (a file that verifies on its own).
    Export(ExportArgs),
    /// Move records older than a date to a JSONL archive, leaving an anchor so the rest still verifies.
    Archive(ArchiveArgs),
    /// Make an Ed25519 key pair for signing checkpoints.
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Verify an export or archive file instead of the database.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Public key (PEM file, or hex/base64) that must have signed every checkpoint.
    #[arg(long, env = "GANTRY_AUDIT_PUBLIC_KEY", value_name = "KEY")]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line: a header, the checkpoints, then the records.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// First sequence number to export.
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub since: u64,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Archive records older than this: a date (2026-01-01, midnight UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE", value_parser = parse_cutoff)]
    pub before: DateTime<Utc>,
    /// The archive file to create (refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (mode 0600, refused if it exists); the public key goes
    /// beside it as FILE.pub and to standard output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

fn parse_cutoff(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{text:?} is not a date (2026-01-01) or an RFC 3339 time"))
}

pub async fn run(command: AuditCommand) -> ExitCode {
    let result = match command {
        AuditCommand::Verify(args) => verify(args).await,
        AuditCommand::Export(args) => export(args).await,
        AuditCommand::Archive(args) => archive(args).await,
        AuditCommand::Keygen(args) => keygen(&args.out),
    };
    result.unwrap_or_else(|e| {
        eprintln!("gantry audit: {e:#}");
        ExitCode::from(2)
    })
}

/// Opens the database without migrating it: these commands only read (and
/// archive), and must not change a schema behind a running server's back.
async fn open(args: &DatabaseArgs) -> anyhow::Result<SharedStore> {
    let url = DatabaseUrl::parse(&args.database_url)
        .map_err(|e| anyhow::anyhow!("--database-url (GANTRY_DATABASE_URL): {e}"))?;
    let store = store::connect(&url, 2)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    let status = store
        .migration_status()
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the database: {e}"))?;
    if !status.is_current() {
        anyhow::bail!(
            "the database schema does not match this binary; start `gantry serve` (which migrates) first"
        );
    }
    Ok(store)
}

fn public_key(arg: Option<&str>) -> anyhow::Result<Option<ed25519_dalek::VerifyingKey>> {
    arg.map(keys::load_verifying_key)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--public-key: {e}"))
}

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let key = public_key(args.public_key.as_deref())?;
    if let Some(path) = &args.file {
        let file = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        return Ok(match verify_file(BufReader::new(file), key.as_ref()) {
            Ok(report) => {
                println!(
                    "ok: {} verified: records {}..{} ({} in all), {} checkpoint(s) checked",
                    path.display(),
                    report.first_seq.unwrap_or(report.last.seq),
                    report.last.seq,
                    report.records,
                    report.checkpoints
                );
                ExitCode::SUCCESS
            }
            Err(FileVerifyError::Broken(b)) => {
                eprintln!("BROKEN: {}: {b}", path.display());
                ExitCode::from(1)
            }
            Err(FileVerifyError::Unreadable(e)) => {
                anyhow::bail!("{} is not a Gantry audit file: {e}", path.display())
            }
        });
    }
    let store = open(&args.db).await?;
    let status = verify_store(store.as_ref(), key.as_ref(), SystemClock.now()).await?;
    Ok(match &status.problem {
        None => {
            println!(
                "ok: audit chain verified: {} record(s){}, head {}, {} checkpoint(s) checked{}",
                status.records,
                status
                    .first_seq
                    .map(|f| format!(" from {f}"))
                    .unwrap_or_default(),
                status.head_seq,
                status.checkpoints,
                if key.is_some() {
                    ""
                } else {
                    " (signatures not checked: pass --public-key)"
                }
            );
            ExitCode::SUCCESS
        }
        Some(b) => {
            eprintln!("BROKEN: {b}");
            ExitCode::from(1)
        }
    })
}

/// Streams `(anchor, through]` with its checkpoints into `out`.
async fn write_stretch(
    store: &SharedStore,
    kind: &str,
    anchor: &ChainLink,
    through: &ChainLink,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    write_line(
        out,
        &Line::Header(Header {
            format: FORMAT.into(),
            kind: kind.into(),
            created_at: SystemClock.now(),
            anchor: anchor.clone(),
            last: through.clone(),
        }),
    )?;
    for cp in store.audit_checkpoints(anchor.seq).await? {
        if cp.seq <= through.seq {
            write_line(out, &Line::Checkpoint(cp))?;
        }
    }
    let mut after = anchor.seq;
    let mut written = 0;
    while after < through.seq {
        let page = store.audit_records_after(after, 1000).await?;
        if page.is_empty() {
            break;
        }
        for record in page {
            if record.seq > through.seq {
                break;
            }
            after = record.seq;
            write_line(out, &Line::Record(Box::new(record)))?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}

/// The hash of the record just before `seq`, from the anchor or the log.
async fn link_before(store: &SharedStore, seq: u64) -> anyhow::Result<ChainLink> {
    let ends = store.audit_chain_ends().await?;
    let prev = seq.saturating_sub(1);
    if prev < ends.anchor.seq {
        anyhow::bail!(
            "records up to {} were archived; export from {} or read the archive file",
            ends.anchor.seq,
            ends.anchor.seq + 1
        );
    }
    if prev == ends.anchor.seq {
        return Ok(ends.anchor);
    }
    let record = store
        .audit_record(prev)
        .await?
        .ok_or_else(|| anyhow::anyhow!("record {prev} is missing; run `gantry audit verify`"))?;
    Ok(ChainLink {
        seq: record.seq,
        hash: record.hash,
    })
}

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportFormat::Jsonl = args.format;
    let store = open(&args.db).await?;
    let since = args.since.max(1);
    let anchor = link_before(&store, since).await?;
    let head = store.audit_chain_ends().await?.head;
    if head.seq < since {
        anyhow::bail!("the log ends at record {}; nothing from {since}", head.seq);
    }
    let written = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            let mut out = BufWriter::new(file);
            write_stretch(&store, "export", &anchor, &head, &mut out).await?
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            write_stretch(&store, "export", &anchor, &head, &mut out).await?
        }
    };
    let note = cli_event(AuditAction::AuditExport, "audit/")
        .detail("from_seq", since)
        .detail("through_seq", head.seq)
        .detail("records", written);
    // An export only reads; a database user without write access may run
    // it, so failing to note it is a warning, not an error.
    if let Err(e) = store.append_audit(note).await {
        eprintln!("gantry audit: warning: could not record the export in the log: {e}");
    }
    eprintln!("exported records {since}..{} ({written})", head.seq);
    Ok(ExitCode::SUCCESS)
}

fn cli_event(action: AuditAction, resource: &str) -> AuditEvent {
    let mut event = AuditEvent::new(
        SystemClock.now(),
        Actor::system("gantry audit"),
        action,
        resource,
    );
    event.user_agent = Some(format!("gantry/{} cli", env!("CARGO_PKG_VERSION")));
    event
}

async fn archive(args: ArchiveArgs) -> anyhow::Result<ExitCode> {
    if args.out.exists() {
        anyhow::bail!("{} exists; choose a new archive file", args.out.display());
    }
    let store = open(&args.db).await?;
    let ends = store.audit_chain_ends().await?;
    let newest_old = store
        .audit_page(&AuditFilter {
            until: Some(args.before),
            limit: Some(1),
            ..AuditFilter::default()
        })
        .await?
        .records
        .into_iter()
        .next();
    let Some(newest_old) = newest_old else {
        println!("nothing to archive: no records before {}", args.before);
        return Ok(ExitCode::SUCCESS);
    };
    // Times can step back across processes; archive the whole prefix up to
    // the newest old record so the rest still starts at the anchor.
    let through = ChainLink {
        seq: newest_old.seq,
        hash: newest_old.hash.clone(),
    };
    // First verify what is to be archived: an archive must never bless a
    // tampered stretch.
    let status = verify_store(store.as_ref(), None, SystemClock.now()).await?;
    if let Some(b) = status.problem.filter(|b| b.seq <= through.seq) {
        eprintln!("BROKEN: {b}; not archiving a chain that does not verify");
        return Ok(ExitCode::from(1));
    }
    let tmp = args.out.with_extension("partial");
    let written = {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", tmp.display()))?;
        let mut out = BufWriter::new(file);
        let n = write_stretch(&store, "archive", &ends.anchor, &through, &mut out).await?;
        out.into_inner()
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", tmp.display()))?
            .sync_all()?;
        n
    };
    // The file is on disk before a single row goes.
    let note = cli_event(AuditAction::AuditArchive, "audit/")
        .detail("file", args.out.display().to_string())
        .detail("before", args.before.to_rfc3339());
    match store.archive_audit(&ends.anchor, &through, note).await? {
        Some(done) => {
            std::fs::rename(&tmp, &args.out)?;
            println!(
                "archived records {}..{} ({written}) to {}; the log now starts after {} (noted as record {})",
                done.from.seq + 1,
                done.to.seq,
                args.out.display(),
                done.to.seq,
                done.note.seq
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!(
                "the log changed while archiving (another archive ran?); nothing was removed, try again"
            )
        }
    }
}

fn keygen(out: &Path) -> anyhow::Result<ExitCode> {
    let (private, public) = keys::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .map_err(|e| anyhow::anyhow!("cannot create {} (it must not exist): {e}", out.display()))?;
    file.write_all(private.as_bytes())?;
    let public_path = PathBuf::from(format!("{}.pub", out.display()));
    std::fs::write(&public_path, &public)?;
    print!("{public}");
    eprintln!(
        "private key written to {} (serve with --audit-signing-key {}); public key to {}",
        out.display(),
        out.display(),
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
