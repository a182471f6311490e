//! The one-time conversion of audit records written before erasure existed
//! (format 1) to the erasable format 2, run by `serve` right after the
//! migrations ([`gantry_core::audit::personal`], the store's
//! `convert_plain_audit`).

use crate::store::SharedStore;
use chrono::{DateTime, Utc};
use gantry_core::audit::{Actor, AuditAction, AuditEvent};

/// Converts what there is to convert. A chain that does not verify is left
/// as it is (re-hashing it would hide the tampering): the error names the
/// break, `serve` logs it and starts anyway, and the records stay
/// unerasable until an operator has looked.
pub async fn convert_plain_records(store: &SharedStore, now: DateTime<Utc>) -> anyhow::Result<()> {
    let note = AuditEvent::new(
        now,
        Actor::system("audit"),
        AuditAction::AuditFormatUpgrade,
        "audit",
    )
    .detail("to_format", gantry_core::audit::personal::FORMAT_ERASABLE);
    let started = std::time::Instant::now();
    match store.convert_plain_audit(note).await? {
        Ok(None) => Ok(()),
        Ok(Some(done)) => {
            tracing::info!(
                converted = done.converted,
                relinked = done.relinked,
                note_seq = done.note.seq,
                millis = started.elapsed().as_millis() as u64,
                "audit records converted to the erasable format"
            );
            Ok(())
        }
        Err(broken) => anyhow::bail!(
            "the audit chain does not verify ({broken}); its records were not converted to the \
             erasable format, so personal fields in them can't be erased until this is resolved \
             (see docs/audit.md, \"Tamper evidence\")"
        ),
    }
}
