//! `serve`'s rate limits (docs/security.md, "Rate limits"): quotas per
//! request class, where buckets live, and what happens when that store
//! can't be reached.

use crate::ratelimit::{BucketStore, LimiterSettings};
use crate::store::DatabaseUrl;
use clap::{Args, ValueEnum};
use gantry_core::ratelimit::{Quota, RouteClass};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Args)]
pub struct RateLimitFlags {
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

impl RateLimitFlags {
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

    fn flags(limits: &[&str], store: Option<StoreArg>, open: &[&str]) -> RateLimitFlags {
        RateLimitFlags {
            rate_limits: limits.iter().map(|s| (*s).to_owned()).collect(),
            rate_limit_store: store,
            rate_limit_fail_open: open.iter().map(|s| (*s).to_owned()).collect(),
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
