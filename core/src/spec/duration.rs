//! Durations as people write them in specs: `"10m"`, `"1h 30m"`, `"5s"`.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// Longest duration a spec may state: a week. Anything longer is almost
/// certainly a typo (`"10d"` meant as minutes) and would pin a worker.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A duration written as a humantime string. Deserialization accepts any
/// humantime value; validation rejects zero and anything over [`MAX_DURATION`].
/// Serialization writes humantime's normal form (`"90m"` becomes `"1h 30m"`),
/// so equal durations encode, and hash, the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        description = "A duration such as \"30s\", \"10m\" or \"1h 30m\": more than zero, at most 7 days.",
        example = "10m"
    )
)]
pub struct SpecDuration(pub Duration);

impl SpecDuration {
    /// Why this duration is not allowed, if it is not.
    pub fn out_of_bounds(self) -> Option<String> {
        if self.0.is_zero() {
            Some("must be longer than zero".to_owned())
        } else if self.0 > MAX_DURATION {
            Some(format!("{self} is longer than the 7 day limit"))
        } else {
            None
        }
    }
}

impl fmt::Display for SpecDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for SpecDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SpecDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

const NEEDS_UNIT: &str = "a duration needs a unit, e.g. \"30s\", \"10m\" or \"1h 30m\"";

impl Visitor<'_> for DurationVisitor {
    type Value = SpecDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"30s\", \"10m\" or \"1h 30m\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SpecDuration, E> {
        humantime::parse_duration(v.trim())
            .map(SpecDuration)
            .map_err(|e| {
                E::custom(format!(
                    "invalid duration \"{v}\" ({e}); write it like \"30s\", \"10m\" or \"1h 30m\""
                ))
            })
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SpecDuration, E> {
        Err(E::custom(NEEDS_UNIT))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SpecDuration, E> {
        Err(E::custom(NEEDS_UNIT))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SpecDuration, E> {
        Err(E::custom(NEEDS_UNIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SpecDuration, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_humantime_strings() {
        let cases = [
            ("\"5s\"", 5),
            ("\"10m\"", 600),
            ("\"1h 30m\"", 5400),
            ("\"90m\"", 5400),
            ("\" 2h \"", 7200),
            ("\"7days\"", 7 * 86400),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse(text),
                Ok(SpecDuration(Duration::from_secs(secs))),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_garbage_and_bare_numbers_with_a_hint() {
        let err = parse("\"10 parsecs\"").unwrap_err();
        assert!(err.contains("invalid duration \"10 parsecs\""), "{err}");
        assert!(parse("30").unwrap_err().contains("needs a unit"));
        assert!(parse("\"\"").is_err());
        assert!(parse("\"99999999999999999999999h\"").is_err());
    }

    #[test]
    fn serializes_to_the_normal_form() {
        let d = SpecDuration(Duration::from_secs(5400));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1h 30m\"");
        assert_eq!(d.to_string(), "1h 30m");
    }

    #[test]
    fn bounds() {
        assert!(SpecDuration(Duration::ZERO).out_of_bounds().is_some());
        assert!(SpecDuration(MAX_DURATION).out_of_bounds().is_none());
        assert!(
            SpecDuration(MAX_DURATION + Duration::from_secs(1))
                .out_of_bounds()
                .is_some()
        );
        assert!(
            SpecDuration(Duration::from_secs(1))
                .out_of_bounds()
                .is_none()
        );
    }
}
