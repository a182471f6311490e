//! Group commit of the audit records written on their own (a denial, a
//! sign-in, a verification): every append locks the chain's single head
//! row, so concurrent appends, each in its own transaction, queued behind
//! each other's commit (on PostgreSQL with 4 writers a third of the rate of
//! plain inserts). Appends waiting at the same moment now share one
//! transaction: one head lock, one commit, each record still chained in
//! order and each caller answered only once its record is committed (fail
//! closed). Records written with the change they record (`append_in`
//! inside the change's transaction) are not batched: they commit with it.
//!
//! No background task: each append queues its record and spawns a short
//! leader attempt; whichever attempt gets the leader's lock first writes
//! everything queued, and the rest find nothing left (or the next batch).
//! Spawned, so a caller that gives up (a dropped request) never abandons a
//! batch holding other callers' records.

use super::StoreResult;
use gantry_core::audit::{AuditEvent, AuditRecord};
use std::sync::Mutex;
use tokio::sync::{MutexGuard, oneshot};

/// The most records one transaction writes; more wait for the next one.
const MAX_BATCH: usize = 256;

/// An appended event and where its caller waits for the outcome.
pub(super) type Pending = (AuditEvent, oneshot::Sender<StoreResult<AuditRecord>>);

#[derive(Debug, Default)]
pub(super) struct AuditBatch {
    pending: Mutex<Vec<Pending>>,
    leader: tokio::sync::Mutex<()>,
}

impl AuditBatch {
    /// Queues `event`; the receiver answers once it is written (or not).
    pub(super) fn enqueue(&self, event: AuditEvent) -> oneshot::Receiver<StoreResult<AuditRecord>> {
        let (answer, answered) = oneshot::channel();
        self.queue().push((event, answer));
        answered
    }

    /// The leader's lock and the records queued so far (up to
    /// [`MAX_BATCH`]), or None when an earlier leader took them all.
    pub(super) async fn lead(&self) -> Option<(MutexGuard<'_, ()>, Vec<Pending>)> {
        let guard = self.leader.lock().await;
        let mut queue = self.queue();
        if queue.is_empty() {
            return None;
        }
        let take = queue.len().min(MAX_BATCH);
        let batch = queue.drain(..take).collect();
        drop(queue);
        Some((guard, batch))
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // A panic while holding this plain push/drain lock leaves the Vec
        // whole: the poison carries no meaning here.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
