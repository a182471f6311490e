//! `serve`'s flow control (docs/security.md, "Rate limits" and
//! "Backpressure"): quotas per request class, where buckets live, what
//! happens when that store can't be reached, and the limits on unfinished
//! runs.

use crate::ratelimit::{BucketStore, LimiterSettings};
use crate::store::DatabaseUrl;
use crate::store::runs::BacklogLimits;
use clap::{Args, ValueEnum};
use gantry_core::ratelimit::{Quota, RouteClass};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Args)]
pub struct FlowControlFlags {
    /// Quotas per request class, replacing the defaults for the classes named: CLASS=QUOTA,
    /// comma-separated, QUOTA as REQUESTS/WINDOW (600/1m) or off. Classes: read, trigger, write,
    /// sign_in, scim, webhook. Defaults: read=1200/10s, trigger=300/1m, write=600/1m,
    /// sign_in=30/1m, scim=1200/1m, webhook=600/1m.
    #[arg(
        long = "rate-limit",
        env = "GANTRY_RATE_LIMITS",
        value_name = "CLASS=QUOTA,…",
        value_delimiter = ','
    )]
    pub rate_limits: Vec<String>,

    /// Where buckets live: memory (this process's: exact for one process) or database (shared
    /// by every process on the database) [default: memory on SQLite, database on PostgreSQL].
    #[arg(long, env = "GANTRY_RATE_LIMIT_STORE", value_enum)]
    pub rate_limit_store: Option<StoreArg>,

    /// Classes let through when the bucket store can't be reached (the others get 503), or
    /// none.
    #[arg(
        long,
        env = "GANTRY_RATE_LIMIT_FAIL_OPEN",
        value_name = "CLASS,…",
        value_delimiter = ',',
        default_value = "read"
    )]
    pub rate_limit_fail_open: Vec<String>,

    /// Backpressure: a trigger (API, dashboard, webhook) of a workflow with this many unfinished
    /// (queued or running) runs in the environment gets 429, and its schedule skips the slot
    /// (0: no limit).
    #[arg(
        long,
        env = "GANTRY_MAX_UNFINISHED_RUNS_PER_WORKFLOW",
        value_name = "N",
        default_value_t = 1000
    )]
    pub max_unfinished_runs_per_workflow: u32,

    /// Backpressure: likewise for all workflows of one environment together (0: no limit).
    #[arg(
        long,
        env = "GANTRY_MAX_UNFINISHED_RUNS_PER_ENVIRONMENT",
        value_name = "N",
        default_value_t = 5000
    )]
    pub max_unfinished_runs_per_environment: u32,

    /// Backpressure: likewise for the whole server, answered 503 (saturated) rather than 429
    /// (0: no limit).
    #[arg(
        long,
        env = "GANTRY_MAX_UNFINISHED_RUNS",
        value_name = "N",
        default_value_t = 20000
    )]
    pub max_unfinished_runs: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StoreArg {
    Memory,
    Database,
}

fn class(text: &str, flag: &str) -> Result<RouteClass, String> {
    RouteClass::parse(text.trim()).ok_or_else(|| {
        format!(
            "{flag}: unknown class {text:?}; classes are read, trigger, write, sign_in, scim, webhook"
        )
    })
}

impl FlowControlFlags {
    pub fn backlog(&self) -> BacklogLimits {
        BacklogLimits {
            per_workflow: self.max_unfinished_runs_per_workflow,
            per_environment: self.max_unfinished_runs_per_environment,
            total: self.max_unfinished_runs,
        }
    }

    pub fn settings(&self, database: &DatabaseUrl) -> Result<LimiterSettings, String> {
        let mut defaults = LimiterSettings::shipped_defaults();
        for item in self.rate_limits.iter().filter(|i| !i.trim().is_empty()) {
            let (name, quota) = item.split_once('=').ok_or_else(|| {
                format!("--rate-limit {item:?}: write CLASS=QUOTA, like read=1200/10s")
            })?;
            let quota = Quota::parse(quota).map_err(|e| format!("--rate-limit: {e}"))?;
            defaults.insert(class(name, "--rate-limit")?, quota);
        }
        let mut fail_open = BTreeSet::new();
        for item in &self.rate_limit_fail_open {
            if !matches!(item.trim(), "" | "none") {
                fail_open.insert(class(item, "--rate-limit-fail-open")?);
            }
        }
        let store = match (self.rate_limit_store, database) {
            (Some(StoreArg::Memory), _) | (None, DatabaseUrl::Sqlite(_)) => BucketStore::Memory,
            (Some(StoreArg::Database), _) | (None, DatabaseUrl::Postgres(_)) => {
                BucketStore::Database
            }
        };
        Ok(LimiterSettings {
            defaults,
            fail_open,
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(limits: &[&str], store: Option<StoreArg>, open: &[&str]) -> FlowControlFlags {
        FlowControlFlags {
            rate_limits: limits.iter().map(|s| (*s).to_owned()).collect(),
            rate_limit_store: store,
            rate_limit_fail_open: open.iter().map(|s| (*s).to_owned()).collect(),
            max_unfinished_runs_per_workflow: 0,
            max_unfinished_runs_per_environment: 0,
            max_unfinished_runs: 0,
        }
    }

    #[test]
    fn classes_named_replace_their_defaults_and_the_store_follows_the_database() {
        let sqlite = DatabaseUrl::Sqlite("sqlite::memory:".into());
        let pg = DatabaseUrl::Postgres("postgres://x@y/z".into());
        let s = flags(&["read=off", "trigger=5/1s"], None, &["read"])
            .settings(&sqlite)
            .unwrap();
        assert_eq!(s.defaults[&RouteClass::Read], None);
        assert_eq!(
            s.defaults[&RouteClass::Trigger].unwrap().to_string(),
            "5/1s"
        );
        assert_eq!(
            s.defaults[&RouteClass::Write].unwrap().to_string(),
            "600/1m"
        );
        assert_eq!(s.store, BucketStore::Memory);
        assert_eq!(s.fail_open, BTreeSet::from([RouteClass::Read]));
        let s = flags(&[], None, &["none"]).settings(&pg).unwrap();
        assert_eq!(s.store, BucketStore::Database);
        assert!(s.fail_open.is_empty());
        let s = flags(&[], Some(StoreArg::Memory), &[])
            .settings(&pg)
            .unwrap();
        assert_eq!(s.store, BucketStore::Memory);
    }

    #[test]
    fn bad_flags_say_what_to_write() {
        let sqlite = DatabaseUrl::Sqlite("sqlite::memory:".into());
        for (limits, open, needle) in [
            (&["read"][..], &[][..], "CLASS=QUOTA"),
            (&["reads=1/1s"][..], &[][..], "unknown class"),
            (&["read=1/1d"][..], &[][..], "REQUESTS/WINDOW"),
            (&[][..], &["writes"][..], "--rate-limit-fail-open"),
        ] {
            let e = flags(limits, None, open).settings(&sqlite).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
    }
}
