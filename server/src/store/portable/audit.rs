//! The audit log's SQL for both databases, compiled once per adapter like
//! the rest of `portable/`. Every append locks the single `audit_chain` row first
//! (`FOR UPDATE` on PostgreSQL; SQLite's write transaction is already
//! exclusive), so concurrent writers, in any number of processes, take turns
//! and the chain has no gaps or forks.

use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::audit::{Archived, AuditStore, ChainEnds, Converted, SinkHolder};
use crate::store::audit_batch::Pending;
use crate::store::write_turn::Writer;
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::{
    Actor, ActorKind, AuditEvent, AuditFilter, AuditPage, AuditRecord, Break, ChainLink,
    Checkpoint, Outcome, canonical_json,
};
use gantry_core::audit::{PersonalFields, personal};
use sqlx::{QueryBuilder, Row};
use std::collections::{BTreeMap, HashMap};

type Tx = crate::store::write_turn::WriteTx<Db>;
type DbRow = <Db as sqlx::Database>::Row;

pub(super) const AUDIT_COLUMNS: &str = "seq, at, actor_kind, actor_id, actor_name, action, resource, \
    environment, outcome, request_id, trace_id, source_ip, user_agent, details, prev_hash, hash, \
    format, personal, legacy_hash";

fn seq_of(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative audit sequence {v}")))
}

pub(super) fn db_seq(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Reads a row as stored, without judging it: a tampered row must still
/// load so the verifier can say what is wrong with it. A kind or outcome
/// we never write can't be shown as one that we do (a row edited from
/// `anonymous` to garbage would then read, and verify, as before), so such
/// a row gets a hash no record can have, and verification names it edited.
fn record_from_row(row: &DbRow) -> StoreResult<AuditRecord> {
    let kind: String = row.try_get("actor_kind")?;
    let outcome: String = row.try_get("outcome")?;
    let details: String = row.try_get("details")?;
    let readable = ActorKind::parse(&kind).is_some() && Outcome::parse(&outcome).is_some();
    let stored_hash: String = row.try_get("hash")?;
    let format: i32 = row.try_get("format")?;
    let personal_json: Option<String> = row.try_get("personal")?;
    let personal: Option<PersonalFields> = match &personal_json {
        None => Some(PersonalFields::new()),
        Some(text) => serde_json::from_str(text).ok(),
    };
    let readable = readable && personal.is_some() && u8::try_from(format).is_ok();
    Ok(AuditRecord {
        seq: seq_of(row.try_get("seq")?)?,
        at: row.try_get("at")?,
        actor: Actor {
            kind: ActorKind::parse(&kind).unwrap_or(ActorKind::Anonymous),
            id: row.try_get("actor_id")?,
            name: row.try_get("actor_name")?,
        },
        action: row.try_get("action")?,
        resource: row.try_get("resource")?,
        environment: row.try_get("environment")?,
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failed),
        request_id: row.try_get("request_id")?,
        trace_id: row.try_get("trace_id")?,
        source_ip: row.try_get("source_ip")?,
        user_agent: row.try_get("user_agent")?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        prev_hash: row.try_get("prev_hash")?,
        hash: if readable {
            stored_hash
        } else {
            format!(
                "unreadable row (actor_kind {kind:?}, outcome {outcome:?}, format {format}, personal {personal_json:?})"
            )
        },
        format: u8::try_from(format).unwrap_or(u8::MAX),
        personal: personal.unwrap_or_default(),
        legacy_hash: row.try_get("legacy_hash")?,
    })
}

/// Reads records and puts back their personal values kept apart (those
/// erased read as erased). The values are read by the records' sequence
/// numbers (a filtered page's may lie far apart), a thousand at a time.
pub(super) async fn records_from_rows(
    rows: &[DbRow],
    conn: &mut <Db as sqlx::Database>::Connection,
) -> StoreResult<Vec<AuditRecord>> {
    let mut records = rows
        .iter()
        .map(record_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let sealed: Vec<i64> = records
        .iter()
        .filter(|r| !r.personal.is_empty())
        .map(|r| db_seq(r.seq))
        .collect();
    let mut by_seq: HashMap<u64, BTreeMap<String, (String, String)>> = HashMap::new();
    for chunk in sealed.chunks(1000) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT seq, field, salt, value FROM audit_personal WHERE seq IN (",
        );
        let mut list = q.separated(", ");
        for seq in chunk {
            list.push_bind(*seq);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await? {
            by_seq
                .entry(seq_of(row.try_get("seq")?)?)
                .or_default()
                .insert(
                    row.try_get("field")?,
                    (row.try_get("salt")?, row.try_get("value")?),
                );
        }
    }
    for record in records.iter_mut().filter(|r| !r.personal.is_empty()) {
        personal::reunite(record, by_seq.remove(&record.seq).unwrap_or_default());
    }
    Ok(records)
}

const CHAIN_ENDS: &str =
    "SELECT head_seq, head_hash, anchor_seq, anchor_hash FROM audit_chain WHERE id = 1";

fn ends_from_row(row: &DbRow) -> StoreResult<ChainEnds> {
    Ok(ChainEnds {
        head: ChainLink {
            seq: seq_of(row.try_get("head_seq")?)?,
            hash: row.try_get("head_hash")?,
        },
        anchor: ChainLink {
            seq: seq_of(row.try_get("anchor_seq")?)?,
            hash: row.try_get("anchor_hash")?,
        },
    })
}

pub(super) async fn lock_chain(tx: &mut Tx) -> StoreResult<ChainEnds> {
    let row = sqlx::query(&format!("{CHAIN_ENDS}{FOR_UPDATE}"))
        .fetch_one(&mut **tx)
        .await?;
    ends_from_row(&row)
}

/// Appends `event` inside the caller's transaction: it commits with the
/// change it records or not at all. Call it last, after the change's own
/// row locks, so lock order is always "domain rows, then chain head".
/// Counted in `gantry_audit_events_total` once written (every caller
/// commits right after, so only a failed commit counts one too many).
pub(super) async fn append_in(tx: &mut Tx, event: AuditEvent) -> StoreResult<AuditRecord> {
    let mut records = append_all_in(tx, vec![event]).await?;
    records
        .pop()
        .ok_or_else(|| StoreError::Corrupt("an audit append wrote nothing".into()))
}

/// Appends `events` in order inside the caller's transaction, with one lock
/// of the head, one INSERT (per bind-limit chunk) and one move of the head
/// however many there are.
async fn append_all_in(tx: &mut Tx, events: Vec<AuditEvent>) -> StoreResult<Vec<AuditRecord>> {
    let ends = lock_chain(tx).await?;
    let mut head = ends.head;
    let mut records = Vec::with_capacity(events.len());
    for event in events {
        let record = event.sequence(head.seq + 1, &head.hash, &mut || rand::random::<[u8; 16]>());
        head = ChainLink {
            seq: record.seq,
            hash: record.hash.clone(),
        };
        records.push(record);
    }
    insert_records(tx, &records).await?;
    sqlx::query("UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1")
        .bind(db_seq(head.seq))
        .bind(&head.hash)
        .execute(&mut **tx)
        .await?;
    for record in &records {
        metrics::counter!("gantry_audit_events_total", "outcome" => record.outcome.as_str())
            .increment(1);
    }
    Ok(records)
}

/// Inserts sequenced records: each row without its personal values, which
/// go to `audit_personal` (rows of format 1 keep theirs: only the
/// conversion writes those, through [`rewrite_records`]).
async fn insert_records(tx: &mut Tx, records: &[AuditRecord]) -> StoreResult<()> {
    let rows: Vec<AuditRecord> = records.iter().map(personal::without_values).collect();
    // 19 columns: 256 rows stay under both databases' bind limits.
    for chunk in rows.chunks(256) {
        let mut insert =
            QueryBuilder::<Db>::new(format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) "));
        insert.push_values(chunk, |mut row, record| {
            row.push_bind(db_seq(record.seq))
                .push_bind(record.at)
                .push_bind(record.actor.kind.as_str())
                .push_bind(record.actor.id.clone())
                .push_bind(record.actor.name.clone())
                .push_bind(record.action.clone())
                .push_bind(record.resource.clone())
                .push_bind(record.environment.clone())
                .push_bind(record.outcome.as_str())
                .push_bind(record.request_id.clone())
                .push_bind(record.trace_id.clone())
                .push_bind(record.source_ip.clone())
                .push_bind(record.user_agent.clone())
                .push_bind(canonical_json(&record.details))
                .push_bind(record.prev_hash.clone())
                .push_bind(record.hash.clone())
                .push_bind(i32::from(record.format))
                .push_bind(personal_column(record))
                .push_bind(record.legacy_hash.clone());
        });
        insert.build().execute(&mut **tx).await?;
    }
    insert_sealed(tx, records).await
}

/// The `personal` column: subjects and digests, never salts or values.
pub(super) fn personal_column(record: &AuditRecord) -> Option<String> {
    if record.format == personal::FORMAT_PLAIN {
        return None;
    }
    Some(canonical_json(&personal::commitments(record)))
}

pub(super) async fn insert_sealed(tx: &mut Tx, records: &[AuditRecord]) -> StoreResult<()> {
    let sealed: Vec<personal::SealedValue> =
        records.iter().flat_map(personal::sealed_values).collect();
    for chunk in sealed.chunks(1000) {
        let mut insert = QueryBuilder::<Db>::new(
            "INSERT INTO audit_personal (seq, field, subject, salt, value) ",
        );
        insert.push_values(chunk, |mut row, v| {
            row.push_bind(db_seq(v.seq))
                .push_bind(v.field.clone())
                .push_bind(v.subject.clone())
                .push_bind(v.salt.clone())
                .push_bind(v.value.clone());
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes a group of appends in one transaction and answers each caller.
/// Should the group fail, each record is tried again alone, so one bad
/// record fails only its own caller.
async fn write_batch(writes: &Writer<Db>, records: Vec<Pending>) {
    let together = async {
        let mut tx = begin_write(writes).await?;
        let events = records.iter().map(|(event, _)| event.clone()).collect();
        let written = append_all_in(&mut tx, events).await?;
        tx.commit().await?;
        StoreResult::Ok(written)
    };
    match together.await {
        Ok(written) => {
            for ((_, answer), record) in records.into_iter().zip(written) {
                // A caller that gave up no longer listens; its record stays.
                let _ = answer.send(Ok(record));
            }
        }
        Err(e) if records.len() > 1 => {
            tracing::warn!(error = %e, records = records.len(), "a group of audit records failed; writing each alone");
            for (event, answer) in records {
                let _ = answer.send(append_alone(writes, event).await);
            }
        }
        Err(e) => {
            if let Some((_, answer)) = records.into_iter().next() {
                let _ = answer.send(Err(e));
            }
        }
    }
}

async fn append_alone(writes: &Writer<Db>, event: AuditEvent) -> StoreResult<AuditRecord> {
    let mut tx = begin_write(writes).await?;
    let record = append_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(record)
}

pub(super) fn checkpoint_from_row(row: &DbRow) -> StoreResult<Checkpoint> {
    Ok(Checkpoint {
        seq: seq_of(row.try_get("seq")?)?,
        hash: row.try_get("hash")?,
        signed_at: row.try_get("signed_at")?,
        key_id: row.try_get("key_id")?,
        signature: row.try_get("signature")?,
    })
}

#[async_trait]
impl AuditStore for Adapter {
    /// Committed in a group with the appends waiting beside it
    /// (`audit_batch.rs`).
    async fn append_audit(&self, event: AuditEvent) -> StoreResult<AuditRecord> {
        let answered = self.audit_batch.enqueue(event);
        let batch = self.audit_batch.clone();
        let writes = self.writes.clone();
        tokio::spawn(async move {
            if let Some((_leading, records)) = batch.lead().await {
                write_batch(&writes, records).await;
            }
        });
        // Closed unanswered only if the writing task died (a panic, the
        // runtime shutting down): the record may not be written.
        answered
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }

    async fn audit_page(&self, filter: &AuditFilter) -> StoreResult<AuditPage> {
        let limit = filter.limit();
        let mut q =
            QueryBuilder::<Db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1"));
        if let Some(actor) = &filter.actor {
            // A person's name in a record of format 2 is kept apart.
            q.push(" AND (actor_id = ")
                .push_bind(actor.clone())
                .push(" OR actor_name = ")
                .push_bind(actor.clone())
                .push(
                    " OR seq IN (SELECT seq FROM audit_personal WHERE field = 'actor.name' AND value = ",
                )
                .push_bind(canonical_json(&serde_json::Value::String(actor.clone())))
                .push("))");
        }
        if let Some(action) = &filter.action {
            push_exact_or_prefix(&mut q, "action", action, '.');
        }
        if let Some(resource) = &filter.resource {
            push_exact_or_prefix(&mut q, "resource", resource, '/');
        }
        if let Some(env) = &filter.environment {
            q.push(" AND environment = ").push_bind(env.clone());
        }
        if let Some(outcome) = &filter.outcome {
            q.push(" AND outcome = ").push_bind(outcome.clone());
        }
        if let Some(since) = filter.since {
            q.push(" AND at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND at < ").push_bind(until);
        }
        if let Some(before) = filter.before {
            q.push(" AND seq < ").push_bind(db_seq(before));
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut records = records_from_rows(&rows, &mut *self.pool.acquire().await?).await?;
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next_before = if more {
            records.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(AuditPage {
            records,
            next_before,
        })
    }

    async fn audit_record(&self, seq: u64) -> StoreResult<Option<AuditRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq = $1"
        ))
        .bind(db_seq(seq))
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            records_from_rows(row.as_slice(), &mut *self.pool.acquire().await?)
                .await?
                .pop(),
        )
    }

    async fn audit_chain_ends(&self) -> StoreResult<ChainEnds> {
        let row = sqlx::query(CHAIN_ENDS).fetch_one(&self.pool).await?;
        ends_from_row(&row)
    }

    async fn audit_records_after(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(db_seq(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        records_from_rows(&rows, &mut *self.pool.acquire().await?).await
    }

    async fn audit_checkpoints(&self, after: u64) -> StoreResult<Vec<Checkpoint>> {
        let rows = sqlx::query(
            "SELECT seq, hash, signed_at, key_id, signature FROM audit_checkpoints
             WHERE seq > $1 ORDER BY seq",
        )
        .bind(db_seq(after))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    async fn insert_audit_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
        )
        .bind(db_seq(checkpoint.seq))
        .bind(&checkpoint.hash)
        .bind(checkpoint.signed_at)
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(&mut *self.writes.connection().await?)
        .await?;
        Ok(())
    }

    async fn archive_audit(
        &self,
        from: &ChainLink,
        through: &ChainLink,
        note: AuditEvent,
    ) -> StoreResult<Option<Archived>> {
        let mut tx = begin_write(&self.writes).await?;
        let ends = lock_chain(&mut tx).await?;
        let at_through: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(db_seq(through.seq))
                .fetch_optional(&mut *tx)
                .await?;
        if ends.anchor != *from || at_through.as_deref() != Some(through.hash.as_str()) {
            return Ok(None);
        }
        let deleted = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(db_seq(through.seq))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM audit_personal WHERE seq <= $1")
            .bind(db_seq(through.seq))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM audit_checkpoints WHERE seq <= $1")
            .bind(db_seq(through.seq))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_chain SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1")
            .bind(db_seq(through.seq))
            .bind(&through.hash)
            .execute(&mut *tx)
            .await?;
        let note = note
            .detail("from_seq", from.seq + 1)
            .detail("through_seq", through.seq)
            .detail("through_hash", through.hash.clone())
            .detail("records", deleted);
        let note = append_in(&mut tx, note).await?;
        tx.commit().await?;
        Ok(Some(Archived {
            from: from.clone(),
            to: through.clone(),
            note,
        }))
    }

    async fn convert_plain_audit(
        &self,
        note: AuditEvent,
    ) -> StoreResult<Result<Option<Converted>, Break>> {
        super::audit_convert::convert(&self.writes, note).await
    }

    async fn lease_audit_sink(
        &self,
        holder: SinkHolder<'_>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(
            "INSERT INTO audit_sink_cursors (sink, delivered_seq, updated_at) VALUES ($1, 0, $2)
             ON CONFLICT (sink) DO NOTHING",
        )
        .bind(holder.sink)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let delivered: Option<i64> = sqlx::query_scalar(
            "UPDATE audit_sink_cursors SET leased_by = $1, lease_until = $2
             WHERE sink = $3 AND (leased_by IS NULL OR leased_by = $1 OR lease_until < $4)
             RETURNING delivered_seq",
        )
        .bind(holder.owner)
        .bind(lease_until)
        .bind(holder.sink)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        delivered.map(seq_of).transpose()
    }

    async fn release_audit_sink(&self, holder: SinkHolder<'_>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE audit_sink_cursors SET leased_by = NULL, lease_until = NULL
             WHERE sink = $1 AND leased_by = $2",
        )
        .bind(holder.sink)
        .bind(holder.owner)
        .execute(&mut *self.writes.connection().await?)
        .await?;
        Ok(())
    }

    async fn set_audit_sink_cursor(
        &self,
        holder: SinkHolder<'_>,
        delivered: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE audit_sink_cursors SET delivered_seq = $1, updated_at = $2
             WHERE sink = $3 AND leased_by = $4",
        )
        .bind(db_seq(delivered))
        .bind(now)
        .bind(holder.sink)
        .bind(holder.owner)
        .execute(&mut *self.writes.connection().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// `value` matches exactly, or as a family when it ends in `sep`
/// (`run.` → every run action). LIKE metacharacters in the prefix are
/// escaped so user input can't widen the match.
fn push_exact_or_prefix(q: &mut QueryBuilder<'_, Db>, column: &str, value: &str, sep: char) {
    if value.ends_with(sep) {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q.push(format!(" AND {column} LIKE "))
            .push_bind(format!("{escaped}%"))
            .push(" ESCAPE '\\'");
    } else {
        q.push(format!(" AND {column} = "))
            .push_bind(value.to_owned());
    }
}
