//! A quota: `REQUESTS/WINDOW`, as in `600/1m`. A principal may send
//! REQUESTS at once, and earns them back evenly over WINDOW (one every
//! WINDOW/REQUESTS): the generic cell rate algorithm's burst and emission
//! interval, which is also what the `RateLimit-Policy` header states.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    pub requests: u32,
    pub window_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QuotaError(String);

/// Longest window: a day (longer ones would let a burst wait for weeks).
const MAX_WINDOW_SECONDS: u32 = 86_400;

/// What `Quota::parse` accepts, as a JSON Schema pattern for the OpenAPI
/// document: `off`, or 1 to 999999999 requests per 1s to 24h (the window in
/// seconds with or without `s`, in minutes or in hours). (A unit test keeps
/// the two in step.)
pub const QUOTA_PATTERN: &str = concat!(
    "^\\s*(?:[Oo][Ff][Ff]|[1-9][0-9]{0,8}\\s*/\\s*(?:",
    "(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)s?",
    "|(?:[1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)m",
    "|(?:[1-9]|1[0-9]|2[0-4])h",
    "))\\s*$"
);

impl Quota {
    /// Parses `REQUESTS/WINDOW` (window `30s`, `1m`, `1h`, or bare
    /// seconds), or `off` (`None`: no limit).
    pub fn parse(text: &str) -> Result<Option<Quota>, QuotaError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = |why: &str| {
            QuotaError(format!(
                "rate limit {text:?}: {why}; write REQUESTS/WINDOW such as 600/1m or 20/1s, or off"
            ))
        };
        let (requests, window) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let requests: u32 = requests
            .trim()
            .parse()
            .map_err(|_| bad("REQUESTS is not a whole number"))?;
        if requests == 0 {
            return Err(bad("REQUESTS must be at least 1 (use off for no limit)"));
        }
        let window = window.trim();
        let (digits, unit) = match window.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => window.split_at(i),
            None => (window, "s"),
        };
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => return Err(bad("WINDOW's unit must be s, m or h")),
        };
        let count: u32 = digits
            .parse()
            .map_err(|_| bad("WINDOW is not a whole number"))?;
        let window_seconds = count
            .checked_mul(scale)
            .filter(|w| (1..=MAX_WINDOW_SECONDS).contains(w))
            .ok_or_else(|| bad("WINDOW must be between 1s and 24h"))?;
        Ok(Some(Quota {
            requests,
            window_seconds,
        }))
    }

    /// Microseconds between two requests earned back.
    pub fn emission_interval_micros(self) -> u64 {
        (u64::from(self.window_seconds) * 1_000_000 / u64::from(self.requests)).max(1)
    }

    /// Of two quotas, the one allowing more per second (then the larger
    /// burst).
    pub fn more_generous(a: Quota, b: Quota) -> Quota {
        // Compare a.requests / a.window with b.requests / b.window exactly.
        let ra = u64::from(a.requests) * u64::from(b.window_seconds);
        let rb = u64::from(b.requests) * u64::from(a.window_seconds);
        match ra.cmp(&rb) {
            std::cmp::Ordering::Greater => a,
            std::cmp::Ordering::Less => b,
            std::cmp::Ordering::Equal if a.requests >= b.requests => a,
            std::cmp::Ordering::Equal => b,
        }
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.window_seconds;
        if w.is_multiple_of(3600) {
            write!(f, "{}/{}h", self.requests, w / 3600)
        } else if w.is_multiple_of(60) {
            write!(f, "{}/{}m", self.requests, w / 60)
        } else {
            write!(f, "{}/{}s", self.requests, w)
        }
    }
}

impl Serialize for Quota {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quota {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Quota::parse(&text)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("expected REQUESTS/WINDOW, not off"))
    }
}
