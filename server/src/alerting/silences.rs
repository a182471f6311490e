//! Whether a silence or mute window holds notices at a moment.

use chrono::{DateTime, Utc};
use gantry_core::alert::view::SilenceView;
use gantry_core::schedule::CronSchedule;

/// A one-off silence holds from `starts_at` until `ends_at` (or until
/// someone expires it); a mute window holds for `duration` after each time
/// its cron fires, from `starts_at` on.
pub fn active(s: &SilenceView, now: DateTime<Utc>) -> bool {
    if s.expired_at.is_some_and(|at| at <= now) || now < s.starts_at {
        return false;
    }
    match (&s.cron, s.duration_secs) {
        (Some(cron), Some(secs)) => {
            let Ok(schedule) = CronSchedule::parse(cron, s.time_zone.as_deref()) else {
                return false;
            };
            let lasts = chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2));
            // The latest start within the last `duration`, if any.
            schedule
                .next_after(now - lasts)
                .is_some_and(|start| start <= now)
        }
        _ => s.ends_at.is_some_and(|end| now < end),
    }
}

/// Whether any active silence covers the instance.
pub fn silenced(
    silences: &[SilenceView],
    rule: &str,
    workflow: &str,
    environment: &str,
    now: DateTime<Utc>,
) -> bool {
    silences
        .iter()
        .any(|s| s.matches(rule, workflow, environment) && active(s, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
    }

    fn silence() -> SilenceView {
        SilenceView {
            id: "s".into(),
            rule: None,
            workflow: Some("nightly".into()),
            environment: None,
            starts_at: at(1, 0),
            ends_at: Some(at(2, 0)),
            cron: None,
            duration_secs: None,
            time_zone: None,
            reason: "maintenance".into(),
            created_by: "ada".into(),
            created_at: at(0, 0),
            expired_at: None,
            active: false,
        }
    }

    #[test]
    fn a_silence_holds_between_its_times_until_expired() {
        let s = silence();
        assert!(!active(&s, at(0, 59)));
        assert!(active(&s, at(1, 0)));
        assert!(!active(&s, at(2, 0)));
        let expired = SilenceView {
            expired_at: Some(at(1, 30)),
            ..silence()
        };
        assert!(active(&expired, at(1, 29)));
        assert!(!active(&expired, at(1, 30)));
        assert!(silenced(
            std::slice::from_ref(&s),
            "any",
            "nightly",
            "prod",
            at(1, 5)
        ));
        assert!(!silenced(&[s], "any", "hourly", "prod", at(1, 5)));
    }

    #[test]
    fn a_mute_window_holds_after_each_start_for_its_duration() {
        let nightly = SilenceView {
            ends_at: None,
            cron: Some("0 2 * * *".into()),
            duration_secs: Some(3600),
            ..silence()
        };
        assert!(!active(&nightly, at(1, 59)));
        assert!(active(&nightly, at(2, 0)));
        assert!(active(&nightly, at(2, 59)));
        assert!(!active(&nightly, at(3, 0)));
        let berlin = SilenceView {
            time_zone: Some("Europe/Berlin".into()),
            ..nightly
        };
        // 02:00 in Berlin is 01:00 UTC in December.
        assert!(active(&berlin, at(1, 30)));
        assert!(!active(&berlin, at(2, 30)));
    }
}
