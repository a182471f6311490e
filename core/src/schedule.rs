//! Cron schedules: parsing the spec's `schedule`/`timezone` and deciding when
//! a workflow fires. Pure: the scheduler passes `now` in.
//!
//! Slots are computed in the schedule's time zone, so `0 3 * * *` in
//! Europe/Berlin means 03:00 local all year. On the spring-forward day a
//! wall-clock time that does not exist fires at the first instant after the
//! gap; on the fall-back day a repeated time fires once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

/// Most missed slots [`CronSchedule::due`] counts one by one; beyond that it
/// jumps straight to the latest slot, so a year of downtime costs the same
/// as a day.
pub const MAX_MISSED_COUNT: u32 = 1000;

const MACROS: [&str; 6] = [
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
];

/// A parsed schedule with its time zone.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

/// One firing decided by [`CronSchedule::due`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fire {
    /// The most recent slot at or before `now`: the run is "for" this time.
    pub scheduled_for: DateTime<Utc>,
    /// Earlier slots collapsed into this fire (0 when on time), counted up
    /// to [`MAX_MISSED_COUNT`].
    pub missed: u32,
    /// The next slot strictly after `now`, to store for the next check.
    pub next_fire_at: DateTime<Utc>,
}

impl CronSchedule {
    /// Parses five cron fields (minute hour day-of-month month day-of-week)
    /// or a macro (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`),
    /// in the IANA `timezone` (UTC when `None`). The error says what to fix.
    pub fn parse(expr: &str, timezone: Option<&str>) -> Result<CronSchedule, String> {
        let tz = match timezone {
            Some(name) => parse_timezone(name)?,
            None => Tz::UTC,
        };
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err("schedule is empty; write five fields like \"0 3 * * *\"".to_owned());
        }
        if trimmed.starts_with('@') {
            if !MACROS.iter().any(|m| m.eq_ignore_ascii_case(trimmed)) {
                return Err(format!(
                    "unknown schedule \"{trimmed}\"; use five cron fields or one of @hourly, @daily, @weekly, @monthly, @yearly"
                ));
            }
        } else {
            let fields = trimmed.split_whitespace().count();
            if fields != 5 {
                return Err(format!(
                    "schedule \"{trimmed}\" has {fields} fields; write exactly five (minute hour day-of-month month day-of-week), seconds and years are not supported"
                ));
            }
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(trimmed)
            .map_err(|e| format!("invalid schedule \"{trimmed}\": {e}"))?;
        Ok(CronSchedule { cron, tz })
    }

    /// The time zone slots are computed in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first slot strictly after `t`, or `None` if there is none (a
    /// pattern such as February 30th never matches).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut from = t.with_timezone(&self.tz);
        // croner works in whole seconds; guard "strictly after" for
        // sub-second `t` anyway. Two rounds always suffice.
        for _ in 0..3 {
            let next = self.cron.find_next_occurrence(&from, false).ok()?;
            let next_utc = next.with_timezone(&Utc);
            if next_utc > t {
                return Some(next_utc);
            }
            from = next;
        }
        None
    }

    /// The latest slot at or before `t` (freeze windows find the
    /// occurrence they are in with it).
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.tz), true)
            .ok()
            .map(|p| p.with_timezone(&Utc))
            .filter(|p| *p <= t)
    }

    /// Whether the workflow fires now. `next_fire_at` is the stored next slot;
    /// `None` while it is still in the future. After downtime this is exactly
    /// one fire for the most recent slot (never a catch-up storm), with the
    /// skipped slots counted in [`Fire::missed`].
    pub fn due(&self, next_fire_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Fire> {
        if next_fire_at > now {
            return None;
        }
        // The stored slot may not match the pattern any more (the schedule
        // was edited); it is still owed, so it is the floor.
        let scheduled_for = self
            .latest_at_or_before(now)
            .filter(|latest| *latest > next_fire_at)
            .unwrap_or(next_fire_at);

        let mut missed = 0;
        let mut slot = next_fire_at;
        while slot < scheduled_for && missed < MAX_MISSED_COUNT {
            missed += 1;
            match self.next_after(slot) {
                Some(next) => slot = next,
                None => break,
            }
        }

        Some(Fire {
            scheduled_for,
            missed,
            next_fire_at: self.next_after(now).unwrap_or(DateTime::<Utc>::MAX_UTC),
        })
    }
}

/// Parses an IANA time zone name such as `Europe/Berlin`.
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!(
            "unknown time zone \"{name}\"; use an IANA name such as \"UTC\" or \"Europe/Berlin\""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn daily_at_three_utc() {
        let s = CronSchedule::parse("0 3 * * *", None).unwrap();
        assert_eq!(
            s.next_after(utc(2025, 1, 1, 0, 0)),
            Some(utc(2025, 1, 1, 3, 0))
        );
        // Strictly after: exactly at a slot gives the next one.
        assert_eq!(
            s.next_after(utc(2025, 1, 1, 3, 0)),
            Some(utc(2025, 1, 2, 3, 0))
        );
        let just_after = utc(2025, 1, 1, 3, 0) + Duration::milliseconds(1);
        assert_eq!(s.next_after(just_after), Some(utc(2025, 1, 2, 3, 0)));
        let just_before = utc(2025, 1, 1, 3, 0) - Duration::milliseconds(1);
        assert_eq!(s.next_after(just_before), Some(utc(2025, 1, 1, 3, 0)));
    }

    #[test]
    fn daily_at_three_in_berlin_follows_dst() {
        let s = CronSchedule::parse("0 3 * * *", Some("Europe/Berlin")).unwrap();
        // Winter (UTC+1) → 02:00Z; spring-forward night 2025-03-30 → summer (UTC+2) → 01:00Z.
        assert_eq!(
            s.next_after(utc(2025, 3, 28, 12, 0)),
            Some(utc(2025, 3, 29, 2, 0))
        );
        assert_eq!(
            s.next_after(utc(2025, 3, 29, 2, 0)),
            Some(utc(2025, 3, 30, 1, 0))
        );
        assert_eq!(
            s.next_after(utc(2025, 3, 30, 1, 0)),
            Some(utc(2025, 3, 31, 1, 0))
        );
        // Autumn: 2025-10-26 back to UTC+1.
        assert_eq!(
            s.next_after(utc(2025, 10, 25, 12, 0)),
            Some(utc(2025, 10, 26, 2, 0))
        );
    }

    #[test]
    fn nonexistent_and_repeated_local_times() {
        let s = CronSchedule::parse("30 2 * * *", Some("Europe/Berlin")).unwrap();
        // 02:30 does not exist on 2025-03-30: fires right after the gap (03:00 CEST).
        assert_eq!(
            s.next_after(utc(2025, 3, 29, 12, 0)),
            Some(utc(2025, 3, 30, 1, 0))
        );
        // 02:30 happens twice on 2025-10-26: fires once, then the next day.
        let first = s.next_after(utc(2025, 10, 25, 12, 0)).unwrap();
        assert_eq!(first, utc(2025, 10, 26, 0, 30));
        assert_eq!(s.next_after(first), Some(utc(2025, 10, 27, 1, 30)));
    }

    #[test]
    fn every_fifteen_minutes() {
        let s = CronSchedule::parse("*/15 * * * *", None).unwrap();
        let mut t = utc(2025, 6, 1, 10, 7);
        let mut got = Vec::new();
        for _ in 0..4 {
            t = s.next_after(t).unwrap();
            got.push(t);
        }
        assert_eq!(
            got,
            [
                utc(2025, 6, 1, 10, 15),
                utc(2025, 6, 1, 10, 30),
                utc(2025, 6, 1, 10, 45),
                utc(2025, 6, 1, 11, 0)
            ]
        );
    }

    #[test]
    fn macros() {
        let cases = [
            ("@hourly", utc(2025, 1, 1, 1, 0)),
            ("@daily", utc(2025, 1, 2, 0, 0)),
            ("@weekly", utc(2025, 1, 5, 0, 0)), // 2025-01-05 is a Sunday
            ("@monthly", utc(2025, 2, 1, 0, 0)),
            ("@yearly", utc(2026, 1, 1, 0, 0)),
            ("@DAILY", utc(2025, 1, 2, 0, 0)),
        ];
        for (expr, want) in cases {
            let s = CronSchedule::parse(expr, None).unwrap();
            assert_eq!(s.next_after(utc(2025, 1, 1, 0, 30)), Some(want), "{expr}");
        }
    }

    #[test]
    fn parse_errors_say_what_to_fix() {
        let cases = [
            ("", None, "schedule is empty"),
            ("0 0 * * * *", None, "has 6 fields; write exactly five"),
            ("0 3 * *", None, "has 4 fields"),
            ("@midnight", None, "unknown schedule \"@midnight\""),
            ("61 * * * *", None, "invalid schedule \"61 * * * *\""),
            ("*/0 * * * *", None, "invalid schedule"),
            ("a b c d e", None, "invalid schedule"),
            (
                "0 3 * * *",
                Some("Mars/Olympus"),
                "unknown time zone \"Mars/Olympus\"",
            ),
            ("0 3 * * *", Some("europe/berlin"), "unknown time zone"),
        ];
        for (expr, tz, want) in cases {
            let err = CronSchedule::parse(expr, tz).unwrap_err();
            assert!(err.contains(want), "{expr:?} {tz:?}: {err}");
        }
    }

    #[test]
    fn a_pattern_that_never_matches_has_no_next_slot() {
        let s = CronSchedule::parse("0 0 30 2 *", None).unwrap();
        assert_eq!(s.next_after(utc(2025, 1, 1, 0, 0)), None);
    }

    #[test]
    fn due_before_the_slot_is_nothing() {
        let s = CronSchedule::parse("0 3 * * *", None).unwrap();
        assert_eq!(s.due(utc(2025, 1, 2, 3, 0), utc(2025, 1, 2, 2, 59)), None);
    }

    #[test]
    fn due_on_time() {
        let s = CronSchedule::parse("0 3 * * *", None).unwrap();
        let slot = utc(2025, 1, 2, 3, 0);
        let want = Fire {
            scheduled_for: slot,
            missed: 0,
            next_fire_at: utc(2025, 1, 3, 3, 0),
        };
        assert_eq!(s.due(slot, slot), Some(want));
        assert_eq!(s.due(slot, slot + Duration::seconds(20)), Some(want));
    }

    #[test]
    fn due_after_a_day_of_downtime_fires_once() {
        let s = CronSchedule::parse("0 3 * * *", None).unwrap();
        let fire = s.due(utc(2025, 1, 2, 3, 0), utc(2025, 1, 3, 4, 0)).unwrap();
        assert_eq!(
            fire,
            Fire {
                scheduled_for: utc(2025, 1, 3, 3, 0),
                missed: 1,
                next_fire_at: utc(2025, 1, 4, 3, 0),
            }
        );
    }

    #[test]
    fn due_after_400_days_fires_once_with_a_capped_count() {
        let s = CronSchedule::parse("0 3 * * *", None).unwrap();
        let now = utc(2025, 1, 2, 3, 0) + Duration::days(400) + Duration::hours(5);
        let fire = s.due(utc(2025, 1, 2, 3, 0), now).unwrap();
        assert_eq!(fire.scheduled_for, utc(2026, 2, 6, 3, 0));
        assert_eq!(fire.missed, 400);
        assert_eq!(fire.next_fire_at, utc(2026, 2, 7, 3, 0));

        let every_minute = CronSchedule::parse("* * * * *", None).unwrap();
        let fire = every_minute.due(utc(2025, 1, 1, 0, 0), now).unwrap();
        assert_eq!(fire.missed, MAX_MISSED_COUNT);
        assert_eq!(fire.scheduled_for, utc(2026, 2, 6, 8, 0));
        assert_eq!(fire.next_fire_at, utc(2026, 2, 6, 8, 1));
    }

    #[test]
    fn due_with_a_stale_slot_from_an_edited_schedule() {
        // Stored 03:00, but the schedule is now 04:00: the owed fire happens
        // now, and the next one follows the new pattern.
        let s = CronSchedule::parse("0 4 * * *", None).unwrap();
        let fire = s.due(utc(2025, 1, 2, 3, 0), utc(2025, 1, 2, 3, 0)).unwrap();
        assert_eq!(fire.scheduled_for, utc(2025, 1, 2, 3, 0));
        assert_eq!(fire.missed, 0);
        assert_eq!(fire.next_fire_at, utc(2025, 1, 2, 4, 0));
    }

    #[test]
    fn due_in_a_time_zone() {
        let s = CronSchedule::parse("0 3 * * *", Some("Europe/Berlin")).unwrap();
        let fire = s
            .due(utc(2025, 3, 29, 2, 0), utc(2025, 3, 30, 1, 30))
            .unwrap();
        assert_eq!(fire.scheduled_for, utc(2025, 3, 30, 1, 0));
        assert_eq!(fire.missed, 1);
        assert_eq!(fire.next_fire_at, utc(2025, 3, 31, 1, 0));
    }
}
