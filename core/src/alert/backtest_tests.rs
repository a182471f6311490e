use super::*;
use chrono::{TimeZone, Utc};

fn rule(json: &str) -> RuleSpec {
    serde_json::from_str(json).unwrap()
}

fn history(pattern: &str) -> Vec<RunOutcome> {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    pattern
        .chars()
        .filter(|c| !c.is_whitespace())
        .enumerate()
        .map(|(i, c)| RunOutcome {
            finished_at: start + chrono::Duration::hours(i as i64),
            succeeded: c == 's',
        })
        .collect()
}

const THREE_THEN_TWO: &str =
    r#"{"name": "n", "kind": "consecutive_failures", "threshold": 3, "resolve_after": 2}"#;

#[test]
fn three_failures_fire_once_a_fourth_does_nothing_two_successes_resolve_once() {
    let result = backtest(&rule(THREE_THEN_TWO), &history("fff f ss"));
    assert_eq!((result.fired, result.resolved), (1, 1));
    let whats: Vec<_> = result.moments.iter().map(|m| m.what.as_str()).collect();
    assert_eq!(whats, ["firing", "resolved"]);
    let h = history("ffffss");
    assert_eq!(
        result.moments[0].at, h[2].finished_at,
        "fired on the third failure"
    );
    assert_eq!(
        result.moments[1].at, h[5].finished_at,
        "resolved on the second success"
    );
    assert!(!result.firing_at_end);
}

#[test]
fn one_success_between_failures_does_not_resolve_when_two_are_needed() {
    let result = backtest(&rule(THREE_THEN_TWO), &history("fff s f s s"));
    assert_eq!((result.fired, result.resolved), (1, 1));
    assert_eq!(result.moments[1].at, history("fffsfss")[6].finished_at);
}

#[test]
fn a_month_of_history_counts_every_episode() {
    let result = backtest(
        &rule(THREE_THEN_TWO),
        &history("ssfffss ssss fffffss sffss fff"),
    );
    assert_eq!(result.fired, 3);
    assert_eq!(result.resolved, 2);
    assert!(result.firing_at_end);
    assert_eq!(result.runs, 26);
}

#[test]
fn an_empty_history_fires_nothing() {
    assert_eq!(backtest(&rule(THREE_THEN_TWO), &[]), Backtest::default());
}
