//! How long `serve` keeps run history and notification history
//! (docs/privacy.md, "Retention"); by default, for ever.

use clap::Args;
use gantry_core::retention::{PerEnvironment, Retention};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct RetentionFlags {
    /// Finished runs (steps, attempts, logs) are deleted this long after they finished: one
    /// duration (`400d`) or per environment (`prod=400d,dev=90d,*=180d`); at least 90 days (SLOs
    /// look back that far). Default: kept for ever.
    #[arg(
        long,
        env = "GANTRY_RETAIN_RUNS",
        value_name = "[ENV=]DURATION,…",
        default_value = ""
    )]
    pub retain_runs: String,

    /// Step logs of finished runs are deleted this long after the run finished (the run stays,
    /// saying its logs were purged); as --retain-runs, at least 1 day, at most the runs'.
    #[arg(
        long,
        env = "GANTRY_RETAIN_STEP_LOGS",
        value_name = "[ENV=]DURATION,…",
        default_value = ""
    )]
    pub retain_step_logs: String,

    /// Alert notifications delivered or given up on, and alert state changes, are deleted this
    /// long after (at least 1 day; empty: kept for ever).
    #[arg(
        long,
        env = "GANTRY_RETAIN_NOTIFICATIONS",
        value_name = "DURATION",
        default_value = ""
    )]
    pub retain_notifications: String,

    /// How often the purge looks for what is due (each pass deletes in batches of 500, each
    /// batch audited).
    #[arg(long, env = "GANTRY_RETENTION_INTERVAL", value_name = "DURATION",
          default_value = "10m", value_parser = humantime::parse_duration)]
    pub retention_interval: Duration,
}

impl RetentionFlags {
    /// The settings, checked against the environments that exist.
    pub fn retention(&self, environments: &[String]) -> Result<Retention, String> {
        let parse = |t: &str| humantime::parse_duration(t).map_err(|e| e.to_string());
        let notifications = match self.retain_notifications.trim() {
            "" => None,
            text => Some(
                parse(text)
                    .map_err(|e| format!("--retain-notifications: {text:?}: {e}"))?
                    .as_secs(),
            ),
        };
        let retention = Retention {
            runs: PerEnvironment::parse(&self.retain_runs, "--retain-runs", parse)?,
            step_logs: PerEnvironment::parse(&self.retain_step_logs, "--retain-step-logs", parse)?,
            notifications_seconds: notifications,
        };
        retention.validate(environments)?;
        if self.retention_interval < Duration::from_secs(1) {
            return Err("--retention-interval: at least 1s".into());
        }
        Ok(retention)
    }
}
