//! Per-step resource limits, as written in a spec:
//! `limits: { memory: 512Mi, cpu: 60s }`. The worker applies them to the
//! step's processes (capped by the platform maximums its operator set).

use super::SpecDuration;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What one shell step may use. Absent fields fall back to the platform's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepLimits {
    /// Most memory the step's processes may allocate, each (e.g. "512Mi").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SpecBytes>,
    /// Most CPU time each of the step's processes may use (e.g. "60s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<SpecDuration>,
}

/// The smallest memory limit a spec may set: below it `/bin/sh` itself
/// can't start, which would read as a baffling failure.
pub const MIN_MEMORY: u64 = 16 * MI;
/// The largest: anything above is surely a typo (`512Gi` for `512Mi`).
pub const MAX_MEMORY: u64 = 1024 * 1024 * MI;

const KI: u64 = 1024;
const MI: u64 = 1024 * KI;
const GI: u64 = 1024 * MI;
const TI: u64 = 1024 * GI;

/// A size in bytes written with a binary (`Ki`, `Mi`, `Gi`, `Ti`) or decimal
/// (`K`, `M`, `G`, `T`) suffix, as Kubernetes spells them. Serializes to
/// the largest binary unit that divides it exactly, so equal sizes hash the
/// same whichever way they were written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        description = "A size such as \"512Mi\" or \"2Gi\" (binary) or \"500M\" (decimal).",
        example = "512Mi"
    )
)]
pub struct SpecBytes(pub u64);

impl SpecBytes {
    /// Reads `"512Mi"`, `"2G"`, `"1048576"`-with-a-unit forms; a bare
    /// number is refused (bytes or megabytes? the author should say).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let hint = "write a size like \"512Mi\", \"2Gi\" or \"500M\"";
        if digits.is_empty() {
            return Err(format!("invalid size \"{text}\"; {hint}"));
        }
        let factor = match unit.trim() {
            "Ki" => KI,
            "Mi" => MI,
            "Gi" => GI,
            "Ti" => TI,
            "K" | "k" => 1000,
            "M" => 1000 * 1000,
            "G" => 1000 * 1000 * 1000,
            "T" => 1000 * 1000 * 1000 * 1000,
            "" => return Err(format!("a size needs a unit; {hint}")),
            _ => return Err(format!("unknown unit in \"{text}\"; {hint}")),
        };
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(factor))
            .map(SpecBytes)
            .ok_or_else(|| format!("size \"{text}\" is too large"))
    }

    /// Why this memory limit is not allowed, if it is not.
    pub fn out_of_memory_bounds(self) -> Option<String> {
        if self.0 < MIN_MEMORY {
            Some(format!("{self} is below the 16Mi minimum"))
        } else if self.0 > MAX_MEMORY {
            Some(format!("{self} is above the 1Ti maximum"))
        } else {
            None
        }
    }
}

impl fmt::Display for SpecBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("Ti", TI), ("Gi", GI), ("Mi", MI), ("Ki", KI)] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        // Not a whole number of KiB: written in decimal kilobytes is not
        // exact either, so say it in bytes with the smallest unit that fits.
        if self.0.is_multiple_of(1000) && self.0 > 0 {
            return write!(f, "{}K", self.0 / 1000);
        }
        write!(f, "{}Ki", self.0.div_ceil(KI))
    }
}

impl Serialize for SpecBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SpecBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BytesVisitor)
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = SpecBytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size such as \"512Mi\" or \"2Gi\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SpecBytes, E> {
        SpecBytes::parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SpecBytes, E> {
        Err(E::custom(
            "a size needs a unit; write a size like \"512Mi\", \"2Gi\" or \"500M\"",
        ))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SpecBytes, E> {
        self.visit_u64(v.unsigned_abs())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SpecBytes, E> {
        self.visit_u64(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_binary_and_decimal_units() {
        assert_eq!(SpecBytes::parse("512Mi"), Ok(SpecBytes(512 * MI)));
        assert_eq!(SpecBytes::parse(" 2Gi "), Ok(SpecBytes(2 * GI)));
        assert_eq!(SpecBytes::parse("500M"), Ok(SpecBytes(500_000_000)));
        assert_eq!(SpecBytes::parse("64Ki"), Ok(SpecBytes(64 * KI)));
    }

    #[test]
    fn sizes_without_a_known_unit_are_refused_with_a_hint() {
        for bad in [
            "512",
            "Mi",
            "12 parsecs",
            "-1Mi",
            "",
            "99999999999999999999Ti",
        ] {
            let err = SpecBytes::parse(bad).unwrap_err();
            assert!(err.contains("size"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_serialize_to_the_largest_exact_binary_unit() {
        assert_eq!(SpecBytes(1024 * MI).to_string(), "1Gi");
        assert_eq!(SpecBytes(1536 * MI).to_string(), "1536Mi");
        assert_eq!(SpecBytes(500_000_000).to_string(), "500000K");
        let limits: StepLimits =
            serde_json::from_str(r#"{"memory":"1024Mi","cpu":"60s"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&limits).unwrap(),
            r#"{"memory":"1Gi","cpu":"1m"}"#
        );
    }

    #[test]
    fn bare_numbers_and_unknown_fields_are_refused() {
        assert!(serde_json::from_str::<StepLimits>(r#"{"memory":512}"#).is_err());
        assert!(serde_json::from_str::<StepLimits>(r#"{"disk":"1Gi"}"#).is_err());
    }

    #[test]
    fn memory_bounds() {
        assert!(SpecBytes(MI).out_of_memory_bounds().is_some());
        assert!(SpecBytes(MIN_MEMORY).out_of_memory_bounds().is_none());
        assert!(SpecBytes(MAX_MEMORY + 1).out_of_memory_bounds().is_some());
    }
}
