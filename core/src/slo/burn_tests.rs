use super::*;
use std::time::Duration;

const DAY: u64 = 86_400;

fn t(ppm: u32) -> Target {
    Target::from_ppm(ppm).unwrap()
}

fn c(good: u64, bad: u64) -> Counts {
    Counts::new(good, bad)
}

/// The same counts in every window.
fn everywhere(counts: Counts) -> WindowCounts {
    let mut w = WindowCounts::default();
    for window in BurnWindow::ALL {
        w.set(window, counts);
    }
    w
}

#[test]
fn burn_rate_is_the_error_ratio_over_the_budget() {
    // Workbook: at 99.9%, a 0.1% error ratio burns at 1, 100% errors at 1000.
    assert_eq!(burn_rate(t(999_000), c(999, 1)), Some(1.0));
    assert_eq!(burn_rate(t(999_000), c(0, 50)), Some(1000.0));
    assert_eq!(burn_rate(t(999_000), c(50, 0)), Some(0.0));
    let r = burn_rate(t(990_000), c(90, 10)).unwrap();
    assert!((r - 10.0).abs() < 1e-9, "{r}");
}

#[test]
fn an_empty_window_has_no_burn() {
    assert_eq!(burn_rate(t(999_000), Counts::default()), None);
    assert!(!burns_faster(t(999_000), Counts::default(), 0));
}

#[test]
fn the_threshold_itself_does_not_fire() {
    // 14.4 × 0.1% = a 1.44% error ratio: 144 bad in 10 000 is exactly at
    // the factor (the workbook's rule is `>`), 145 is over it.
    assert!(!burns_faster(t(999_000), c(9_856, 144), 144));
    assert!(burns_faster(t(999_000), c(9_855, 145), 144));
    // 6 × 0.1% = 0.6%.
    assert!(!burns_faster(t(999_000), c(994, 6), 60));
    assert!(burns_faster(t(999_000), c(993, 7), 60));
    // 1× at 99%: 1 bad in 100 is exactly even spending.
    assert!(!burns_faster(t(990_000), c(99, 1), 10));
    assert!(burns_faster(t(990_000), c(98, 2), 10));
}

#[test]
fn budget_shares_match_the_workbook_table_for_30_days() {
    let month = Duration::from_secs(30 * DAY);
    let shares: Vec<f64> = AlertPair::ALL
        .iter()
        .map(|p| p.budget_share(month))
        .collect();
    for (got, want) in shares.iter().zip([0.02, 0.05, 0.10, 0.10]) {
        assert!((got - want).abs() < 1e-12, "{shares:?}");
    }
    // Kept for a 28-day window, the 1h page spends 14.4 ÷ 672 of it.
    let four_weeks = Duration::from_secs(28 * DAY);
    let share = AlertPair::Page1h.budget_share(four_weeks);
    assert!((share - 14.4 / 672.0).abs() < 1e-12, "{share}");
    assert!(AlertPair::Page1h.budget_share(Duration::ZERO).is_infinite());
}

#[test]
fn the_pairs_are_the_workbooks() {
    let table: Vec<_> = AlertPair::ALL
        .iter()
        .map(|p| {
            (
                p.severity(),
                p.long().label(),
                p.short().label(),
                p.factor(),
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            (Severity::Page, "1h", "5m", 14.4),
            (Severity::Page, "6h", "30m", 6.0),
            (Severity::Ticket, "1d", "2h", 3.0),
            (Severity::Ticket, "3d", "6h", 1.0),
        ]
    );
    for pair in AlertPair::ALL {
        assert_eq!(
            pair.short().duration() * 12,
            pair.long().duration(),
            "{pair:?}: the short window is a twelfth of the long one"
        );
    }
}

#[test]
fn a_hard_outage_pages_on_the_fastest_pair() {
    // 99.9%: everything failing burns at 1000 in every window.
    let w = everywhere(c(0, 20));
    assert_eq!(decide(t(999_000), &w), Decision::Page(AlertPair::Page1h));
    assert_eq!(holding(t(999_000), &w), AlertPair::ALL.to_vec());
}

#[test]
fn a_page_needs_both_windows() {
    let target = t(999_000);
    // The last hour burned 20× (2% errors), and so did the last 5 minutes.
    let mut w = WindowCounts {
        m5: c(98, 2),
        h1: c(980, 20),
        ..WindowCounts::default()
    };
    assert_eq!(decide(target, &w), Decision::Page(AlertPair::Page1h));
    // The burst is over: the last 5 minutes are clean, so no new page.
    w.m5 = c(100, 0);
    assert_eq!(decide(target, &w), Decision::Quiet);
    // Nothing finished in the last 5 minutes: no burn there, no page.
    w.m5 = Counts::default();
    assert_eq!(decide(target, &w), Decision::Quiet);
    // A hot short window alone is a blip.
    let blip = WindowCounts {
        m5: c(0, 3),
        h1: c(3_000, 3),
        ..WindowCounts::default()
    };
    assert_eq!(decide(target, &blip), Decision::Quiet);
}

#[test]
fn slower_burns_page_on_6h_or_ticket() {
    let target = t(999_000);
    // 0.8% errors: 8×, under 14.4 but over 6.
    let page6 = WindowCounts {
        m30: c(992, 8),
        h6: c(9_920, 80),
        ..WindowCounts::default()
    };
    assert_eq!(decide(target, &page6), Decision::Page(AlertPair::Page6h));
    // 0.4% errors over a day and the last 2 hours: 4×, a ticket.
    let ticket = WindowCounts {
        h2: c(996, 4),
        d1: c(9_960, 40),
        ..WindowCounts::default()
    };
    assert_eq!(
        decide(target, &ticket),
        Decision::Ticket(AlertPair::Ticket1d)
    );
    // 0.15% errors over three days and the last 6 hours: 1.5×.
    let slow = WindowCounts {
        h6: c(1_997, 3),
        d3: c(19_970, 30),
        ..WindowCounts::default()
    };
    assert_eq!(decide(target, &slow), Decision::Ticket(AlertPair::Ticket3d));
    assert_eq!(decide(target, &slow).severity(), Some(Severity::Ticket));
    assert_eq!(Decision::Quiet.severity(), None);
}

#[test]
fn a_firing_alert_resolves_when_its_long_window_calms() {
    let target = t(999_000);
    let mut w = WindowCounts {
        m5: c(98, 2),
        h1: c(980, 20),
        ..WindowCounts::default()
    };
    assert!(AlertPair::Page1h.holds(target, &w));
    assert!(!AlertPair::Page1h.resolved(target, &w));
    // The short window went quiet, but the hour still burns 20×: keep firing
    // (the hysteresis that stops fire/resolve per failed run).
    w.m5 = Counts::default();
    assert!(!AlertPair::Page1h.holds(target, &w));
    assert!(!AlertPair::Page1h.resolved(target, &w));
    // The hour falls to exactly the threshold (1.44% errors): resolved.
    w.h1 = c(98_560, 1_440);
    assert!(AlertPair::Page1h.resolved(target, &w));
    // So does a long window with no runs at all.
    w.h1 = Counts::default();
    assert!(AlertPair::Page1h.resolved(target, &w));
}

#[test]
fn one_failure_of_an_hourly_job_pages() {
    // The low-volume case in numbers: at 99%, the single run of the last
    // hour failing is a burn of 100×, over every factor. The volume check
    // (super::super::volume) is how the UI says so honestly.
    let target = t(990_000);
    let w = WindowCounts {
        m5: c(0, 1),
        h1: c(0, 1),
        ..WindowCounts::default()
    };
    assert_eq!(burn_rate(target, w.h1), Some(100.0));
    assert_eq!(decide(target, &w), Decision::Page(AlertPair::Page1h));
}

#[test]
fn window_counts_get_what_was_set() {
    let mut w = WindowCounts::default();
    for (i, window) in BurnWindow::ALL.into_iter().enumerate() {
        w.set(window, c(i as u64, 1));
    }
    for (i, window) in BurnWindow::ALL.into_iter().enumerate() {
        assert_eq!(w.get(window), c(i as u64, 1), "{window:?}");
    }
    let json = serde_json::to_value(w).unwrap();
    assert_eq!(json["5m"], serde_json::json!({"good": 0, "bad": 1}));
    assert_eq!(json["3d"], serde_json::json!({"good": 6, "bad": 1}));
}

#[test]
fn windows_are_ordered_and_labelled() {
    let secs: Vec<u64> = BurnWindow::ALL
        .iter()
        .map(|w| w.duration().as_secs())
        .collect();
    assert_eq!(secs, vec![300, 1_800, 3_600, 7_200, 21_600, DAY, 3 * DAY]);
    for w in BurnWindow::ALL {
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            format!("\"{}\"", w.label())
        );
        assert_eq!(humantime::parse_duration(w.label()).unwrap(), w.duration());
    }
}

#[test]
fn decisions_serialize_with_their_pair() {
    assert_eq!(
        serde_json::to_string(&Decision::Page(AlertPair::Page1h)).unwrap(),
        r#"{"decision":"page","pair":"page1h"}"#
    );
    assert_eq!(
        serde_json::to_string(&Decision::Quiet).unwrap(),
        r#"{"decision":"quiet"}"#
    );
}
