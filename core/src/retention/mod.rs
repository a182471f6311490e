//! How long Gantry keeps what it accumulates (issue 22, docs/privacy.md):
//! run records and step logs per environment, and alert notification
//! history. The audit log is never purged here (it has its own archive).
//! This half holds the settings, their bounds and the views; the purge
//! itself is the server's (`store/portable/retention.rs`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

const DAY: u64 = 24 * 60 * 60;

/// Run records feed SLOs over windows of up to this long
/// ([`crate::slo::spec::MAX_WINDOW`]) and alerts over 30 days: purging
/// them sooner would change what those report.
pub const MIN_RUNS: Duration = Duration::from_secs(90 * DAY);
/// Step logs and notification history: at least a day.
pub const MIN_OTHER: Duration = Duration::from_secs(DAY);

/// A duration per environment, with a default for the others; `None`:
/// kept for ever.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerEnvironment {
    /// Seconds, for environments not named below.
    pub default_seconds: Option<u64>,
    /// Seconds, by environment.
    pub environments: BTreeMap<String, u64>,
}

impl PerEnvironment {
    pub fn for_environment(&self, environment: &str) -> Option<Duration> {
        self.environments
            .get(environment)
            .copied()
            .or(self.default_seconds)
            .map(Duration::from_secs)
    }

    /// Parses `30d` (every environment) or `prod=400d,dev=90d,*=180d` with
    /// `parse` reading each duration; `what` names the flag in errors.
    pub fn parse(
        text: &str,
        what: &str,
        parse: impl Fn(&str) -> Result<Duration, String>,
    ) -> Result<Self, String> {
        let mut out = PerEnvironment::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (environment, value) = match part.split_once('=') {
                Some((e, v)) => (e.trim(), v.trim()),
                None => ("*", part),
            };
            let duration = parse(value).map_err(|e| format!("{what}: {value:?}: {e}"))?;
            let seconds = duration.as_secs();
            if environment == "*" {
                if out.default_seconds.replace(seconds).is_some() {
                    return Err(format!(
                        "{what}: the default (* or no environment) is given twice"
                    ));
                }
            } else if environment.is_empty() {
                return Err(format!("{what}: {part:?} names no environment"));
            } else if out
                .environments
                .insert(environment.to_owned(), seconds)
                .is_some()
            {
                return Err(format!("{what}: {environment} is given twice"));
            }
        }
        Ok(out)
    }

    fn check(&self, what: &str, at_least: Duration, environments: &[String]) -> Result<(), String> {
        for (environment, seconds) in self
            .environments
            .iter()
            .map(|(e, s)| (e.as_str(), *s))
            .chain(self.default_seconds.map(|s| ("*", s)))
        {
            if environment != "*" && !environments.iter().any(|e| e == environment) {
                return Err(format!(
                    "{what}: {environment} is not an environment here ({})",
                    environments.join(", ")
                ));
            }
            if Duration::from_secs(seconds) < at_least {
                return Err(format!(
                    "{what}: {} for {environment} is shorter than the least, {} days",
                    days(seconds),
                    at_least.as_secs() / DAY
                ));
            }
        }
        Ok(())
    }
}

fn days(seconds: u64) -> String {
    if seconds.is_multiple_of(DAY) {
        format!("{} days", seconds / DAY)
    } else {
        format!("{seconds} s")
    }
}

/// What `serve` keeps, and for how long.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retention {
    /// Finished runs (with their steps, attempts and logs), by how long ago
    /// they finished.
    pub runs: PerEnvironment,
    /// Step logs of finished runs; the run record stays (its page says the
    /// logs were purged).
    pub step_logs: PerEnvironment,
    /// Alert notifications delivered or given up on, and alert
    /// transitions, in seconds.
    pub notifications_seconds: Option<u64>,
}

impl Retention {
    /// Bounds: runs at least [`MIN_RUNS`], the rest at least [`MIN_OTHER`],
    /// logs no longer than their runs, only environments that exist.
    pub fn validate(&self, environments: &[String]) -> Result<(), String> {
        self.runs.check("--retain-runs", MIN_RUNS, environments)?;
        self.step_logs
            .check("--retain-step-logs", MIN_OTHER, environments)?;
        if let Some(s) = self.notifications_seconds
            && Duration::from_secs(s) < MIN_OTHER
        {
            return Err(format!(
                "--retain-notifications: {} is shorter than the least, 1 day",
                days(s)
            ));
        }
        for environment in environments {
            if let (Some(logs), Some(runs)) = (
                self.step_logs.for_environment(environment),
                self.runs.for_environment(environment),
            ) && logs > runs
            {
                return Err(format!(
                    "--retain-step-logs: {} for {environment} is longer than its runs are kept ({}): a purged run takes its logs",
                    days(logs.as_secs()),
                    days(runs.as_secs())
                ));
            }
        }
        Ok(())
    }

    pub fn is_off(&self) -> bool {
        *self == Retention::default()
    }
}

/// What one purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Purged {
    pub runs: u64,
    /// Runs whose step logs went (the runs themselves stay).
    pub runs_logs_purged: u64,
    pub log_lines: u64,
    pub notifications: u64,
    pub alert_transitions: u64,
}

impl Purged {
    pub fn is_empty(&self) -> bool {
        *self == Purged::default()
    }

    pub fn add(&mut self, other: &Purged) {
        self.runs += other.runs;
        self.runs_logs_purged += other.runs_logs_purged;
        self.log_lines += other.log_lines;
        self.notifications += other.notifications;
        self.alert_transitions += other.alert_transitions;
    }
}

/// The Overview's and `GET /api/v1/retention`'s answer: the settings, the
/// database's size, and what the next purge would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionStatus {
    pub retention: Retention,
    /// The database's size on disk, bytes.
    pub database_bytes: u64,
    /// What the settings would purge now.
    pub due: Purged,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Result<Duration, String> {
        let days: u64 = text
            .strip_suffix('d')
            .ok_or("days only here")?
            .parse()
            .map_err(|e| format!("{e}"))?;
        Ok(Duration::from_secs(days * DAY))
    }

    fn envs() -> Vec<String> {
        ["dev", "stage", "prod"].map(String::from).to_vec()
    }

    #[test]
    fn one_duration_or_one_per_environment() {
        let all = PerEnvironment::parse("120d", "--retain-runs", d).unwrap();
        assert_eq!(
            all.for_environment("prod"),
            Some(Duration::from_secs(120 * DAY))
        );
        let some = PerEnvironment::parse("prod=400d, *=100d", "--retain-runs", d).unwrap();
        assert_eq!(
            some.for_environment("prod"),
            Some(Duration::from_secs(400 * DAY))
        );
        assert_eq!(
            some.for_environment("dev"),
            Some(Duration::from_secs(100 * DAY))
        );
        let only = PerEnvironment::parse("dev=100d", "--retain-runs", d).unwrap();
        assert_eq!(only.for_environment("prod"), None, "kept for ever");
        for bad in ["prod=400d,prod=100d", "100d,*=100d", "=100d", "prod=soon"] {
            assert!(
                PerEnvironment::parse(bad, "--retain-runs", d).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn bounds_are_named() {
        let runs = |t| Retention {
            runs: PerEnvironment::parse(t, "--retain-runs", d).unwrap(),
            ..Retention::default()
        };
        assert!(runs("dev=90d").validate(&envs()).is_ok());
        let short = runs("dev=30d").validate(&envs()).unwrap_err();
        assert!(
            short.contains("--retain-runs") && short.contains("90 days"),
            "{short}"
        );
        let unknown = runs("qa=100d").validate(&envs()).unwrap_err();
        assert!(unknown.contains("qa is not an environment"), "{unknown}");
        let longer_logs = Retention {
            runs: PerEnvironment::parse("100d", "--retain-runs", d).unwrap(),
            step_logs: PerEnvironment::parse("prod=200d", "--retain-step-logs", d).unwrap(),
            ..Retention::default()
        };
        let e = longer_logs.validate(&envs()).unwrap_err();
        assert!(e.contains("longer than its runs"), "{e}");
        let logs = Retention {
            step_logs: PerEnvironment::parse("prod=1d", "--retain-step-logs", d).unwrap(),
            notifications_seconds: Some(0),
            ..Retention::default()
        };
        assert!(
            logs.validate(&envs())
                .unwrap_err()
                .contains("--retain-notifications")
        );
        assert!(Retention::default().is_off());
    }
}
