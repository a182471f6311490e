//! Durations in policies and checklists (a request's lifetime, a window of
//! runs, a soak time), written like spec durations: `"7d"`, `"1h"`,
//! `"90m"`. Unlike [`crate::spec::SpecDuration`] they may exceed a week; each
//! field states its own bounds ([`PolicyDuration::check`]).

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A whole number of seconds, written as a humantime string on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        description = "A duration such as \"30m\", \"1h\" or \"7d\".",
        example = "7d"
    )
)]
pub struct PolicyDuration(u64);

impl PolicyDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    pub const fn from_mins(mins: u64) -> Self {
        Self(mins * 60)
    }

    pub const fn from_hours(hours: u64) -> Self {
        Self(hours * 3600)
    }

    pub const fn from_days(days: u64) -> Self {
        Self(days * 86_400)
    }

    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// For arithmetic on timestamps. An unchecked (deserialized, not yet
    /// validated) huge value saturates; callers add it with `checked_*`.
    pub fn as_chrono(self) -> chrono::Duration {
        i64::try_from(self.0)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::MAX)
    }

    /// Why this duration is outside `min..=max`, if it is, naming both
    /// bounds so the message says what to write instead.
    pub fn check(self, min: PolicyDuration, max: PolicyDuration) -> Option<String> {
        if self < min || self > max {
            Some(format!(
                "{self} is out of range; use between {min} and {max}"
            ))
        } else {
            None
        }
    }
}

/// For people: the two largest units, `7 d`, `1 h 30 min`, `45 s`.
impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [("d", 86_400), ("h", 3600), ("min", 60), ("s", 1)];
        let mut rest = self.0;
        let mut parts = Vec::new();
        for (name, size) in units {
            if rest >= size && parts.len() < 2 {
                parts.push(format!("{} {name}", rest / size));
                rest %= size;
            } else if !parts.is_empty() {
                // Only adjacent units: "1 d 30 s" reads as a typo.
                break;
            }
        }
        if parts.is_empty() {
            return f.write_str("0 s");
        }
        f.write_str(&parts.join(" "))
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(Duration::from_secs(self.0)))
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

const HINT: &str = "write it like \"30m\", \"1h\" or \"7d\"";

impl Visitor<'_> for DurationVisitor {
    type Value = PolicyDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"30m\", \"1h\" or \"7d\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PolicyDuration, E> {
        let parsed = humantime::parse_duration(v.trim())
            .map_err(|e| E::custom(format!("invalid duration \"{v}\" ({e}); {HINT}")))?;
        if parsed.subsec_nanos() != 0 {
            return Err(E::custom(format!(
                "duration \"{v}\" has a fraction of a second; {HINT}"
            )));
        }
        Ok(PolicyDuration(parsed.as_secs()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<PolicyDuration, E> {
        Err(E::custom(format!("a duration needs a unit; {HINT}")))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<PolicyDuration, E> {
        self.visit_u64(0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<PolicyDuration, E> {
        self.visit_u64(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PolicyDuration, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_humantime_and_writes_its_normal_form() {
        let cases = [
            ("\"7d\"", 7 * 86_400, "\"7days\""),
            ("\"1h\"", 3600, "\"1h\""),
            ("\"90m\"", 5400, "\"1h 30m\""),
            ("\" 30s \"", 30, "\"30s\""),
            ("\"30days\"", 30 * 86_400, "\"30days\""),
        ];
        for (text, secs, written) in cases {
            let d = parse(text).unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(serde_json::to_string(&d).unwrap(), written, "{text}");
            assert_eq!(parse(written), Ok(d), "{written} round-trips");
        }
    }

    #[test]
    fn refuses_bare_numbers_fractions_and_garbage_with_a_hint() {
        for bad in ["3600", "1.5", "\"soon\"", "\"\"", "\"1500ms\"", "-1"] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("\"7d\""), "{bad}: {err}");
        }
    }

    #[test]
    fn displays_the_two_largest_adjacent_units() {
        let cases = [
            (PolicyDuration::from_days(7), "7 d"),
            (PolicyDuration::from_hours(1), "1 h"),
            (PolicyDuration::from_mins(90), "1 h 30 min"),
            (PolicyDuration::from_secs(45), "45 s"),
            (PolicyDuration::from_secs(0), "0 s"),
            (PolicyDuration::from_secs(86_400 + 3600 + 61), "1 d 1 h"),
            (PolicyDuration::from_secs(86_400 + 30), "1 d"),
        ];
        for (d, shown) in cases {
            assert_eq!(d.to_string(), shown);
        }
    }

    #[test]
    fn bounds_name_the_range() {
        let min = PolicyDuration::from_hours(1);
        let max = PolicyDuration::from_days(30);
        assert_eq!(PolicyDuration::from_days(7).check(min, max), None);
        assert_eq!(min.check(min, max), None);
        assert_eq!(max.check(min, max), None);
        assert_eq!(
            PolicyDuration::from_mins(5).check(min, max).as_deref(),
            Some("5 min is out of range; use between 1 h and 30 d")
        );
        assert!(PolicyDuration::from_days(31).check(min, max).is_some());
        assert_eq!(
            PolicyDuration::from_hours(2).as_chrono(),
            chrono::Duration::hours(2)
        );
    }
}
