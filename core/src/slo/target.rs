//! An objective's target ("99.9% of runs succeed"), held as an exact count
//! of parts per million so a spec keeps `Eq` and a stable content hash, and
//! so threshold comparisons in the burn-rate rules are integer arithmetic
//! with no rounding at the edges.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One in a million: the finest target step. Five nines (99.999%) is
/// 999 990 ppm; nothing a run-based SLI can measure needs finer.
pub const PPM: u32 = 1_000_000;

/// A fraction of runs that must be good, in parts per million (0..=1 000 000).
///
/// Deserialization takes a fraction (`0.99`) or a percentage string
/// (`"99%"`) and refuses anything outside 0..=1 or finer than one ppm;
/// validation ([`super::validate`]) then refuses 0 and 100%, which are not
/// objectives. It serializes as the percentage in its shortest form
/// (`0.999` and `"99.90%"` both become `"99.9%"`), so equal targets hash the
/// same however they were written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        description = "A target: a fraction such as 0.99 or a percentage such as \"99.9%\"; above 0 and below 100%, at most six decimal places as a fraction.",
        example = "99.9%"
    )
)]
pub struct Target(u32);

impl Target {
    /// A target of `ppm` parts per million; `None` above one million.
    pub fn from_ppm(ppm: u32) -> Option<Self> {
        (ppm <= PPM).then_some(Self(ppm))
    }

    /// Parts per million of runs that must be good.
    pub fn ppm(self) -> u32 {
        self.0
    }

    /// Parts per million of runs that may be bad: the error budget, 1 − target.
    pub fn budget_ppm(self) -> u32 {
        PPM - self.0
    }

    /// The target as a fraction, for display and charts only; decisions use
    /// [`Self::ppm`].
    pub fn fraction(self) -> f64 {
        f64::from(self.0) / f64::from(PPM)
    }

    /// The error budget as a fraction (1 − target), for display.
    pub fn budget_fraction(self) -> f64 {
        f64::from(self.budget_ppm()) / f64::from(PPM)
    }

    /// Why this target is not an objective, if it is not: 0 asks nothing and
    /// 100% leaves no budget, so every burn rate would be infinite.
    pub fn out_of_bounds(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("must be above 0%: a target of 0 asks nothing of the runs"),
            PPM => Some(
                "must be below 100%: a 100% target leaves no error budget, so a single failure would break it; use e.g. 99.9%",
            ),
            _ => None,
        }
    }

    /// A fraction from a spec number; refused when it is not in 0..=1 or
    /// is finer than one ppm.
    fn from_fraction(v: f64) -> Result<Self, String> {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            return Err(if v > 1.0 && v <= 100.0 {
                not_a_fraction(v)
            } else {
                format!("target {v} must be a fraction between 0 and 1, e.g. 0.99")
            });
        }
        let scaled = v * f64::from(PPM);
        let rounded = scaled.round();
        // 0.999 * 1e6 is 998999.9999999999 in binary floating point: allow
        // that representation error, refuse real extra digits.
        if (scaled - rounded).abs() > 1e-6 {
            return Err(format!(
                "target {v} is finer than one in a million; round it to at most six decimal places"
            ));
        }
        // 0 <= rounded <= 1e6 here, so the conversion is exact.
        Ok(Self(rounded as u32))
    }

    /// A percentage string such as `"99.95%"`, parsed as exact decimal text.
    fn from_percent(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid target \"{text}\"; write a percentage like \"99.9%\" or a fraction like 0.999"
            )
        };
        let number = text.trim().strip_suffix('%').ok_or_else(bad)?.trim_end();
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(frac) {
            return Err(bad());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 4 {
            return Err(format!(
                "target \"{text}\" is finer than one in a million; use at most four decimal places"
            ));
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac_ppm: u32 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
        let ppm = whole * 10_000 + frac_ppm;
        Self::from_ppm(ppm).ok_or_else(|| format!("target \"{text}\" is above 100%"))
    }
}

/// The message for the common slip of writing 99 for 99%.
fn not_a_fraction(v: f64) -> String {
    if v <= 100.0 {
        format!(
            "target {v} is not a fraction; write {} or \"{v}%\"",
            v / 100.0
        )
    } else {
        format!(
            "target {v} is not a fraction; write a fraction like 0.99 or a percentage like \"99%\""
        )
    }
}

impl fmt::Display for Target {
    /// The shortest percentage: `99.9%`, `99%`, `0.0001%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TargetVisitor)
    }
}

struct TargetVisitor;

impl Visitor<'_> for TargetVisitor {
    type Value = Target;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a target such as 0.99 or \"99%\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Target, E> {
        Target::from_percent(v).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Target, E> {
        Target::from_fraction(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Target, E> {
        match v {
            0 => Ok(Target(0)),
            1 => Ok(Target(PPM)),
            // Exact: every u64 up to 2^53 is an f64, and the hint only
            // matters for small ones.
            _ => Err(E::custom(not_a_fraction(v as f64))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Target, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!(
                "target {v} must be a fraction between 0 and 1, e.g. 0.99"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Target, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn fractions_and_percentages_parse_to_the_same_ppm() {
        let cases = [
            ("0.99", 990_000),
            ("\"99%\"", 990_000),
            ("0.999", 999_000),
            ("\"99.9%\"", 999_000),
            ("\"99.90%\"", 999_000),
            ("\" 99.9 % \"", 999_000),
            ("0.99999", 999_990),
            ("\"99.999%\"", 999_990),
            ("0.95", 950_000),
            ("0.000001", 1),
            ("\"0.0001%\"", 1),
            ("0", 0),
            ("1", PPM),
            ("\"100%\"", PPM),
        ];
        for (text, ppm) in cases {
            assert_eq!(parse(text).map(Target::ppm), Ok(ppm), "{text}");
        }
    }

    #[test]
    fn serializes_to_the_shortest_percentage() {
        for (ppm, text) in [
            (999_000, "99.9%"),
            (990_000, "99%"),
            (999_990, "99.999%"),
            (1, "0.0001%"),
            (950_500, "95.05%"),
            (PPM, "100%"),
        ] {
            let t = Target::from_ppm(ppm).unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
            assert_eq!(parse(&format!("\"{text}\"")), Ok(t), "round trip {text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_fraction_with_a_hint() {
        let err = parse("99").unwrap_err();
        assert!(
            err.contains("not a fraction") && err.contains("\"99%\""),
            "{err}"
        );
        let err = parse("99.5").unwrap_err();
        assert!(
            err.contains("not a fraction") && err.contains("0.995"),
            "{err}"
        );
        assert!(parse("-0.5").unwrap_err().contains("between 0 and 1"));
        assert!(parse("-1").unwrap_err().contains("between 0 and 1"));
        assert!(parse("1000").unwrap_err().contains("not a fraction"));
        assert!(parse("\"101%\"").unwrap_err().contains("above 100%"));
        for garbage in [
            "\"99\"",
            "\"%\"",
            "\"abc%\"",
            "\"9.9.9%\"",
            "\"-1%\"",
            "\"\"",
        ] {
            assert!(
                parse(garbage).unwrap_err().contains("invalid target"),
                "{garbage}"
            );
        }
    }

    #[test]
    fn refuses_precision_finer_than_one_ppm() {
        assert!(
            parse("0.9999999")
                .unwrap_err()
                .contains("six decimal places")
        );
        assert!(
            parse("\"99.99999%\"")
                .unwrap_err()
                .contains("four decimal places")
        );
    }

    #[test]
    fn budget_is_one_minus_the_target() {
        let t = Target::from_ppm(999_000).unwrap();
        assert_eq!(t.budget_ppm(), 1_000);
        assert!((t.budget_fraction() - 0.001).abs() < 1e-12);
        assert!((t.fraction() - 0.999).abs() < 1e-12);
        assert!(Target::from_ppm(PPM + 1).is_none());
    }

    #[test]
    fn zero_and_one_hundred_percent_are_not_objectives() {
        assert!(Target::from_ppm(0).unwrap().out_of_bounds().is_some());
        assert!(
            Target::from_ppm(PPM)
                .unwrap()
                .out_of_bounds()
                .unwrap()
                .contains("no error budget")
        );
        assert!(Target::from_ppm(1).unwrap().out_of_bounds().is_none());
        assert!(Target::from_ppm(PPM - 1).unwrap().out_of_bounds().is_none());
    }
}
