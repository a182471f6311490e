//! The audit half of the store. Appends that record a change happen inside
//! the change's own transaction (see `portable/audit.rs`'s `append_in`); the
//! methods here serve standalone records (denials, sign-ins), reading,
//! verification, export, archiving and sinks.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::{
    AuditEvent, AuditFilter, AuditPage, AuditRecord, Break, ChainLink, Checkpoint,
};

/// The chain's two ends as the database states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEnds {
    /// The last record moved to an archive (genesis before any archive).
    pub anchor: ChainLink,
    /// The last record appended.
    pub head: ChainLink,
}

/// What archiving removed from the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    /// The previous anchor (the archive's starting point).
    pub from: ChainLink,
    /// The new anchor: the archive's last record.
    pub to: ChainLink,
    /// The `audit.archive` record that notes the move in the chain itself.
    pub note: AuditRecord,
}

/// A process sending to a sink: the lease on the sink's cursor is
/// `owner`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkHolder<'a> {
    pub sink: &'a str,
    pub owner: &'a str,
}

/// What converting the records of format 1 did.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// Records of format 1 converted.
    pub converted: u64,
    /// Records after the first of them re-linked (their content unchanged).
    pub relinked: u64,
    /// The `audit.format_upgrade` record noting it in the chain.
    pub note: AuditRecord,
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends one record in its own transaction.
    async fn append_audit(&self, event: AuditEvent) -> StoreResult<AuditRecord>;

    async fn audit_page(&self, filter: &AuditFilter) -> StoreResult<AuditPage>;

    async fn audit_record(&self, seq: u64) -> StoreResult<Option<AuditRecord>>;

    async fn audit_chain_ends(&self) -> StoreResult<ChainEnds>;

    /// Up to `limit` records with `seq > after`, in order.
    async fn audit_records_after(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditRecord>>;

    /// Checkpoints with `seq > after`, in order.
    async fn audit_checkpoints(&self, after: u64) -> StoreResult<Vec<Checkpoint>>;

    /// Stores a checkpoint; a second one for the same `seq` (another process
    /// got there first) is ignored.
    async fn insert_audit_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()>;

    /// Deletes every record (and checkpoint) from the anchor up to
    /// `through`, which the caller has already written to an archive, in one
    /// transaction: the anchor moves to `through`, and `note` (an
    /// `audit.archive` event) is appended with the range in its details.
    /// `None`, changing nothing, when the chain no longer matches: the
    /// anchor is not `from` or the record at `through.seq` is not
    /// `through.hash` (someone archived meanwhile, or the chain was edited).
    async fn archive_audit(
        &self,
        from: &ChainLink,
        through: &ChainLink,
        note: AuditEvent,
    ) -> StoreResult<Option<Archived>>;

    /// Converts every record of format 1 to format 2 (personal fields as
    /// salted digests kept apart, so they can be erased), in one
    /// transaction holding the chain's head: the records from the first of
    /// format 1 to the head are checked against their hashes and the
    /// checkpoints as they are read, rewritten with new hashes (each keeps
    /// its old one as `legacy_hash`), and `note` is appended. `Ok(None)`
    /// when there is nothing to convert; `Err(break)` inside, changing
    /// nothing, when the old chain does not verify.
    async fn convert_plain_audit(
        &self,
        note: AuditEvent,
    ) -> StoreResult<Result<Option<Converted>, Break>>;

    /// Takes (or renews) the right to send to the named sink until
    /// `lease_until`, and returns how far it has delivered (0 before its
    /// first batch); `None` while another process holds it.
    async fn lease_audit_sink(
        &self,
        holder: SinkHolder<'_>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<u64>>;

    /// Gives the lease up (on shutdown), so a restarted process resumes at
    /// once instead of waiting for it to expire.
    async fn release_audit_sink(&self, holder: SinkHolder<'_>) -> StoreResult<()>;

    /// Moves the sink's cursor after a delivered batch; false when the holder
    /// lost the lease meanwhile (the cursor is then left alone).
    async fn set_audit_sink_cursor(
        &self,
        holder: SinkHolder<'_>,
        delivered: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}
