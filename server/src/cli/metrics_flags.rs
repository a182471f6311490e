//! How `serve` keeps its metrics' series in bounds (`serve` only; see
//! docs/observability.md, "Cardinality").

use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct MetricsFlags {
    /// Distinct `workflow` label values the metrics report; runs of further workflows are
    /// counted under workflow="_other".
    #[arg(
        long,
        env = "GANTRY_METRICS_WORKFLOW_CAP",
        value_name = "N",
        default_value_t = crate::runtime::metrics::DEFAULT_WORKFLOW_CAP
    )]
    pub metrics_workflow_cap: usize,

    /// A workflow's series (runs started and finished, durations, schedule delays) leave the
    /// metrics once unused this long, and its place under --metrics-workflow-cap frees (0: never).
    /// Keep it longer than your least frequent workflow's interval: a series that left comes back
    /// at 1, which `increase()` misses.
    #[arg(long, env = "GANTRY_METRICS_SERIES_IDLE", value_name = "DURATION",
          default_value = "14d", value_parser = humantime::parse_duration)]
    pub metrics_series_idle: Duration,
}
