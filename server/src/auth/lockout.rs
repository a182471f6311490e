//! Slows guessing down: a source (an IP address; an IPv6 /64, which one
//! host usually owns whole) that fails to authenticate `limit` times within
//! `window` is refused further failing attempts (429 with `Retry-After`)
//! until the window ends: sign-ins of any kind, and bearer tokens that
//! don't check out. A valid token is never refused for its address
//! (`bearer_principal`): a noisy neighbour behind the same NAT can't lock
//! it out. Successes don't reset the count. In memory, per process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sources tracked at most; beyond that, finished windows are dropped first.
const MAX_SOURCES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6Prefix(u64),
}

fn source(ip: IpAddr) -> Source {
    match ip {
        IpAddr::V4(v4) => Source::V4(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Source::V4(u32::from(v4)),
            None => Source::V6Prefix((u128::from(v6) >> 64) as u64),
        },
    }
}

struct Entry {
    failures: u32,
    since: Instant,
}

pub struct Lockout {
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<Source, Entry>>,
}

impl Lockout {
    pub fn new(limit: u32, window: Duration) -> Self {
        Lockout {
            limit: limit.max(1),
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` must wait, if it is locked out now.
    pub fn retry_after(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&source(ip))?;
        let ends = entry.since + self.window;
        (entry.failures >= self.limit && now < ends).then(|| ends - now)
    }

    /// Counts a failed attempt; returns the wait when this one locks the
    /// source out.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_SOURCES {
            let window = self.window;
            entries.retain(|_, e| now < e.since + window);
        }
        let entry = entries.entry(source(ip)).or_insert(Entry {
            failures: 0,
            since: now,
        });
        if now >= entry.since + self.window {
            *entry = Entry {
                failures: 0,
                since: now,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        let ends = entry.since + self.window;
        (entry.failures >= self.limit).then(|| ends.saturating_duration_since(now))
    }
}

/// `Retry-After` in whole seconds, rounded up (never 0).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_limit_th_failure_locks_until_the_window_ends() {
        let l = Lockout::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        assert_eq!(l.record_failure(a, t0), None);
        assert_eq!(l.record_failure(a, t0 + Duration::from_secs(10)), None);
        assert_eq!(l.retry_after(a, t0 + Duration::from_secs(10)), None);
        assert_eq!(
            l.record_failure(a, t0 + Duration::from_secs(20)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(
            l.retry_after(a, t0 + Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        // Others are unaffected; the window's end frees the source.
        assert_eq!(
            l.retry_after(ip("192.0.2.2"), t0 + Duration::from_secs(30)),
            None
        );
        assert_eq!(l.retry_after(a, t0 + Duration::from_secs(60)), None);
        assert_eq!(l.record_failure(a, t0 + Duration::from_secs(61)), None);
    }

    #[test]
    fn one_ipv6_host_counts_as_one_source_across_its_slash_64() {
        let l = Lockout::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        l.record_failure(ip("2001:db8::1"), t0);
        assert!(l.record_failure(ip("2001:db8::ffff:2"), t0).is_some());
        assert!(l.retry_after(ip("2001:db8::3"), t0).is_some());
        assert!(l.retry_after(ip("2001:db8:0:1::1"), t0).is_none());
        // IPv4-mapped addresses are the IPv4 source.
        l.record_failure(ip("198.51.100.7"), t0);
        assert!(l.record_failure(ip("::ffff:198.51.100.7"), t0).is_some());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    }
}
