//! The worker's settings from the `serve`/`worker` flags, so the engine
//! never sees a clap type.

use crate::cli::WorkerFlags;
use crate::engine::WorkerSettings;
use crate::engine::egress::EgressPolicy;
use std::sync::Arc;
use std::time::Duration;

impl WorkerSettings {
    /// Settings from the `serve`/`worker` flags.
    pub fn from_flags(id: String, flags: &WorkerFlags) -> Self {
        let mut s = Self::new(id, flags.work_dir.clone());
        s.slots = flags.worker_slots.max(1);
        s.lease = flags.worker_lease.max(Duration::from_secs(1));
        // Several beats fit in a lease, so one slow round trip loses nothing.
        s.heartbeat = (s.lease / 5).clamp(Duration::from_millis(200), Duration::from_secs(3));
        s.http_egress = Arc::new(EgressPolicy::new(&flags.http_step_allow));
        s
    }
}
