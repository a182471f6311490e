//! Waking workers when steps become claimable, instead of polling. Within a
//! process this is a `tokio::sync::Notify`; on PostgreSQL the adapter also
//! forwards `NOTIFY gantry_work` from other processes into it.

use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct WorkSignal {
    notify: Arc<Notify>,
    /// This store's name on its `NOTIFY gantry_work`: its own notifications
    /// come back through its `LISTEN` after the local signal already woke
    /// its workers, and are skipped (each would cost an empty claim). Per
    /// store, not per process: tests run several servers in one process.
    tag: Arc<str>,
}

impl Default for WorkSignal {
    fn default() -> Self {
        Self {
            notify: Arc::default(),
            tag: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }
}

impl WorkSignal {
    /// Wakes every worker loop currently waiting.
    pub fn notify(&self) {
        self.notify.notify_waiters();
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// A future that completes at the next [`Self::notify`]. Create (and
    /// `enable`) it *before* checking for work so a wake-up between the check
    /// and the wait is not lost.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}
