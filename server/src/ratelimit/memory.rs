//! Buckets in this process's memory: a TAT per key, in shards so
//! concurrent requests rarely wait on one lock. The same GCRA step as the
//! database store (`gantry_core::ratelimit::admit`), so both answer alike.

use gantry_core::ratelimit::{Quota, admit};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

const SHARDS: usize = 16;

pub struct Buckets {
    shards: [Mutex<HashMap<String, i64>>; SHARDS],
    hasher: RandomState,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: RandomState::new(),
        }
    }
}

impl Buckets {
    /// One request against `key` at `now` (µs): allowed or not, and the
    /// bucket's TAT after it.
    pub fn take(&self, key: &str, quota: Quota, now: i64) -> (bool, i64) {
        let shard = usize::try_from(self.hasher.hash_one(key)).unwrap_or(0) % SHARDS;
        let mut map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let (allowed, tat) = admit(quota, map.get(key).copied(), now);
        if allowed {
            map.insert(key.to_owned(), tat);
        }
        (allowed, tat)
    }

    /// Drops buckets full again by `now`.
    pub fn purge(&self, now: i64) {
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|_, tat| *tat >= now);
        }
    }
}
