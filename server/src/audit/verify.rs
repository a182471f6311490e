//! Verifying the chain where it lives: in the database (the Audit page's
//! status, `gantry audit verify`) or in an export/archive file
//! (`gantry audit verify --file`).

use super::file::{FileError, Line, Reader};
use super::keys;
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use gantry_core::audit::{
    AuditAction, AuditFilter, Break, BreakKind, ChainLink, ChainStatus, ChainVerifier, Checkpoint,
    VerifyReport,
};
use std::io::BufRead;

/// Records read per query while verifying a database.
const PAGE: u32 = 1000;

/// Checks a checkpoint's signature when a key is given; `Err` names it.
fn check_signature(cp: &Checkpoint, key: Option<&VerifyingKey>) -> Result<(), Break> {
    let Some(key) = key else {
        return Ok(());
    };
    let problem = if cp.key_id != keys::key_id(key) {
        "it was signed by another key"
    } else if !keys::verify(key, cp.seq, &cp.hash, &cp.signature) {
        "its signature does not verify"
    } else {
        return Ok(());
    };
    Err(Break {
        seq: cp.seq,
        kind: BreakKind::BadSignature,
        detail: format!("checkpoint at record {}: {problem}", cp.seq),
    })
}

/// Verifies the database's chain from its anchor to its head. Appends that
/// land while it runs are taken in stride: the head is re-read after each
/// page, so a record only counts as inserted when no append put it there.
/// A break found is counted in `gantry_audit_chain_gap_total`.
pub async fn verify_store(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
    now: DateTime<Utc>,
) -> StoreResult<ChainStatus> {
    Ok(verify_from(store, key, now, None).await?.status)
}

/// Where a verification got to: what the next one may start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The anchor the chain had (an archive moves it: then start over).
    pub anchor: ChainLink,
    /// The last record verified (the anchor when there were none).
    pub last: ChainLink,
}

/// A verification's status, and where it got to when the chain held.
pub struct Verification {
    pub status: ChainStatus,
    pub verified: Option<Verified>,
}

/// Verifies the records appended after `since` (an earlier verification's
/// end, so each record is read once), or the whole chain when `since` is
/// `None` or the anchor moved since. The record `since` names must still
/// end in its hash: the first new record links to it.
pub async fn verify_store_since(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
    now: DateTime<Utc>,
    since: Option<&Verified>,
) -> StoreResult<Verification> {
    verify_from(store, key, now, since).await
}

async fn verify_from(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
    now: DateTime<Utc>,
    since: Option<&Verified>,
) -> StoreResult<Verification> {
    let ends = store.audit_chain_ends().await?;
    let start = match since {
        // A head behind where the last pass got to is itself suspect: look
        // at everything again.
        Some(v)
            if v.anchor == ends.anchor
                && (ends.anchor.seq..=ends.head.seq).contains(&v.last.seq) =>
        {
            v.last.clone()
        }
        _ => ends.anchor.clone(),
    };
    let checkpoints = store.audit_checkpoints(start.seq).await?;
    let mut status = ChainStatus {
        checked_at: now,
        records: 0,
        first_seq: None,
        head_seq: ends.head.seq,
        checkpoints: 0,
        problem: None,
    };
    let broken = |mut status: ChainStatus, problem: Break| {
        crate::runtime::metrics::audit_chain_gap();
        status.problem = Some(problem);
        Ok(Verification {
            status,
            verified: None,
        })
    };
    if let Some(bad) = checkpoints
        .iter()
        .find_map(|cp| check_signature(cp, key).err())
    {
        return broken(status, bad);
    }
    if let Some(bad) = unaccounted_anchor(store, &ends.anchor).await? {
        return broken(status, bad);
    }
    let mut verifier = ChainVerifier::new(start.clone(), Some(ends.head))
        .with_checkpoints(checkpoints.into_iter().map(|cp| (cp.seq, cp.hash)));
    let mut after = start.seq;
    let mut empty_pages = 0;
    loop {
        let page = store.audit_records_after(after, PAGE).await?;
        let head = store.audit_chain_ends().await?.head;
        status.head_seq = head.seq;
        verifier.set_head(head.clone());
        if page.is_empty() {
            empty_pages += 1;
            // Nothing more to read and the head agrees (or a second look
            // after re-reading the head still finds nothing): done.
            if head.seq <= after || empty_pages > 1 {
                break;
            }
            continue;
        }
        empty_pages = 0;
        for record in page {
            after = record.seq;
            if let Err(b) = verifier.push(record) {
                return broken(status, b);
            }
        }
    }
    match verifier.finish() {
        Ok(report) => {
            status.records = report.records;
            status.first_seq = report.first_seq;
            status.checkpoints = report.checkpoints;
            Ok(Verification {
                status,
                verified: Some(Verified {
                    anchor: ends.anchor,
                    last: report.last,
                }),
            })
        }
        Err(b) => broken(status, b),
    }
}

/// An anchor past the genesis means records were archived; the archive
/// appended an `audit.archive` record naming exactly that anchor, and until
/// the next archive it is the newest one. Without it, someone deleted the
/// oldest records and moved the anchor by hand.
async fn unaccounted_anchor(store: &dyn Store, anchor: &ChainLink) -> StoreResult<Option<Break>> {
    if anchor.seq == 0 {
        return Ok(None);
    }
    let note = store
        .audit_page(&AuditFilter {
            action: Some(AuditAction::AuditArchive.as_str().to_owned()),
            limit: Some(1),
            ..AuditFilter::default()
        })
        .await?
        .records
        .into_iter()
        .next();
    let names_anchor = note.is_some_and(|n| {
        n.details["through_seq"].as_u64() == Some(anchor.seq)
            && n.details["through_hash"].as_str() == Some(anchor.hash.as_str())
    });
    Ok((!names_anchor).then(|| Break {
        seq: anchor.seq,
        kind: BreakKind::Deleted,
        detail: format!(
            "records up to {} are gone, but no audit.archive record accounts for them",
            anchor.seq
        ),
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum FileVerifyError {
    #[error(transparent)]
    Unreadable(#[from] FileError),
    #[error("{0}")]
    Broken(Break),
}

/// Verifies an export or archive on its own: its records must link from the
/// header's anchor to the header's last record, and match its checkpoints
/// (which come before the records).
pub fn verify_file(
    input: impl BufRead,
    key: Option<&VerifyingKey>,
) -> Result<VerifyReport, FileVerifyError> {
    let mut reader = Reader::new(input);
    let header = reader.header()?;
    let mut checkpoints = Vec::new();
    let mut verifier: Option<ChainVerifier> = None;
    while let Some(line) = reader.next_line()? {
        match line {
            Line::Checkpoint(cp) if verifier.is_none() => {
                check_signature(&cp, key).map_err(FileVerifyError::Broken)?;
                checkpoints.push((cp.seq, cp.hash));
            }
            Line::Checkpoint(cp) => {
                return Err(FileError::Malformed {
                    line: reader.line_number(),
                    message: format!(
                        "checkpoint {} comes after records; checkpoints must precede them",
                        cp.seq
                    ),
                }
                .into());
            }
            Line::Header(_) => {
                return Err(FileError::Malformed {
                    line: reader.line_number(),
                    message: "a second header".into(),
                }
                .into());
            }
            Line::Record(record) => {
                // An export or archive is a stretch: the erasure of a
                // field erased in it may be recorded after its end.
                let v = verifier.get_or_insert_with(|| {
                    ChainVerifier::new(header.anchor.clone(), Some(header.last.clone()))
                        .with_checkpoints(std::mem::take(&mut checkpoints))
                        .erasures_elsewhere()
                });
                v.push(*record).map_err(FileVerifyError::Broken)?;
            }
        }
    }
    let verifier = verifier.unwrap_or_else(|| {
        ChainVerifier::new(header.anchor.clone(), Some(header.last.clone()))
            .with_checkpoints(checkpoints)
            .erasures_elsewhere()
    });
    verifier.finish().map_err(FileVerifyError::Broken)
}
