//! Checks a chain record by record (streaming: memory stays flat however
//! long the log) and names the first broken sequence number and what most
//! likely happened to it. One record of look-ahead tells an insertion from
//! an edit and a swap from a deletion.

use super::chain::ChainLink;
use super::event::AuditRecord;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Where the checked stretch starts: the record before the first one
/// (`seq` 0 and the genesis hash for a full log; an archive's last record
/// after archiving).
pub type Anchor = ChainLink;

/// A signed statement that the chain up to `seq` ends in `hash`. The
/// signature is checked by the caller (it holds the key); the verifier
/// checks that the chain still matches what was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub signed_at: chrono::DateTime<chrono::Utc>,
    /// Hex of the public key that signed it.
    pub key_id: String,
    /// Hex Ed25519 signature over `checkpoint_message(seq, hash)`.
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The record's content no longer matches its hash, or it was rewritten
    /// and rehashed so the next record no longer links to it.
    Edited,
    /// A sequence number is missing.
    Deleted,
    /// A record that was never appended sits in the chain.
    Inserted,
    /// Records are out of order.
    Reordered,
    /// A checkpoint's signature is invalid or made with an unknown key.
    BadSignature,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Edited => "edited",
            BreakKind::Deleted => "deleted",
            BreakKind::Inserted => "inserted",
            BreakKind::Reordered => "reordered",
            BreakKind::BadSignature => "bad signature",
        }
    }
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Break {
    pub seq: u64,
    pub kind: BreakKind,
    pub detail: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} {}: {}",
            self.seq,
            self.kind.as_str(),
            self.detail
        )
    }
}

impl std::error::Error for Break {}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub records: u64,
    pub first_seq: Option<u64>,
    /// The end of the verified chain (the anchor when there were no records).
    pub last: ChainLink,
    pub checkpoints: u64,
    /// Personal fields found erased, each backed by an erasure on record.
    #[serde(default)]
    pub erased_fields: u64,
}

pub struct ChainVerifier {
    expected: u64,
    prev_hash: String,
    /// The hash before `prev_hash`: a record linking to it means the one in
    /// between was inserted.
    prev_prev_hash: Option<String>,
    pending: Option<AuditRecord>,
    head: Option<ChainLink>,
    checkpoints: BTreeMap<u64, String>,
    checked_checkpoints: u64,
    records: u64,
    first_seq: Option<u64>,
    /// Whether an erased personal field needs an erasure record in the
    /// stretch checked (the database's log holds every erasure after the
    /// records it erased; an exported range may not).
    erasures_on_record: bool,
    /// Erased subjects, each with the first field found erased.
    erased: BTreeMap<String, (u64, String)>,
    erasures: BTreeSet<String>,
    erased_fields: u64,
}

impl ChainVerifier {
    /// `head`, when known (the database's chain-head row), catches records
    /// appended behind the log's back and deletions at the very end.
    pub fn new(anchor: Anchor, head: Option<ChainLink>) -> Self {
        ChainVerifier {
            expected: anchor.seq + 1,
            prev_hash: anchor.hash,
            prev_prev_hash: None,
            pending: None,
            head,
            checkpoints: BTreeMap::new(),
            checked_checkpoints: 0,
            records: 0,
            first_seq: None,
            erasures_on_record: true,
            erased: BTreeMap::new(),
            erasures: BTreeSet::new(),
            erased_fields: 0,
        }
    }

    /// For a stretch that need not hold the erasure records of the
    /// personal fields erased in it (an export of a range, an archive):
    /// erased fields are counted, not questioned.
    pub fn erasures_elsewhere(mut self) -> Self {
        self.erasures_on_record = false;
        self
    }

    /// Signed checkpoints (signatures already checked) the chain must match.
    pub fn with_checkpoints(
        mut self,
        checkpoints: impl IntoIterator<Item = (u64, String)>,
    ) -> Self {
        self.checkpoints.extend(checkpoints);
        self
    }

    /// Moves the known head forward (records appended while a long
    /// verification runs are not insertions).
    pub fn set_head(&mut self, head: ChainLink) {
        self.head = Some(head);
    }

    /// The last sequence number pushed so far.
    pub fn last_pushed(&self) -> Option<u64> {
        self.pending.as_ref().map(|r| r.seq)
    }

    /// Feeds the next record in stored order.
    pub fn push(&mut self, record: AuditRecord) -> Result<(), Break> {
        if let Some(pending) = self.pending.take() {
            self.check(&pending, Some(&record))?;
            self.advance(&pending);
        }
        self.pending = Some(record);
        Ok(())
    }

    /// Checks the last record and the chain's end.
    pub fn finish(mut self) -> Result<VerifyReport, Break> {
        if let Some(pending) = self.pending.take() {
            self.check(&pending, None)?;
            self.advance(&pending);
        }
        let last_seq = self.expected - 1;
        if let Some(head) = &self.head {
            if head.seq > last_seq {
                return Err(Break {
                    seq: last_seq + 1,
                    kind: BreakKind::Deleted,
                    detail: format!(
                        "the chain head says records run to {}, but the last one found is {last_seq}",
                        head.seq
                    ),
                });
            }
            if head.seq == last_seq && head.hash != self.prev_hash {
                return Err(Break {
                    seq: last_seq,
                    kind: BreakKind::Edited,
                    detail: "the last record's hash differs from the chain head's".into(),
                });
            }
        }
        if self.erasures_on_record
            && let Some((subject, (seq, field))) = self
                .erased
                .iter()
                .find(|(s, _)| !self.erasures.contains(*s))
        {
            return Err(Break {
                seq: *seq,
                kind: BreakKind::Deleted,
                detail: format!(
                    "its {field} was removed, but no erasure of user {subject} is on record"
                ),
            });
        }
        if let Some((&seq, _)) = self.checkpoints.range(self.expected..).next()
            && self.head.as_ref().is_some_and(|h| h.seq >= seq)
        {
            return Err(Break {
                seq,
                kind: BreakKind::Deleted,
                detail: "a signed checkpoint covers a record that is missing".into(),
            });
        }
        Ok(VerifyReport {
            records: self.records,
            first_seq: self.first_seq,
            last: ChainLink {
                seq: last_seq,
                hash: self.prev_hash,
            },
            checkpoints: self.checked_checkpoints,
            erased_fields: self.erased_fields,
        })
    }

    fn advance(&mut self, record: &AuditRecord) {
        self.prev_prev_hash = Some(std::mem::replace(&mut self.prev_hash, record.hash.clone()));
        self.expected += 1;
        self.records += 1;
        self.first_seq.get_or_insert(record.seq);
    }

    fn check(&mut self, rec: &AuditRecord, next: Option<&AuditRecord>) -> Result<(), Break> {
        let expected = self.expected;
        let broken = |seq, kind, detail: String| Err(Break { seq, kind, detail });
        if rec.seq < expected {
            return broken(
                rec.seq,
                BreakKind::Reordered,
                format!(
                    "found after record {}; sequence numbers must increase by one",
                    expected - 1
                ),
            );
        }
        if rec.seq > expected {
            if rec.seq == expected + 1 && next.is_some_and(|n| n.seq == expected) {
                return broken(
                    expected,
                    BreakKind::Reordered,
                    format!("records {expected} and {} are swapped", expected + 1),
                );
            }
            let missing = if rec.seq == expected + 1 {
                format!("record {expected} is missing")
            } else {
                format!("records {expected} to {} are missing", rec.seq - 1)
            };
            return broken(expected, BreakKind::Deleted, missing);
        }
        if let Some(head) = &self.head
            && rec.seq > head.seq
        {
            return broken(
                rec.seq,
                BreakKind::Inserted,
                format!("it lies beyond the chain head ({})", head.seq),
            );
        }
        let self_consistent = rec.computed_hash() == rec.hash;
        if rec.prev_hash != self.prev_hash {
            if self.prev_prev_hash.as_deref() == Some(rec.prev_hash.as_str()) {
                return broken(
                    expected - 1,
                    BreakKind::Inserted,
                    format!("record {expected} links past it to record {}", expected - 2),
                );
            }
            let next_links_back = next.is_some_and(|n| n.prev_hash == self.prev_hash);
            if self_consistent {
                if next_links_back {
                    return broken(
                        rec.seq,
                        BreakKind::Inserted,
                        format!("record {} links past it", rec.seq + 1),
                    );
                }
                if expected > 1 {
                    return broken(
                        expected - 1,
                        BreakKind::Edited,
                        format!(
                            "it was rewritten and rehashed: record {expected} no longer links to it"
                        ),
                    );
                }
            }
            if next_links_back {
                return broken(
                    rec.seq,
                    BreakKind::Reordered,
                    format!("record {} belongs before it", rec.seq + 1),
                );
            }
            return broken(
                rec.seq,
                BreakKind::Edited,
                "its prev_hash does not match the previous record's hash".into(),
            );
        }
        if !self_consistent {
            return broken(
                rec.seq,
                BreakKind::Edited,
                "its content no longer matches its hash".into(),
            );
        }
        match super::personal::check(rec) {
            Err(why) => return broken(rec.seq, BreakKind::Edited, why),
            Ok(erased) => {
                for (field, subject) in erased {
                    self.erased_fields += 1;
                    self.erased
                        .entry(subject.to_owned())
                        .or_insert_with(|| (rec.seq, field.to_owned()));
                }
            }
        }
        if let Some(subject) = super::personal::erasure_of(rec) {
            self.erasures.insert(subject.to_owned());
        }
        if let Some(signed) = self.checkpoints.get(&rec.seq) {
            // A checkpoint signed before the record was converted to
            // format 2 names its old hash.
            if *signed != rec.hash && rec.legacy_hash.as_ref() != Some(signed) {
                return broken(
                    rec.seq,
                    BreakKind::Edited,
                    "the chain up to here differs from what its signed checkpoint says".into(),
                );
            }
            self.checked_checkpoints += 1;
        }
        Ok(())
    }
}

/// Verifies a whole slice (tests, small exports).
pub fn verify_all(
    anchor: Anchor,
    head: Option<ChainLink>,
    records: impl IntoIterator<Item = AuditRecord>,
) -> Result<VerifyReport, Break> {
    let mut v = ChainVerifier::new(anchor, head);
    for r in records {
        v.push(r)?;
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditAction, AuditEvent, GENESIS_HASH};
    use chrono::{TimeZone, Utc};

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                    + chrono::Duration::seconds(seq as i64);
                let r = AuditEvent::new(
                    at,
                    Actor::system("t"),
                    AuditAction::RunTrigger,
                    format!("run/{seq}"),
                )
                .sequence(seq, &prev, &mut || [7; 16]);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn head(records: &[AuditRecord]) -> Option<ChainLink> {
        records.last().map(|r| ChainLink {
            seq: r.seq,
            hash: r.hash.clone(),
        })
    }

    fn verify(records: Vec<AuditRecord>, head: Option<ChainLink>) -> Result<VerifyReport, Break> {
        verify_all(ChainLink::genesis(), head, records)
    }

    fn broken_at(records: Vec<AuditRecord>, head: Option<ChainLink>) -> (u64, BreakKind) {
        let b = verify(records, head).expect_err("the chain should be broken");
        (b.seq, b.kind)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let h = head(&c);
        let report = verify(c, h).unwrap();
        assert_eq!(report.records, 5);
        assert_eq!(report.last.seq, 5);
        assert_eq!(verify(Vec::new(), None).unwrap().last, ChainLink::genesis());
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut c = chain(5);
        let h = head(&c);
        c[2].details = serde_json::json!({"who": "someone else"});
        assert_eq!(broken_at(c, h), (3, BreakKind::Edited));
    }

    #[test]
    fn an_edited_and_rehashed_record_is_named() {
        let mut c = chain(5);
        let h = head(&c);
        c[2].resource = "run/forged".into();
        c[2].hash = c[2].computed_hash();
        assert_eq!(broken_at(c, h), (3, BreakKind::Edited));
    }

    #[test]
    fn a_deleted_record_is_named() {
        let mut c = chain(5);
        let h = head(&c);
        c.remove(2);
        assert_eq!(broken_at(c, h.clone()), (3, BreakKind::Deleted));
        // The last one, caught by the chain head.
        let mut tail = chain(5);
        tail.pop();
        assert_eq!(broken_at(tail, h), (5, BreakKind::Deleted));
    }

    #[test]
    fn a_record_inserted_mid_chain_is_named() {
        // The forger renumbers 3.. to 4.. and slips a well-formed record in
        // at 3, linked to 2.
        let c = chain(5);
        let h = head(&c);
        let forged = AuditEvent::new(c[1].at, Actor::system("x"), AuditAction::RunCancel, "run/x")
            .sequence(3, &c[1].hash, &mut || [7; 16]);
        let mut tampered = c[..2].to_vec();
        tampered.push(forged);
        for r in &c[2..] {
            let mut r = r.clone();
            r.seq += 1;
            tampered.push(r);
        }
        assert_eq!(broken_at(tampered, h), (3, BreakKind::Inserted));
    }

    #[test]
    fn a_record_appended_behind_the_head_is_named() {
        let mut c = chain(5);
        let h = head(&c);
        let forged = AuditEvent::new(c[4].at, Actor::system("x"), AuditAction::RunCancel, "run/x")
            .sequence(6, &c[4].hash, &mut || [7; 16]);
        c.push(forged);
        assert_eq!(broken_at(c, h), (6, BreakKind::Inserted));
    }

    #[test]
    fn swapped_records_are_named() {
        let c = chain(5);
        let h = head(&c);
        // In a file: lines swapped.
        let mut lines = c.clone();
        lines.swap(2, 3);
        assert_eq!(broken_at(lines, h.clone()), (3, BreakKind::Reordered));
        // In a table: contents swapped under the same keys.
        let mut rows = c.clone();
        rows.swap(2, 3);
        rows[2].seq = 3;
        rows[3].seq = 4;
        assert_eq!(broken_at(rows, h), (3, BreakKind::Reordered));
    }

    #[test]
    fn a_stretch_verifies_from_its_anchor() {
        let c = chain(6);
        let anchor = ChainLink {
            seq: 3,
            hash: c[2].hash.clone(),
        };
        let report = verify_all(anchor.clone(), head(&c), c[3..].to_vec()).unwrap();
        assert_eq!((report.first_seq, report.records), (Some(4), 3));
        let wrong = ChainLink {
            seq: 3,
            hash: c[1].hash.clone(),
        };
        assert!(verify_all(wrong, head(&c), c[3..].to_vec()).is_err());
    }

    #[test]
    fn checkpoints_catch_a_rewritten_tail() {
        let c = chain(5);
        let rewritten = chain_rewritten(&c);
        // Without a checkpoint, a chain rewritten from 2 on (head included)
        // is indistinguishable from the real one.
        assert!(verify(rewritten.clone(), head(&rewritten)).is_ok());
        let signed = (3, c[2].hash.clone());
        let mut verifier =
            ChainVerifier::new(ChainLink::genesis(), head(&rewritten)).with_checkpoints([signed]);
        let mut result = Ok(());
        for r in rewritten {
            result = result.and_then(|_| verifier.push(r));
        }
        let err = result
            .and_then(|_| verifier.finish().map(|_| ()))
            .unwrap_err();
        assert_eq!((err.seq, err.kind), (3, BreakKind::Edited));
    }

    /// Rewrites record 2 and rehashes everything after it.
    fn chain_rewritten(c: &[AuditRecord]) -> Vec<AuditRecord> {
        let mut out = c[..1].to_vec();
        let mut prev = c[0].hash.clone();
        for r in &c[1..] {
            let mut r = r.clone();
            if r.seq == 2 {
                r.resource = "run/forged".into();
            }
            r.prev_hash = prev.clone();
            r.hash = r.computed_hash();
            prev = r.hash.clone();
            out.push(r);
        }
        out
    }

    #[test]
    fn intact_checkpoints_are_counted() {
        let c = chain(5);
        let cps = [(2, c[1].hash.clone()), (4, c[3].hash.clone())];
        let mut v = ChainVerifier::new(ChainLink::genesis(), head(&c)).with_checkpoints(cps);
        for r in c {
            v.push(r).unwrap();
        }
        assert_eq!(v.finish().unwrap().checkpoints, 2);
    }
}
