//! The HTTP clients of HTTP steps: one per environment (built when a step
//! of it first runs), each enforcing that environment's egress policy on
//! the addresses it really connects to. Checking the URL's host name before
//! the request would not do: DNS may answer differently a moment later
//! (rebinding), and redirects go elsewhere. So the policy sits in three
//! places a connection's address comes from:
//! - the DNS resolver, which drops refused addresses from every answer;
//! - the URL itself when its host is an IP literal (the client connects to
//!   it without asking the resolver);
//! - every redirect hop whose host is an IP literal (hops with a name go
//!   through the resolver again).
//!
//! Proxies from `HTTP_PROXY`/`HTTPS_PROXY` are not used: through a proxy the
//! connected address would be the proxy's, and the destination the proxy's
//! own business, out of the policy's reach.

use super::egress::{EgressPolicy, Refused};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// As many hops as reqwest follows by default.
const MAX_REDIRECTS: usize = 10;

/// Every environment's step client, built on first use and kept.
pub struct StepClients {
    policy: Arc<EgressPolicy>,
    built: Mutex<HashMap<String, StepClient>>,
}

impl StepClients {
    pub fn new(policy: Arc<EgressPolicy>) -> Self {
        Self {
            policy,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The client for steps of `environment`.
    pub fn for_environment(&self, environment: &str) -> Result<StepClient, String> {
        // A panic elsewhere while holding the lock leaves a usable map.
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = built.get(environment) {
            return Ok(client.clone());
        }
        let client = StepClient::build(Guard {
            policy: self.policy.clone(),
            environment: environment.into(),
        })?;
        built.insert(environment.to_owned(), client.clone());
        Ok(client)
    }
}

/// One environment's client. Never falls back to an unguarded client: if
/// it can't be built, the step fails.
#[derive(Clone)]
pub struct StepClient {
    guard: Guard,
    client: reqwest::Client,
}

impl StepClient {
    fn build(guard: Guard) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver(guard.clone())))
            .redirect(redirect_policy(guard.clone()))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Self { guard, client })
    }

    /// A request to `url`, refused up front when its host is an address
    /// the policy refuses (host names are checked once resolved).
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, Refused> {
        if let Ok(parsed) = reqwest::Url::parse(url)
            && let Some(ip) = literal_ip(&parsed)
        {
            self.guard.check(ip)?;
        }
        Ok(self.client.request(method, url))
    }
}

/// The policy's refusal behind a failed request, if that is why it failed
/// (reqwest wraps it in its connect or redirect error).
pub fn refusal<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

#[derive(Clone)]
struct Guard {
    policy: Arc<EgressPolicy>,
    environment: Arc<str>,
}

impl Guard {
    fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        self.policy.check(&self.environment, ip)
    }
}

/// The system resolver, minus the addresses the policy refuses. A name
/// whose every address is refused fails with the first refusal.
struct PolicyResolver(Guard);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let mut refused = None;
            let allowed: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| match guard.check(addr.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused.get_or_insert(r);
                        false
                    }
                })
                .collect();
            match refused {
                Some(r) if allowed.is_empty() => Err(BoxError::from(r)),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// Follows redirects like reqwest's default, refusing hops to refused IP
/// literals (hops to names meet the resolver).
fn redirect_policy(guard: Guard) -> Policy {
    Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match literal_ip(attempt.url()).map(|ip| guard.check(ip)) {
            Some(Err(refused)) => attempt.error(refused),
            _ => attempt.follow(),
        }
    })
}

/// The URL's host when it is an IP address (`[…]` for IPv6 in URLs).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::egress::{AllowEntry, parse_allow};

    fn clients(allow: &[&str]) -> StepClients {
        let entries: Vec<AllowEntry> = allow.iter().map(|s| parse_allow(s).unwrap()).collect();
        StepClients::new(Arc::new(EgressPolicy::new(&entries)))
    }

    #[test]
    fn ip_literals_are_found_in_every_url_spelling() {
        for (url, ip) in [
            ("http://127.0.0.1:9/x", "127.0.0.1"),
            ("http://[::1]/", "::1"),
            ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            // The URL standard reads these as IPv4 addresses.
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert_eq!(literal_ip(&parsed), Some(ip.parse().unwrap()), "{url}");
        }
        let named = reqwest::Url::parse("http://localhost/").unwrap();
        assert_eq!(literal_ip(&named), None);
    }

    #[test]
    fn literal_destinations_are_checked_per_environment() {
        let set = clients(&["127.0.0.1@dev"]);
        let dev = set.for_environment("dev").unwrap();
        let prod = set.for_environment("prod").unwrap();
        assert!(
            dev.request(reqwest::Method::GET, "http://127.0.0.1/")
                .is_ok()
        );
        let refused = prod
            .request(reqwest::Method::GET, "http://127.0.0.1/")
            .unwrap_err();
        assert_eq!(refused.environment, "prod");
        assert!(
            prod.request(reqwest::Method::GET, "http://[::ffff:169.254.169.254]/")
                .is_err()
        );
        assert!(
            prod.request(reqwest::Method::GET, "http://10.0.0.1/")
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        let guard = Guard {
            policy: Arc::new(EgressPolicy::default()),
            environment: "dev".into(),
        };
        let error = match PolicyResolver(guard)
            .resolve("localhost".parse().unwrap())
            .await
        {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refused = refusal(&*error).expect("a refusal");
        assert!(refused.address.is_loopback(), "{refused}");
    }
}
