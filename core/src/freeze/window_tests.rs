use super::*;
use crate::approval::Person;
use chrono::TimeZone;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn window(id: &str, schedule: FreezeSchedule) -> FreezeWindow {
    FreezeWindow {
        id: id.to_owned(),
        environment: "prod".into(),
        reason: format!("reason {id}"),
        schedule,
        created_by: Person {
            id: "p".into(),
            name: "P".into(),
        },
        created_at: utc(2026, 1, 1, 0, 0),
    }
}

fn recurring(cron: &str, duration: PolicyDuration, tz: &str) -> FreezeWindow {
    window(
        "r",
        FreezeSchedule::Recurring {
            cron: cron.into(),
            duration,
            timezone: tz.into(),
        },
    )
}

fn one_off(id: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> FreezeWindow {
    window(id, FreezeSchedule::OneOff { start, end })
}

fn until(windows: &[FreezeWindow], t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    active_at(windows, t).map(|a| a.until)
}

#[test]
fn a_one_off_window_holds_from_its_start_up_to_its_end() {
    let w = [one_off("a", utc(2026, 5, 1, 10, 0), utc(2026, 5, 1, 12, 0))];
    assert_eq!(until(&w, utc(2026, 5, 1, 9, 59)), None);
    assert_eq!(
        until(&w, utc(2026, 5, 1, 10, 0)),
        Some(utc(2026, 5, 1, 12, 0))
    );
    assert_eq!(
        until(&w, utc(2026, 5, 1, 11, 59)),
        Some(utc(2026, 5, 1, 12, 0))
    );
    assert_eq!(until(&w, utc(2026, 5, 1, 12, 0)), None);
    let a = active_at(&w, utc(2026, 5, 1, 11, 0)).unwrap();
    assert_eq!(a.window_id, "a");
    assert_eq!(a.reason, "reason a");
}

#[test]
fn overlapping_and_back_to_back_windows_hold_until_the_end_of_the_chain() {
    let w = [
        one_off("a", utc(2026, 5, 1, 10, 0), utc(2026, 5, 1, 12, 0)),
        one_off("b", utc(2026, 5, 1, 11, 0), utc(2026, 5, 1, 14, 0)),
        one_off("c", utc(2026, 5, 1, 14, 0), utc(2026, 5, 1, 15, 0)),
        one_off("later", utc(2026, 5, 1, 15, 1), utc(2026, 5, 1, 16, 0)),
    ];
    let a = active_at(&w, utc(2026, 5, 1, 10, 30)).unwrap();
    assert_eq!(a.window_id, "a");
    assert_eq!(a.until, utc(2026, 5, 1, 15, 0));
    assert_eq!(until(&w, utc(2026, 5, 1, 15, 0)), None);
}

#[test]
fn a_weekend_freeze_in_berlin_ends_on_monday_morning_local_across_the_spring_change() {
    // Clocks go forward on Sunday 2026-03-29: 59 hours that weekend.
    let w = [recurring(
        "0 18 * * 5",
        PolicyDuration::from_hours(60),
        "Europe/Berlin",
    )];
    // Friday 18:00 CET is 17:00Z.
    assert_eq!(until(&w, utc(2026, 3, 27, 16, 59)), None);
    assert_eq!(
        until(&w, utc(2026, 3, 27, 17, 0)),
        Some(utc(2026, 3, 30, 4, 0))
    );
    // Monday 06:00 CEST is 04:00Z.
    assert_eq!(
        until(&w, utc(2026, 3, 30, 3, 59)),
        Some(utc(2026, 3, 30, 4, 0))
    );
    assert_eq!(until(&w, utc(2026, 3, 30, 4, 0)), None);
    // The weekend before, in winter time throughout: 60 hours.
    assert_eq!(
        until(&w, utc(2026, 3, 22, 12, 0)),
        Some(utc(2026, 3, 23, 5, 0))
    );
    // The weekend after, in summer time: Friday 18:00 CEST is 16:00Z.
    assert_eq!(until(&w, utc(2026, 4, 3, 15, 59)), None);
    assert_eq!(
        until(&w, utc(2026, 4, 3, 16, 0)),
        Some(utc(2026, 4, 6, 4, 0))
    );
}

#[test]
fn a_weekend_freeze_in_berlin_lasts_61_hours_when_the_clocks_go_back() {
    let w = [recurring(
        "0 18 * * 5",
        PolicyDuration::from_hours(60),
        "Europe/Berlin",
    )];
    // Friday 2026-10-23 18:00 CEST (16:00Z) to Monday 06:00 CET (05:00Z).
    assert_eq!(
        until(&w, utc(2026, 10, 23, 16, 0)),
        Some(utc(2026, 10, 26, 5, 0))
    );
    assert_eq!(
        until(&w, utc(2026, 10, 26, 4, 59)),
        Some(utc(2026, 10, 26, 5, 0))
    );
    assert_eq!(until(&w, utc(2026, 10, 26, 5, 0)), None);
}

#[test]
fn a_night_freeze_in_new_york_follows_both_changes() {
    // Saturday 22:00 for 6 hours, ends Sunday 04:00 local.
    let w = [recurring(
        "0 22 * * 6",
        PolicyDuration::from_hours(6),
        "America/New_York",
    )];
    // 2026-03-07 22:00 EST = 03:00Z; 04:00 EDT = 08:00Z (5 hours).
    assert_eq!(
        until(&w, utc(2026, 3, 8, 3, 0)),
        Some(utc(2026, 3, 8, 8, 0))
    );
    assert_eq!(until(&w, utc(2026, 3, 8, 8, 0)), None);
    // 2026-10-31 22:00 EDT = 02:00Z; 04:00 EST = 09:00Z (7 hours).
    assert_eq!(
        until(&w, utc(2026, 11, 1, 2, 0)),
        Some(utc(2026, 11, 1, 9, 0))
    );
    assert_eq!(
        until(&w, utc(2026, 11, 1, 8, 59)),
        Some(utc(2026, 11, 1, 9, 0))
    );
    assert_eq!(until(&w, utc(2026, 11, 1, 1, 59)), None);
}

#[test]
fn an_occurrence_in_the_skipped_hour_starts_when_the_clock_jumps() {
    // 02:30 does not exist in Berlin on 2026-03-29: the window starts at
    // 03:00 CEST (01:00Z) and lasts its hour from there.
    let w = [recurring(
        "30 2 * * *",
        PolicyDuration::from_hours(1),
        "Europe/Berlin",
    )];
    assert_eq!(until(&w, utc(2026, 3, 29, 0, 59)), None);
    assert_eq!(
        until(&w, utc(2026, 3, 29, 1, 0)),
        Some(utc(2026, 3, 29, 2, 0))
    );
    assert_eq!(until(&w, utc(2026, 3, 29, 2, 0)), None);
    assert_eq!(
        next_start(&w[0], utc(2026, 3, 28, 12, 0)),
        Some(utc(2026, 3, 29, 1, 0))
    );
}

#[test]
fn an_occurrence_in_the_repeated_hour_starts_once_and_ends_on_the_wall_clock() {
    // 02:30 happens twice in Berlin on 2026-10-25: the window starts at the
    // first (CEST, 00:30Z) and ends at 03:30 CET (02:30Z), two hours later.
    let w = [recurring(
        "30 2 * * *",
        PolicyDuration::from_hours(1),
        "Europe/Berlin",
    )];
    assert_eq!(until(&w, utc(2026, 10, 25, 0, 29)), None);
    assert_eq!(
        until(&w, utc(2026, 10, 25, 0, 30)),
        Some(utc(2026, 10, 25, 2, 30))
    );
    assert_eq!(
        until(&w, utc(2026, 10, 25, 1, 30)),
        Some(utc(2026, 10, 25, 2, 30))
    );
    assert_eq!(until(&w, utc(2026, 10, 25, 2, 30)), None);
    assert_eq!(
        next_start(&w[0], utc(2026, 10, 25, 0, 30)),
        Some(utc(2026, 10, 26, 1, 30))
    );
}

#[test]
fn an_end_in_the_skipped_hour_is_the_first_instant_after_the_gap() {
    // 01:00 CET + 90 min = 02:30, which doesn't exist: 03:00 CEST (01:00Z).
    let w = [recurring(
        "0 1 * * *",
        PolicyDuration::from_mins(90),
        "Europe/Berlin",
    )];
    assert_eq!(
        until(&w, utc(2026, 3, 29, 0, 0)),
        Some(utc(2026, 3, 29, 1, 0))
    );
}

#[test]
fn an_end_in_the_repeated_hour_is_its_second_occurrence() {
    // 01:00 CEST + 90 min = 02:30, twice: the later, 02:30 CET (01:30Z).
    let w = [recurring(
        "0 1 * * *",
        PolicyDuration::from_mins(90),
        "Europe/Berlin",
    )];
    assert_eq!(
        until(&w, utc(2026, 10, 24, 23, 0)),
        Some(utc(2026, 10, 25, 1, 30))
    );
    assert_eq!(
        until(&w, utc(2026, 10, 25, 1, 29)),
        Some(utc(2026, 10, 25, 1, 30))
    );
    assert_eq!(until(&w, utc(2026, 10, 25, 1, 30)), None);
}

#[test]
fn occurrences_longer_than_their_interval_chain_into_one_freeze() {
    // Hourly for 90 minutes: once in, it never lets go until the last slot.
    let w = [recurring(
        "0 9-11 * * *",
        PolicyDuration::from_mins(90),
        "UTC",
    )];
    assert_eq!(
        until(&w, utc(2026, 5, 1, 9, 10)),
        Some(utc(2026, 5, 1, 12, 30))
    );
    assert_eq!(until(&w, utc(2026, 5, 1, 12, 30)), None);
}

#[test]
fn next_start_of_a_one_off_window_is_its_start_until_it_begins() {
    let w = one_off("a", utc(2026, 5, 1, 10, 0), utc(2026, 5, 1, 12, 0));
    assert_eq!(
        next_start(&w, utc(2026, 5, 1, 9, 0)),
        Some(utc(2026, 5, 1, 10, 0))
    );
    assert_eq!(next_start(&w, utc(2026, 5, 1, 10, 0)), None);
    assert_eq!(
        active_until(&w, utc(2026, 5, 1, 10, 0)),
        Some(utc(2026, 5, 1, 12, 0))
    );
}

fn fields(ask: &FreezeAsk) -> Vec<&'static str> {
    validate(ask, utc(2026, 5, 1, 0, 0))
        .into_iter()
        .map(|p| p.field)
        .collect()
}

#[test]
fn validation_names_the_field_to_fix() {
    let rec = |cron: &str, d: PolicyDuration, tz: &str| FreezeAsk {
        reason: "release week".into(),
        schedule: FreezeSchedule::Recurring {
            cron: cron.into(),
            duration: d,
            timezone: tz.into(),
        },
    };
    let h = PolicyDuration::from_hours(1);
    assert!(fields(&rec("0 18 * * 5", h, "Europe/Berlin")).is_empty());
    assert_eq!(fields(&rec("0 18 * *", h, "Europe/Berlin")), ["cron"]);
    assert_eq!(fields(&rec("0 0 30 2 *", h, "UTC")), ["cron"]);
    assert_eq!(fields(&rec("0 18 * * 5", h, "Mars/Olympus")), ["timezone"]);
    assert_eq!(
        fields(&rec("0 18 * * 5", PolicyDuration::from_secs(30), "UTC")),
        ["duration"]
    );
    assert_eq!(
        fields(&rec("0 18 * * 5", PolicyDuration::from_days(32), "UTC")),
        ["duration"]
    );
    let off = |reason: &str, start, end| FreezeAsk {
        reason: reason.into(),
        schedule: FreezeSchedule::OneOff { start, end },
    };
    assert!(fields(&off("x", utc(2026, 5, 2, 0, 0), utc(2026, 5, 3, 0, 0))).is_empty());
    assert_eq!(
        fields(&off("  ", utc(2026, 5, 2, 0, 0), utc(2026, 5, 3, 0, 0))),
        ["reason"]
    );
    assert_eq!(
        fields(&off(
            &"x".repeat(501),
            utc(2026, 5, 2, 0, 0),
            utc(2026, 5, 3, 0, 0)
        )),
        ["reason"]
    );
    assert_eq!(
        fields(&off("x", utc(2026, 5, 3, 0, 0), utc(2026, 5, 2, 0, 0))),
        ["end"]
    );
    assert_eq!(
        fields(&off("x", utc(2026, 5, 2, 0, 0), utc(2026, 7, 2, 0, 0))),
        ["end"]
    );
    assert_eq!(
        fields(&off("x", utc(2026, 4, 2, 0, 0), utc(2026, 4, 3, 0, 0))),
        ["end"]
    );
}

#[test]
fn the_ask_reads_from_json_with_a_kind_tag() {
    let ask: FreezeAsk = serde_json::from_str(
        r#"{"reason":"r","kind":"recurring","cron":"0 18 * * 5","duration":"60h","timezone":"Europe/Berlin"}"#,
    )
    .unwrap();
    assert_eq!(
        ask.schedule,
        FreezeSchedule::Recurring {
            cron: "0 18 * * 5".into(),
            duration: PolicyDuration::from_hours(60),
            timezone: "Europe/Berlin".into()
        }
    );
    let ask: FreezeAsk = serde_json::from_str(
        r#"{"reason":"r","kind":"one_off","start":"2026-05-01T10:00:00Z","end":"2026-05-01T12:00:00Z"}"#,
    )
    .unwrap();
    assert!(matches!(ask.schedule, FreezeSchedule::OneOff { .. }));
}

#[test]
fn a_break_is_recorded_under_the_action_the_privilege_escalation_alert_reads() {
    use crate::alert::kinds::privilege_escalation::{ESCALATION_ACTIONS, FREEZE_BREAK_ACTION};
    use crate::audit::AuditAction;
    assert_eq!(AuditAction::FreezeBreak.as_str(), FREEZE_BREAK_ACTION);
    assert!(ESCALATION_ACTIONS.contains(&AuditAction::FreezeBreak.as_str()));
    assert_eq!(
        AuditAction::parse("freeze.break"),
        Some(AuditAction::FreezeBreak)
    );
}
