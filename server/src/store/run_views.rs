//! Reading runs: the run list (filtered and paged in SQL), one run with
//! its steps and attempts, and its log lines. Both adapters implement it
//! from `portable/run_views.rs`.

use super::StoreResult;
use async_trait::async_trait;
use gantry_core::run::{LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary};

#[async_trait]
pub trait RunViewStore: Send + Sync + 'static {
    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<RunPage>;

    async fn run_detail(&self, id: &str) -> StoreResult<Option<RunDetail>>;

    async fn run_summary(&self, id: &str) -> StoreResult<Option<RunSummary>>;

    async fn run_logs(&self, id: &str, query: &LogQuery) -> StoreResult<Option<LogPage>>;
}
