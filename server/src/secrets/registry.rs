//! Which adapter answers a reference: by the reference's provider name, and
//! by the run's environment where that environment has its own (a prod
//! Vault apart from dev's).

use gantry_core::secret::SecretProvider;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub type SharedProvider = Arc<dyn SecretProvider>;

/// The configured providers. Empty by default: a step with references then
/// fails with "not configured" (and apply refuses its spec first).
#[derive(Clone)]
pub struct SecretProviders {
    /// Provider name → adapter, for environments without their own.
    shared: BTreeMap<String, SharedProvider>,
    /// Environment → provider name → adapter used there instead.
    per_environment: BTreeMap<String, BTreeMap<String, SharedProvider>>,
    /// The longest one fetch may take (the step's own timeout may cut it
    /// shorter).
    fetch_timeout: Duration,
    /// Providers with a cache in front, and its TTL.
    cached: BTreeMap<String, Duration>,
}

/// The default bound on one fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for SecretProviders {
    fn default() -> Self {
        Self {
            shared: BTreeMap::new(),
            per_environment: BTreeMap::new(),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            cached: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for SecretProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretProviders")
            .field("shared", &self.shared.keys().collect::<Vec<_>>())
            .field(
                "per_environment",
                &self
                    .per_environment
                    .iter()
                    .map(|(env, p)| (env, p.keys().collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            )
            .field("fetch_timeout", &self.fetch_timeout)
            .finish()
    }
}

impl SecretProviders {
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Answers `name:` references in every environment without its own.
    pub fn insert(&mut self, name: &str, provider: SharedProvider) {
        self.shared.insert(name.to_owned(), provider);
    }

    /// Answers `name:` references of runs in `environment`.
    pub fn insert_for(&mut self, environment: &str, name: &str, provider: SharedProvider) {
        self.per_environment
            .entry(environment.to_owned())
            .or_default()
            .insert(name.to_owned(), provider);
    }

    /// The adapter for `name:` references of a run in `environment`.
    pub fn get(&self, environment: &str, name: &str) -> Option<&SharedProvider> {
        self.per_environment
            .get(environment)
            .and_then(|p| p.get(name))
            .or_else(|| self.shared.get(name))
    }

    /// Whether some environment can resolve `name:` references (apply's
    /// check: a version is promoted through several environments).
    pub fn is_configured(&self, name: &str) -> bool {
        self.shared.contains_key(name)
            || self.per_environment.values().any(|p| p.contains_key(name))
    }

    /// The configured provider names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .shared
            .keys()
            .chain(self.per_environment.values().flat_map(|p| p.keys()))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every adapter with where it answers (`None`: every environment
    /// without its own), for the health view.
    pub fn each(&self) -> Vec<(Option<&str>, &str, &SharedProvider)> {
        let shared = self.shared.iter().map(|(n, p)| (None, n.as_str(), p));
        let own = self.per_environment.iter().flat_map(|(env, ps)| {
            ps.iter()
                .map(move |(n, p)| (Some(env.as_str()), n.as_str(), p))
        });
        shared.chain(own).collect()
    }

    /// Puts a cache of `ttl` in front of every adapter named `name` (shared
    /// and environments' own).
    pub fn cache(&mut self, name: &str, ttl: Duration) {
        let all = self
            .shared
            .iter_mut()
            .chain(self.per_environment.values_mut().flat_map(|p| p.iter_mut()));
        for (n, provider) in all {
            if n == name {
                *provider = Arc::new(super::cache::CachedProvider::new(provider.clone(), ttl));
            }
        }
        self.cached.insert(name.to_owned(), ttl);
    }

    /// Whether `name`'s values are cached.
    pub fn is_cached(&self, name: &str) -> bool {
        self.cached.contains_key(name)
    }

    /// Drops what every adapter named `name` cached: the value `target`
    /// names, or all; returns how many went.
    pub async fn invalidate(
        &self,
        name: &str,
        target: Option<gantry_core::secret::FetchRequest<'_>>,
    ) -> usize {
        let mut removed = 0;
        for (_, n, provider) in self.each() {
            if n == name {
                removed += provider.invalidate(target.clone()).await;
            }
        }
        removed
    }

    pub fn fetch_timeout(&self) -> Duration {
        self.fetch_timeout
    }

    pub fn is_empty(&self) -> bool {
        self.shared.is_empty() && self.per_environment.is_empty()
    }
}
