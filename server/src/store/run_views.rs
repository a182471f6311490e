//! Reading runs: the run list (filtered and paged in SQL), one run with
//! its steps and attempts, its log lines, and the Overview's tallies. Both
//! adapters implement it from `portable/run_views.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::overview::health::RunCount;
use gantry_core::run::{LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary};

#[async_trait]
pub trait RunViewStore: Send + Sync + 'static {
    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<RunPage>;

    async fn run_detail(&self, id: &str) -> StoreResult<Option<RunDetail>>;

    async fn run_summary(&self, id: &str) -> StoreResult<Option<RunSummary>>;

    async fn run_logs(&self, id: &str, query: &LogQuery) -> StoreResult<Option<LogPage>>;

    /// Runs created at or after `since`, counted per environment and
    /// status.
    async fn run_counts_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<RunCount>>;

    /// Failed runs on the Needs attention list, by environment, counted no
    /// further than `ATTENTION_COUNTED + 1` each (environments with none
    /// are left out).
    async fn needs_attention_counts(&self) -> StoreResult<Vec<(String, u32)>>;

    /// Each workflow's newest finished run in each environment.
    async fn last_finished_runs(&self) -> StoreResult<Vec<RunSummary>>;
}
