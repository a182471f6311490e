//! Freeze-window arithmetic: validating what an admin asks for, whether a
//! freeze holds at a moment and until when, and when a window next starts.
//!
//! Recurring windows follow the wall clock of their time zone:
//! - an occurrence starts at the cron slot computed in the zone (the
//!   scheduler's rule, `schedule.rs`): a slot inside the hour skipped in
//!   spring starts at the first instant after the gap; a slot in the hour
//!   repeated in autumn starts once, at its first occurrence;
//! - it ends `duration` of *wall-clock* time after its local start, so
//!   `0 18 * * FRI` for `60h` ends Monday 06:00 local every week, lasting
//!   59 h on the weekend clocks go forward and 61 h when they go back;
//! - an end that falls into a skipped hour is the first instant after the
//!   gap; one that falls into a repeated hour is its second occurrence (the
//!   freeze holds the longer of the two).

use super::{
    ActiveFreeze, FreezeAsk, FreezeSchedule, FreezeWindow, MAX_DURATION, MAX_REASON_CHARS,
    MIN_DURATION,
};
use crate::promotion::duration::PolicyDuration;
use crate::schedule::{CronSchedule, parse_timezone};
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Windows chained end to start are followed at most this far.
const MAX_CHAIN: usize = 64;

/// What is wrong with an ask, naming the field to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

/// Every problem with `ask` at `now`; empty when it may be saved.
pub fn validate(ask: &FreezeAsk, now: DateTime<Utc>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let reason = ask.reason.trim();
    if reason.is_empty() {
        problems.push(problem(
            "reason",
            "say why the environment is frozen (people waiting read it)",
        ));
    } else if reason.chars().count() > MAX_REASON_CHARS {
        problems.push(problem(
            "reason",
            format!("keep the reason within {MAX_REASON_CHARS} characters"),
        ));
    }
    match &ask.schedule {
        FreezeSchedule::OneOff { start, end } => {
            if end <= start {
                problems.push(problem("end", "the end must come after the start"));
            } else if *end - *start > MAX_DURATION.as_chrono() {
                problems.push(problem(
                    "end",
                    format!("a one-off window may last at most {MAX_DURATION}; declare a recurring one or several"),
                ));
            }
            if *end <= now {
                problems.push(problem("end", "this window has already ended"));
            }
        }
        FreezeSchedule::Recurring {
            cron,
            duration,
            timezone,
        } => {
            let tz_ok = match parse_timezone(timezone.trim()) {
                Ok(_) => true,
                Err(e) => {
                    problems.push(problem("timezone", e));
                    false
                }
            };
            let zone = if tz_ok { timezone.trim() } else { "UTC" };
            match CronSchedule::parse(cron, Some(zone)) {
                Ok(schedule) => {
                    if schedule.next_after(now).is_none() {
                        problems.push(problem(
                            "cron",
                            format!("\"{}\" never occurs; check the day and month", cron.trim()),
                        ));
                    }
                }
                Err(e) => problems.push(problem("cron", e)),
            }
            if let Some(why) = duration.check(MIN_DURATION, MAX_DURATION) {
                problems.push(problem("duration", why));
            }
        }
    }
    problems
}

/// A recurring window's parsed form.
struct Recurring {
    schedule: CronSchedule,
    tz: Tz,
    duration: PolicyDuration,
}

fn recurring(window: &FreezeWindow) -> Option<Recurring> {
    match &window.schedule {
        FreezeSchedule::Recurring {
            cron,
            duration,
            timezone,
        } => {
            let schedule = CronSchedule::parse(cron, Some(timezone.trim())).ok()?;
            Some(Recurring {
                tz: schedule.timezone(),
                schedule,
                duration: *duration,
            })
        }
        FreezeSchedule::OneOff { .. } => None,
    }
}

/// `local` in `tz`: a skipped time is the first instant after the gap, a
/// repeated one its later occurrence.
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut t = local;
    // Gaps are at most a few hours; walk minute by minute out of one.
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return Some(x.with_timezone(&Utc)),
            LocalResult::Ambiguous(_, later) => return Some(later.with_timezone(&Utc)),
            LocalResult::None => {
                t = t.checked_add_signed(Duration::minutes(1))?;
                // The first valid minute may be past a whole minute mark
                // the gap ends on; snap to it.
                t = t.with_second_and_nanos_zeroed();
            }
        }
    }
    None
}

trait ZeroSeconds {
    fn with_second_and_nanos_zeroed(self) -> Self;
}

impl ZeroSeconds for NaiveDateTime {
    fn with_second_and_nanos_zeroed(self) -> Self {
        use chrono::Timelike;
        self.with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(self)
    }
}

/// The end of the occurrence that starts at `start`.
fn occurrence_end(r: &Recurring, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = start.with_timezone(&r.tz).naive_local();
    resolve(r.tz, local.checked_add_signed(r.duration.as_chrono())?)
}

/// The end of `window`'s span containing `t`, if one does.
fn holds_until(window: &FreezeWindow, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match &window.schedule {
        FreezeSchedule::OneOff { start, end } => (*start <= t && t < *end).then_some(*end),
        FreezeSchedule::Recurring { .. } => {
            let r = recurring(window)?;
            let latest = r.schedule.latest_at_or_before(t)?;
            // The one before too: in a repeated hour a later slot can end
            // earlier on the wall clock than the one before it.
            let before = r
                .schedule
                .latest_at_or_before(latest - Duration::seconds(1));
            [Some(latest), before]
                .into_iter()
                .flatten()
                .filter_map(|s| occurrence_end(&r, s))
                .filter(|end| t < *end)
                .max()
        }
    }
}

/// The freeze in force at `now` among `windows` (one environment's), and
/// until when: windows that overlap or follow each other without a gap
/// count as one freeze.
pub fn active_at(windows: &[FreezeWindow], now: DateTime<Utc>) -> Option<ActiveFreeze> {
    let (first, mut until) = windows
        .iter()
        .filter_map(|w| holds_until(w, now).map(|end| (w, end)))
        .max_by_key(|(_, end)| *end)?;
    for _ in 0..MAX_CHAIN {
        match windows.iter().filter_map(|w| holds_until(w, until)).max() {
            Some(later) if later > until => until = later,
            _ => break,
        }
    }
    Some(ActiveFreeze {
        window_id: first.id.clone(),
        reason: first.reason.clone(),
        until,
    })
}

/// The end of `window`'s span containing `now`, if it holds now.
pub fn active_until(window: &FreezeWindow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    holds_until(window, now)
}

/// When `window` next starts, strictly after `now`.
pub fn next_start(window: &FreezeWindow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match &window.schedule {
        FreezeSchedule::OneOff { start, .. } => (*start > now).then_some(*start),
        FreezeSchedule::Recurring { .. } => recurring(window)?.schedule.next_after(now),
    }
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
