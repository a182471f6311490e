//! An optional short cache in front of a provider (`--secrets-cache-ttl
//! vault=30s`), for providers whose reads are rate-limited or slow. Off by
//! default: without it every attempt fetches afresh, so a rotation is
//! picked up by the next attempt. With it, a value may be up to the TTL old
//! unless invalidated (`gantry secrets invalidate REF`), and cached values
//! live in this process's memory for that long (never on disk). Dynamic
//! credentials are never cached: each attempt needs its own lease.

use super::SharedProvider;
use async_trait::async_trait;
use gantry_core::secret::{
    FetchError, FetchRequest, Fetched, ProviderHealth, SecretLease, SecretProvider,
};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

type Key = (String, Option<String>);

pub struct CachedProvider {
    inner: SharedProvider,
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Instant, Fetched)>>,
}

impl CachedProvider {
    pub fn new(inner: SharedProvider, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(request: &FetchRequest<'_>) -> Key {
        (request.path.to_owned(), request.key.map(str::to_owned))
    }
}

#[async_trait]
impl SecretProvider for CachedProvider {
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
        let key = Self::key(&request);
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, fetched)) = entries.get(&key)
                && at.elapsed() < self.ttl
            {
                return Ok(fetched.clone());
            }
        }
        let fetched = self.inner.fetch(request).await?;
        if fetched.lease.is_none() {
            self.entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, (Instant::now(), fetched.clone()));
        }
        Ok(fetched)
    }

    async fn renew(
        &self,
        lease: &SecretLease,
        increment: Duration,
    ) -> Result<Duration, FetchError> {
        self.inner.renew(lease, increment).await
    }

    async fn revoke(&self, lease: &SecretLease) -> Result<(), FetchError> {
        self.inner.revoke(lease).await
    }

    async fn invalidate(&self, target: Option<FetchRequest<'_>>) -> usize {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match target {
            Some(request) => usize::from(entries.remove(&Self::key(&request)).is_some()),
            None => {
                let n = entries.len();
                entries.clear();
                n
            }
        }
    }

    async fn health(&self) -> ProviderHealth {
        self.inner.health().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::secret::SecretValue;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Counts fetches; each answers a new value.
    struct Counting(AtomicU32);

    #[async_trait]
    impl SecretProvider for Counting {
        async fn fetch(&self, _: FetchRequest<'_>) -> Result<Fetched, FetchError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Fetched {
                value: SecretValue::new(format!("value-{n}")).unwrap(),
                version: Some(u64::from(n)),
                lease: None,
                also: Vec::new(),
            })
        }
        async fn health(&self) -> ProviderHealth {
            ProviderHealth {
                reachable: true,
                authenticated: true,
                error: None,
            }
        }
    }

    fn req(path: &str) -> FetchRequest<'_> {
        FetchRequest {
            path,
            key: Some("k"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn values_are_reused_for_the_ttl_and_invalidation_drops_them() {
        let cache = CachedProvider::new(
            Arc::new(Counting(AtomicU32::new(0))),
            Duration::from_secs(30),
        );
        let value = |f: Fetched| f.value.expose().to_owned();
        assert_eq!(value(cache.fetch(req("a")).await.unwrap()), "value-1");
        assert_eq!(value(cache.fetch(req("a")).await.unwrap()), "value-1");
        assert_eq!(value(cache.fetch(req("b")).await.unwrap()), "value-2");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(value(cache.fetch(req("a")).await.unwrap()), "value-3");
        assert_eq!(cache.invalidate(Some(req("a"))).await, 1);
        assert_eq!(value(cache.fetch(req("a")).await.unwrap()), "value-4");
        assert_eq!(cache.invalidate(None).await, 2);
        assert_eq!(value(cache.fetch(req("b")).await.unwrap()), "value-5");
    }
}
