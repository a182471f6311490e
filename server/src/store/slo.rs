//! Service level objectives' reads: which workflow × environment has an
//! SLO in its active version, and exact tallies of its runs over the SLO
//! window, the burn windows and the chart's hours, and the runs that spent
//! budget. Both adapters implement it from `portable/slo.rs`; the maths
//! over the tallies is `gantry_core::slo`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::slo::SloSpec;
use gantry_core::slo::view::{BadRun, HourTally, SloTallies};
use std::time::Duration;

/// A workflow × environment whose active version declares an SLO there.
#[derive(Debug, Clone)]
pub struct ActiveSlo {
    pub workflow: String,
    pub environment: String,
    pub version: u32,
    pub slo: SloSpec,
}

/// Whose runs to count, against which SLO, and the windows' common end.
#[derive(Debug, Clone, Copy)]
pub struct SloQuery<'a> {
    pub workflow: &'a str,
    pub environment: &'a str,
    pub slo: &'a SloSpec,
    pub now: DateTime<Utc>,
}

impl SloQuery<'_> {
    /// The SLO window.
    pub fn window(&self) -> Duration {
        self.slo.window.0
    }

    /// The duration objective's limit; `None` without one.
    pub fn within(&self) -> Option<Duration> {
        self.slo.duration.as_ref().map(|d| d.within.0)
    }
}

#[async_trait]
pub trait SloStore: Send + Sync + 'static {
    /// Every SLO in an active version, by workflow then environment.
    async fn active_slos(&self) -> StoreResult<Vec<ActiveSlo>>;

    /// Tallies over the SLO window and every burn window ending at `now`:
    /// one query.
    async fn slo_tallies(&self, query: SloQuery<'_>) -> StoreResult<SloTallies>;

    /// Tallies per hour (by UTC clock hour) of runs that finished from
    /// `since` to `now`; hours without runs are left out.
    async fn slo_hours(
        &self,
        query: SloQuery<'_>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<HourTally>>;

    /// Runs in the SLO window bad for any objective, newest first, at most
    /// `limit`.
    async fn slo_bad_runs(&self, query: SloQuery<'_>, limit: u32) -> StoreResult<Vec<BadRun>>;
}
