//! Waking workers when steps become claimable, instead of polling. Within a
//! process this is a `tokio::sync::Notify`; on PostgreSQL the adapter also
//! forwards `NOTIFY gantry_work` from other processes into it.

use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct WorkSignal(Arc<Notify>);

impl WorkSignal {
    /// Wakes every worker loop currently waiting.
    pub fn notify(&self) {
        self.0.notify_waiters();
    }

    /// A future that completes at the next [`Self::notify`]. Create (and
    /// `enable`) it *before* checking for work so a wake-up between the check
    /// and the wait is not lost.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.0.notified()
    }
}
