//! Rate limits at the edge (docs/security.md, "Rate limits"): each request
//! of a limited class (`gantry_core::ratelimit::classify`) spends one from
//! its principal's bucket (or its address's, before anyone is signed in),
//! sized by the class's default quota or an admin's override. Buckets are
//! GCRA states kept in this process (`memory`) or in the database
//! (`database`, the default on PostgreSQL), where every process sharing it
//! spends from the same buckets. Both run `gantry_core::ratelimit::admit`,
//! so they answer alike, headers included.

mod memory;
pub mod middleware;

use crate::store::SharedStore;
use gantry_core::ratelimit::{
    ClassDefault, Quota, RateLimitOverride, RateLimits, RouteClass, Standing,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where buckets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketStore {
    /// This process's memory: exact for one process.
    Memory,
    /// The database: one upsert per check, shared by every process.
    Database,
}

impl BucketStore {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketStore::Memory => "memory",
            BucketStore::Database => "database",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LimiterSettings {
    /// Each class's quota (`None`: unlimited).
    pub defaults: BTreeMap<RouteClass, Option<Quota>>,
    /// Classes let through when the bucket store can't be reached (the
    /// others get 503).
    pub fail_open: BTreeSet<RouteClass>,
    pub store: BucketStore,
}

impl LimiterSettings {
    /// The shipped defaults: generous for people and scripts, tight for
    /// what attackers try first (signing in, unsigned webhook floods).
    pub fn shipped_defaults() -> BTreeMap<RouteClass, Option<Quota>> {
        let q = |requests, window_seconds| {
            Some(Quota {
                requests,
                window_seconds,
            })
        };
        BTreeMap::from([
            (RouteClass::Read, q(1200, 10)),
            (RouteClass::Trigger, q(300, 60)),
            (RouteClass::Write, q(600, 60)),
            (RouteClass::SignIn, q(30, 60)),
            (RouteClass::Scim, q(1200, 60)),
            (RouteClass::Webhook, q(600, 60)),
        ])
    }

    /// No limits at all (the CLI's one-shot plane, which serves nothing).
    pub fn off() -> Self {
        LimiterSettings {
            defaults: RouteClass::ALL.into_iter().map(|c| (c, None)).collect(),
            fail_open: RouteClass::ALL.into_iter().collect(),
            store: BucketStore::Memory,
        }
    }
}

/// Overrides are read again this often, so another process's change
/// applies here within it (this process's own apply at once).
const OVERRIDES_MAX_AGE: Duration = Duration::from_secs(5);

struct CachedOverrides {
    rules: Arc<Vec<RateLimitOverride>>,
    loaded_at: Option<Instant>,
    generation: u64,
}

/// The store could not say: the class's failure mode decides.
#[derive(Debug)]
pub struct StoreUnavailable;

pub struct Limiter {
    settings: LimiterSettings,
    store: SharedStore,
    memory: memory::Buckets,
    overrides: RwLock<CachedOverrides>,
    generation: AtomicU64,
}

impl Limiter {
    pub fn new(settings: LimiterSettings, store: SharedStore) -> Arc<Self> {
        Arc::new(Limiter {
            settings,
            store,
            memory: memory::Buckets::default(),
            overrides: RwLock::new(CachedOverrides {
                rules: Arc::new(Vec::new()),
                loaded_at: None,
                generation: 0,
            }),
            generation: AtomicU64::new(1),
        })
    }

    pub fn default_quota(&self, class: RouteClass) -> Option<Quota> {
        self.settings.defaults.get(&class).copied().flatten()
    }

    pub fn fails_open(&self, class: RouteClass) -> bool {
        self.settings.fail_open.contains(&class)
    }

    /// What the Admin page and `GET /api/v1/rate-limits` show.
    pub fn view(&self, overrides: Vec<RateLimitOverride>) -> RateLimits {
        RateLimits {
            defaults: RouteClass::ALL
                .into_iter()
                .map(|class| ClassDefault {
                    class,
                    quota: self.default_quota(class),
                    fail_open: self.fails_open(class),
                })
                .collect(),
            overrides,
            store: self.settings.store.as_str().to_owned(),
        }
    }

    /// An override changed here: the next check reads them again.
    pub fn overrides_changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The overrides in force, read again when stale. When the database
    /// can't be read the last ones stay (logged): limits keep working.
    pub async fn overrides(&self) -> Arc<Vec<RateLimitOverride>> {
        let generation = self.generation.load(Ordering::Relaxed);
        {
            let cached = self.overrides.read().unwrap_or_else(|e| e.into_inner());
            let fresh = cached
                .loaded_at
                .is_some_and(|at| at.elapsed() < OVERRIDES_MAX_AGE);
            if fresh && cached.generation == generation {
                return cached.rules.clone();
            }
        }
        match self.store.rate_limit_overrides().await {
            Ok(rules) => {
                let rules = Arc::new(rules);
                let mut cached = self.overrides.write().unwrap_or_else(|e| e.into_inner());
                *cached = CachedOverrides {
                    rules: rules.clone(),
                    loaded_at: Some(Instant::now()),
                    generation,
                };
                rules
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read rate-limit overrides; keeping the last ones");
                self.overrides
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .rules
                    .clone()
            }
        }
    }

    /// Spends one request from `key`'s bucket.
    pub async fn check(&self, key: &str, quota: Quota) -> Result<Standing, StoreUnavailable> {
        let now = now_micros();
        let (allowed, tat) = match self.settings.store {
            BucketStore::Memory => self.memory.take(key, quota, now),
            BucketStore::Database => match self.store.take_rate_limit(key, quota, now).await {
                Ok(taken) => (taken.allowed, taken.tat),
                Err(e) => {
                    tracing::warn!(error = %e, "rate-limit store unavailable");
                    return Err(StoreUnavailable);
                }
            },
        };
        Ok(if allowed {
            Standing::allowed(quota, tat, now)
        } else {
            Standing::refused(quota, tat, now)
        })
    }

    /// Forgets buckets that are full again (they'd read the same as none),
    /// every minute, for as long as the server runs.
    pub fn spawn_purge(self: &Arc<Self>) {
        let limiter = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                let now = now_micros();
                match limiter.settings.store {
                    BucketStore::Memory => limiter.memory.purge(now),
                    BucketStore::Database => {
                        if let Err(e) = limiter.store.purge_rate_limit_buckets(now).await {
                            tracing::warn!(error = %e, "could not purge rate-limit buckets");
                        }
                    }
                }
            }
        });
    }
}

/// Wall-clock microseconds: buckets in the database are shared by
/// processes on several machines, so they count in the same time (keep
/// their clocks in sync, as the audit log's timestamps already ask).
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
