use super::*;
use crate::slo::DurationObjective;
use chrono::TimeZone;
use std::time::Duration as StdDuration;

fn target(ppm: u32) -> Target {
    Target::from_ppm(ppm).unwrap()
}

/// 99% succeed, 90% succeed within 10 minutes, over 28 days.
fn slo() -> SloSpec {
    SloSpec {
        window: SpecDuration(StdDuration::from_secs(28 * 86_400)),
        success: Some(target(990_000)),
        duration: Some(DurationObjective {
            within: SpecDuration(StdDuration::from_secs(600)),
            target: target(900_000),
        }),
    }
}

fn subject(slo: &SloSpec) -> SloSubject<'_> {
    SloSubject {
        workflow: "etl",
        environment: "prod",
        version: 3,
        slo,
    }
}

fn tally(counted: u64, succeeded: u64, in_time: u64) -> RunTally {
    RunTally {
        counted,
        succeeded,
        in_time,
    }
}

/// `window` over the SLO window and in every burn window.
fn everywhere(window: RunTally, burn: RunTally) -> SloTallies {
    SloTallies {
        window,
        burn: [burn; 7],
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 14, 25, 0).unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn a_summary_has_each_objective_with_its_sli_budget_and_volume() {
    let slo = slo();
    // 1 000 runs: 996 succeeded, 950 of them within 10 minutes.
    let s = summarize(
        subject(&slo),
        &everywhere(tally(1_000, 996, 950), tally(0, 0, 0)),
    );
    assert_eq!(
        (s.workflow.as_str(), s.environment.as_str(), s.version),
        ("etl", "prod", 3)
    );
    assert_eq!(
        s.description,
        "99% succeed, 90% succeed within 10m over 28days"
    );
    let [success, duration] = &s.objectives[..] else {
        panic!("two objectives: {s:?}")
    };
    assert_eq!(success.objective, ObjectiveKind::Success);
    assert_eq!(success.counts, Counts::new(996, 4));
    assert!(close(success.sli, 0.996));
    // 10 bad allowed, 4 spent.
    assert!(close(success.budget_remaining, 0.6));
    assert!(!success.too_few_runs);
    assert_eq!(success.within, None);
    assert_eq!(duration.counts, Counts::new(950, 50));
    assert_eq!(
        duration.within,
        Some(SpecDuration(StdDuration::from_secs(600)))
    );
    // 100 bad allowed, 50 spent.
    assert!(close(duration.budget_remaining, 0.5));
    assert_eq!(s.decision, Decision::Quiet);
    assert_eq!(success.severity, None);
}

#[test]
fn no_runs_is_no_data_and_too_few() {
    let slo = slo();
    let s = summarize(subject(&slo), &SloTallies::default());
    for o in &s.objectives {
        assert_eq!(o.sli, None);
        assert_eq!(o.budget_remaining, None);
        assert!(o.too_few_runs);
        assert_eq!(o.counts, Counts::default());
    }
}

#[test]
fn the_summary_decision_is_the_most_urgent_objective() {
    let slo = slo();
    // Every burn window: 100 runs, 93 succeeded, 93 in time. Success burns
    // at 7× (a 6h page and both tickets), duration at 0.7×.
    let s = summarize(
        subject(&slo),
        &everywhere(tally(100, 93, 93), tally(100, 93, 93)),
    );
    assert_eq!(s.objectives[0].decision, Decision::Page(AlertPair::Page6h));
    assert_eq!(s.objectives[0].severity, Some(Severity::Page));
    assert_eq!(s.objectives[1].decision, Decision::Quiet);
    assert_eq!(s.decision, Decision::Page(AlertPair::Page6h));
    assert_eq!(
        most_urgent([
            Decision::Ticket(AlertPair::Ticket1d),
            Decision::Quiet,
            Decision::Page(AlertPair::Page6h),
            Decision::Page(AlertPair::Page1h),
        ]),
        Decision::Page(AlertPair::Page1h)
    );
    assert_eq!(most_urgent([]), Decision::Quiet);
}

#[test]
fn the_status_lists_every_window_and_pair() {
    let slo = slo();
    let mut tallies = everywhere(tally(1_000, 1_000, 1_000), tally(0, 0, 0));
    // 20 runs in the last hour (and so in every longer window), 4 failed:
    // 20 bad in 100 = 20× at 99%.
    for w in [
        BurnWindow::H1,
        BurnWindow::H2,
        BurnWindow::H6,
        BurnWindow::D1,
        BurnWindow::D3,
    ] {
        let i = BurnWindow::ALL.iter().position(|x| *x == w).unwrap();
        tallies.burn[i] = tally(20, 16, 16);
    }
    let i5 = BurnWindow::ALL
        .iter()
        .position(|x| *x == BurnWindow::M5)
        .unwrap();
    tallies.burn[i5] = tally(2, 1, 1);
    let status = status(subject(&slo), &tallies, &[], Vec::new(), at());
    let success = &status.objectives[0];
    assert_eq!(success.burn.len(), 7);
    assert_eq!(success.burn[0].window, BurnWindow::M5);
    assert_eq!(success.burn[0].counts, Counts::new(1, 1));
    assert!(close(success.burn[0].burn_rate, 50.0));
    assert_eq!(success.burn[1].burn_rate, None, "30m holds no run");
    assert!(close(success.burn[2].burn_rate, 20.0));
    let holds: Vec<(AlertPair, bool)> = success.pairs.iter().map(|p| (p.pair, p.holds)).collect();
    assert_eq!(
        holds,
        [
            (AlertPair::Page1h, true),
            // 30m is empty: no burn.
            (AlertPair::Page6h, false),
            (AlertPair::Ticket1d, true),
            (AlertPair::Ticket3d, true),
        ]
    );
    assert_eq!(success.pairs[0].factor, 14.4);
    assert_eq!(
        (success.pairs[0].long, success.pairs[0].short),
        (BurnWindow::H1, BurnWindow::M5)
    );
    assert_eq!(status.summary.decision, Decision::Page(AlertPair::Page1h));
    assert_eq!(status.at, at());
}

#[test]
fn the_history_is_every_hour_of_the_week_oldest_first() {
    let slo = slo();
    let now = at();
    let start = history_start(now);
    assert_eq!(start, Utc.with_ymd_and_hms(2026, 3, 3, 15, 0, 0).unwrap());
    let hours = [
        HourTally {
            hour: Utc.with_ymd_and_hms(2026, 3, 10, 14, 0, 0).unwrap(),
            tally: tally(10, 9, 9),
        },
        HourTally {
            hour: start,
            tally: tally(4, 4, 2),
        },
        // Outside the chart: ignored.
        HourTally {
            hour: start - Duration::hours(1),
            tally: tally(5, 0, 0),
        },
    ];
    let status = status(
        subject(&slo),
        &SloTallies::default(),
        &hours,
        Vec::new(),
        now,
    );
    let success = &status.objectives[0].history;
    assert_eq!(success.len(), HISTORY_HOURS as usize);
    assert_eq!(success[0].hour, start);
    assert_eq!(success[0].counts, Counts::new(4, 0));
    assert!(close(success[0].burn_rate, 0.0));
    assert_eq!(success[1].burn_rate, None);
    let last = success.last().unwrap();
    assert_eq!(
        last.hour,
        Utc.with_ymd_and_hms(2026, 3, 10, 14, 0, 0).unwrap()
    );
    // 1 bad of 10 at 99%: 10×.
    assert!(close(last.burn_rate, 10.0));
    let duration = &status.objectives[1].history;
    // 2 bad of 4 at 90%: 5×.
    assert!(close(duration[0].burn_rate, 5.0));
}

#[test]
fn bad_runs_are_cut_at_the_limit_and_say_so() {
    let slo = slo();
    let run = |i: u32| BadRun {
        id: format!("r{i}"),
        status: RunStatus::Failed,
        started_at: None,
        finished_at: at(),
        duration_ms: None,
        spent: vec![ObjectiveKind::Success, ObjectiveKind::Duration],
    };
    let few: Vec<BadRun> = (0..3).map(run).collect();
    let s = status(subject(&slo), &SloTallies::default(), &[], few, at());
    assert_eq!(s.bad_runs.len(), 3);
    assert!(!s.bad_runs_limited);
    let many: Vec<BadRun> = (0..=BAD_RUNS_LIMIT).map(run).collect();
    let s = status(subject(&slo), &SloTallies::default(), &[], many, at());
    assert_eq!(s.bad_runs.len(), BAD_RUNS_LIMIT as usize);
    assert!(s.bad_runs_limited);
    assert_eq!(s.bad_runs[0].id, "r0");
}

#[test]
fn objective_counts_feed_the_slo_burn_kind() {
    let mut slo = slo();
    slo.duration = None;
    let tallies = everywhere(tally(0, 0, 0), tally(100, 80, 0));
    let counts = objective_counts(&slo, &tallies);
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].objective, ObjectiveKind::Success);
    assert_eq!(counts[0].target, target(990_000));
    assert_eq!(counts[0].counts.get(BurnWindow::D3), Counts::new(80, 20));
}

#[test]
fn a_status_round_trips_through_json() {
    let slo = slo();
    let s = status(
        subject(&slo),
        &everywhere(tally(10, 9, 8), tally(3, 2, 2)),
        &[],
        Vec::new(),
        at(),
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["summary"]["window"], "28days");
    assert_eq!(json["summary"]["objectives"][1]["within"], "10m");
    assert_eq!(json["objectives"][0]["burn"][0]["window"], "5m");
    assert_eq!(json["objectives"][0]["budget"]["state"], "measured");
    let back: SloStatus = serde_json::from_value(json).unwrap();
    assert_eq!(back.summary.objectives.len(), 2);
    assert_eq!(back.objectives[0].burn, s.objectives[0].burn);
}
