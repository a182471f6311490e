//! The silence form: a one-off silence or a recurring mute window, read
//! into a `SilenceSpec`.

use super::{Reader, bare, given};
use chrono::{DateTime, Utc};
use gantry_core::PortError;
use gantry_core::alert::view::SilenceSpec;
use serde::{Deserialize, Serialize};

/// A silence or mute window form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SilenceFields {
    pub rule: String,
    pub workflow: String,
    pub environment: String,
    /// `once` (a silence) or `window` (a recurring mute window).
    pub mode: String,
    /// A `datetime-local` value in UTC, or RFC 3339.
    pub ends_at: String,
    /// A silence's length instead of its end (`2h`).
    pub lasts: String,
    pub cron: String,
    pub duration: String,
    pub time_zone: String,
    pub reason: String,
}

impl SilenceFields {
    pub const NAMES: [&'static str; 10] = [
        "rule",
        "workflow",
        "environment",
        "mode",
        "ends_at",
        "lasts",
        "cron",
        "duration",
        "time_zone",
        "reason",
    ];

    pub fn from_pairs(pairs: &[(String, String)]) -> SilenceFields {
        let mut f = SilenceFields::default();
        for (key, value) in pairs {
            let slot = match bare(key) {
                "rule" => &mut f.rule,
                "workflow" => &mut f.workflow,
                "environment" => &mut f.environment,
                "mode" => &mut f.mode,
                "ends_at" => &mut f.ends_at,
                "lasts" => &mut f.lasts,
                "cron" => &mut f.cron,
                "duration" => &mut f.duration,
                "time_zone" => &mut f.time_zone,
                "reason" => &mut f.reason,
                _ => continue,
            };
            slot.clone_from(value);
        }
        f
    }

    pub fn is_window(&self) -> bool {
        self.mode.trim() == "window"
    }

    /// The silence the form describes, ending `lasts` after `now` when no
    /// end is given. The port checks the rest.
    pub fn to_spec(&self, now: DateTime<Utc>) -> Result<SilenceSpec, PortError> {
        let mut r = Reader::default();
        let mut spec = SilenceSpec {
            rule: given(&self.rule),
            workflow: given(&self.workflow),
            environment: given(&self.environment),
            reason: self.reason.trim().to_owned(),
            ..SilenceSpec::default()
        };
        if self.is_window() {
            spec.cron = given(&self.cron);
            spec.duration = r.optional_duration(&self.duration, "duration").flatten();
            spec.time_zone = given(&self.time_zone);
        } else if !self.ends_at.trim().is_empty() {
            match crate::api::parse_at(&self.ends_at) {
                Ok(at) => spec.ends_at = Some(at),
                Err(_) => r.problem(
                    "ends_at",
                    "write the end like 2026-03-01T14:30 (UTC), or give how long it lasts",
                ),
            }
        } else if let Some(Some(lasts)) = r.optional_duration(&self.lasts, "lasts") {
            spec.ends_at = chrono::Duration::from_std(lasts.0)
                .ok()
                .and_then(|d| now.checked_add_signed(d));
        }
        if r.problems.is_empty() {
            Ok(spec)
        } else {
            Err(PortError::Unprocessable {
                message: "the silence is not valid".into(),
                problems: r.problems,
            })
        }
    }
}
