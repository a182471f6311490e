//! The `slo:` section of a workflow spec: per environment, what share of
//! runs must succeed and/or finish in time, over a rolling window.
//!
//! ```yaml
//! slo:
//!   prod:
//!     window: 28d
//!     success: 99%                          # 99% of runs succeed
//!     duration: { within: 10m, target: 95% } # 95% succeed within 10 minutes
//! ```

use super::Target;
use crate::spec::SpecDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Shortest window: a day. Below it the budget is spent by a blip and the
/// 3-day ticket pair ([`super::burn`]) looks further back than the window.
pub const MIN_WINDOW: Duration = DAY;

/// Longest window: 90 days, a quarter. Longer windows forgive an outage for
/// so long that the number stops guiding anyone, and the server's count
/// queries would range over most of the run history.
pub const MAX_WINDOW: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The objectives per environment name. A `BTreeMap` so the canonical JSON
/// (and with it the content hash) does not depend on the order written.
pub type SloSection = BTreeMap<String, SloSpec>;

/// The objectives of one workflow in one environment. At least one of
/// `success` and `duration` is set (validation ensures it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// How far back the objectives look, rolling: 1 to 90 days, e.g. `28d`.
    /// Required rather than defaulted, so that two specs meaning the same
    /// window also hash the same.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "28d"))]
    pub window: SpecDuration,
    /// Share of finished runs that must succeed, e.g. `99%` or `0.99`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<Target>,
    /// Share of finished runs that must succeed within a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationObjective>,
}

/// "`target` of runs succeed within `within`". A failed run is bad here too:
/// it did not deliver its work in time, however quickly it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DurationObjective {
    /// The time a run has, from starting to finishing; at most 7 days.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "10m"))]
    pub within: SpecDuration,
    pub target: Target,
}

/// Which objective a figure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Success,
    Duration,
}

impl SloSpec {
    /// The objectives set, success first, with their targets.
    pub fn objectives(&self) -> Vec<(ObjectiveKind, Target)> {
        let success = self.success.map(|t| (ObjectiveKind::Success, t));
        let duration = self
            .duration
            .as_ref()
            .map(|d| (ObjectiveKind::Duration, d.target));
        success.into_iter().chain(duration).collect()
    }

    /// Why the window is not allowed, if it is not.
    pub fn window_out_of_bounds(&self) -> Option<String> {
        let window = self.window.0;
        if window < MIN_WINDOW {
            Some(format!(
                "window {} is shorter than 1 day; an SLO window is usually 28d or 30d",
                self.window
            ))
        } else if window > MAX_WINDOW {
            Some(format!(
                "window {} is longer than the 90 day limit",
                self.window
            ))
        } else {
            None
        }
    }
}

/// One line for people (the promotion diff, the SLO page):
/// `99% succeed, 95% succeed within 10m over 28days`.
impl fmt::Display for SloSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(t) = self.success {
            parts.push(format!("{t} succeed"));
        }
        if let Some(d) = &self.duration {
            parts.push(format!("{} succeed within {}", d.target, d.within));
        }
        if parts.is_empty() {
            parts.push("no objective".to_owned());
        }
        write!(f, "{} over {}", parts.join(", "), self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SloSpec, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_both_objectives_and_writes_them_back_normalized() {
        let slo = parse(
            r#"{"window":"4weeks","success":0.99,"duration":{"target":"95%","within":"600s"}}"#,
        )
        .unwrap();
        assert_eq!(slo.window, SpecDuration(Duration::from_secs(28 * 86400)));
        assert_eq!(
            serde_json::to_string(&slo).unwrap(),
            r#"{"window":"28days","success":"99%","duration":{"within":"10m","target":"95%"}}"#
        );
        assert_eq!(
            slo.objectives()
                .into_iter()
                .map(|(k, t)| (k, t.ppm()))
                .collect::<Vec<_>>(),
            vec![
                (ObjectiveKind::Success, 990_000),
                (ObjectiveKind::Duration, 950_000)
            ]
        );
    }

    #[test]
    fn displays_as_one_line() {
        let slo = parse(
            r#"{"window":"28d","success":"99.9%","duration":{"target":0.95,"within":"10m"}}"#,
        )
        .unwrap();
        assert_eq!(
            slo.to_string(),
            "99.9% succeed, 95% succeed within 10m over 28days"
        );
        let empty = parse(r#"{"window":"7d"}"#).unwrap();
        assert_eq!(empty.to_string(), "no objective over 7days");
    }

    #[test]
    fn refuses_unknown_fields_and_a_missing_window() {
        assert!(
            parse(r#"{"window":"28d","succes":0.99}"#)
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            parse(r#"{"success":0.99}"#)
                .unwrap_err()
                .contains("missing field `window`")
        );
        assert!(
            parse(r#"{"window":"28d","duration":{"within":"1m","target":0.9,"p":1}}"#)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn window_bounds_are_one_to_ninety_days() {
        let with = |secs: u64| SloSpec {
            window: SpecDuration(Duration::from_secs(secs)),
            success: None,
            duration: None,
        };
        assert!(
            with(86_400 - 1)
                .window_out_of_bounds()
                .unwrap()
                .contains("shorter than 1 day")
        );
        assert!(with(86_400).window_out_of_bounds().is_none());
        assert!(with(90 * 86_400).window_out_of_bounds().is_none());
        assert!(
            with(90 * 86_400 + 1)
                .window_out_of_bounds()
                .unwrap()
                .contains("90 day limit")
        );
    }

    /// The server lists its schemas by hand and relies on utoipa collecting
    /// the ones they refer to; a type missing here would be a dangling
    /// `$ref` in the OpenAPI document.
    #[cfg(feature = "openapi")]
    #[test]
    fn the_workflow_spec_schema_brings_the_slo_schemas_along() {
        use utoipa::ToSchema;
        let mut schemas = Vec::new();
        crate::spec::WorkflowSpec::schemas(&mut schemas);
        let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
        for name in ["SloSpec", "DurationObjective", "Target", "SpecDuration"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }
}
