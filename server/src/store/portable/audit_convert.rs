//! Converting audit records of format 1 (every field hashed as written) to
//! format 2 (personal fields hashed as salted digests kept apart), once,
//! when a database written before erasure existed is first opened by a
//! version that has it. The old chain is checked as it is read, under the
//! head lock, so a chain that was tampered with is never re-hashed into
//! one that verifies.

use super::audit::{
    AUDIT_COLUMNS, append_in, checkpoint_from_row, db_seq, insert_sealed, lock_chain,
    personal_column, records_from_rows,
};
use super::{Db, begin_write};
use crate::store::StoreResult;
use crate::store::audit::Converted;
use crate::store::write_turn::{WriteTx, Writer};
use gantry_core::audit::{
    AuditEvent, AuditRecord, Break, ChainLink, ChainVerifier, canonical_json, personal,
};

type Tx = WriteTx<Db>;

/// Records read and rewritten per round trip.
const BATCH: i64 = 500;

pub(super) async fn convert(
    writes: &Writer<Db>,
    note: AuditEvent,
) -> StoreResult<Result<Option<Converted>, Break>> {
    let mut tx = begin_write(writes).await?;
    let ends = lock_chain(&mut tx).await?;
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE format = 1")
        .fetch_one(&mut *tx)
        .await?;
    let Some(first) = first else {
        return Ok(Ok(None));
    };
    let first = u64::try_from(first).unwrap_or(0);
    // The record before the first to convert is the anchor, or a record of
    // format 2 that stays as it is.
    let before = if first <= ends.anchor.seq + 1 {
        ends.anchor.clone()
    } else {
        let hash: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(db_seq(first - 1))
            .fetch_optional(&mut *tx)
            .await?;
        ChainLink {
            seq: first - 1,
            hash: hash.unwrap_or_default(),
        }
    };
    let checkpoints = sqlx::query(
        "SELECT seq, hash, signed_at, key_id, signature FROM audit_checkpoints
         WHERE seq >= $1 ORDER BY seq",
    )
    .bind(db_seq(first))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(checkpoint_from_row)
    .collect::<StoreResult<Vec<_>>>()?;
    // Erased fields can't be in records of format 1 or before them, so the
    // stretch needs no erasure records of its own.
    let mut old_chain = ChainVerifier::new(before.clone(), Some(ends.head.clone()))
        .with_checkpoints(checkpoints.into_iter().map(|c| (c.seq, c.hash)))
        .erasures_elsewhere();
    let mut prev = before.hash;
    let (mut converted, mut relinked) = (0, 0);
    let mut after = first - 1;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(db_seq(after))
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for record in records_from_rows(&rows, &mut tx).await? {
            after = record.seq;
            if let Err(b) = old_chain.push(record.clone()) {
                return Ok(Err(b));
            }
            let was_plain = record.format == personal::FORMAT_PLAIN;
            let rewritten = if was_plain {
                personal::convert(record, &prev, &mut || rand::random::<[u8; 16]>())
            } else {
                relink(record, &prev)
            };
            rewrite(&mut tx, &rewritten, was_plain).await?;
            if was_plain {
                converted += 1;
            } else {
                relinked += 1;
            }
            prev = rewritten.hash;
        }
    }
    if let Err(b) = old_chain.finish() {
        return Ok(Err(b));
    }
    sqlx::query("UPDATE audit_chain SET head_hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&mut *tx)
        .await?;
    let note = append_in(
        &mut tx,
        note.detail("from_seq", first)
            .detail("through_seq", ends.head.seq)
            .detail("records_converted", converted)
            .detail("records_relinked", relinked)
            .detail("legacy_head_hash", ends.head.hash.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Some(Converted {
        converted,
        relinked,
        note,
    })))
}

/// A record of format 2 behind a converted one: same content, new link.
fn relink(mut record: AuditRecord, prev: &str) -> AuditRecord {
    if record.legacy_hash.is_none() {
        record.legacy_hash = Some(record.hash.clone());
    }
    record.prev_hash = prev.to_owned();
    record.hash = record.computed_hash();
    record
}

async fn rewrite(tx: &mut Tx, record: &AuditRecord, was_plain: bool) -> StoreResult<()> {
    let row = personal::without_values(record);
    sqlx::query(
        "UPDATE audit_log SET actor_name = $1, source_ip = $2, user_agent = $3, details = $4,
             prev_hash = $5, hash = $6, format = $7, personal = $8, legacy_hash = $9
         WHERE seq = $10",
    )
    .bind(&row.actor.name)
    .bind(&row.source_ip)
    .bind(&row.user_agent)
    .bind(canonical_json(&row.details))
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .bind(i32::from(row.format))
    .bind(personal_column(&row))
    .bind(&row.legacy_hash)
    .bind(db_seq(record.seq))
    .execute(&mut **tx)
    .await?;
    if was_plain {
        insert_sealed(tx, std::slice::from_ref(record)).await?;
    }
    Ok(())
}
