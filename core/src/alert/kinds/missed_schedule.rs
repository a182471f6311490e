//! `missed_schedule`: a cron slot whose run has not started within the
//! grace period, because the scheduler was down, the slot's run waits in
//! the queue (a concurrency limit, no free worker) or firing it failed.
//!
//! The server reads, per workflow × environment with an active schedule,
//! the latest slot at or before now and whether a run for it has started.
//! A slot not started past its grace breaches; one whose run started is
//! clear; one still within its grace says nothing yet (hold), so a firing
//! alert about the previous slot stays until this one shows it is over.

use super::{Finding, InstanceKey, human, with_open_cleared};
use crate::alert::state::Observation;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::Duration;

/// The latest slot due of one workflow in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSlot {
    pub workflow: String,
    pub environment: String,
    /// When the slot was due (at or before the pass's `now`).
    pub slot: DateTime<Utc>,
    /// Whether a run for this slot has started running.
    pub started: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleFacts {
    /// One per workflow × environment; if several are given, the latest
    /// slot counts.
    pub latest: Vec<DueSlot>,
}

/// What each instance's latest slot says at `now`: started is clear, not
/// started more than `grace` after the slot is a breach, within it a hold.
/// Open instances whose workflow no longer has a schedule are clear.
pub fn judge(
    grace: Duration,
    facts: &ScheduleFacts,
    open: &[InstanceKey],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut latest: BTreeMap<InstanceKey, &DueSlot> = BTreeMap::new();
    for s in &facts.latest {
        let entry = latest
            .entry(InstanceKey::new(&s.workflow, &s.environment))
            .or_insert(s);
        if s.slot > entry.slot {
            *entry = s;
        }
    }
    let findings = latest
        .into_iter()
        .map(|(key, s)| {
            let slot = s.slot.format("%Y-%m-%d %H:%M UTC");
            if s.started {
                return Finding::new(
                    key,
                    Observation::Clear,
                    format!("the run for the {slot} slot started"),
                );
            }
            let late = (now - s.slot).to_std().unwrap_or_default();
            if late > grace {
                Finding::new(
                    key,
                    Observation::Breach,
                    format!(
                        "the run for the {slot} slot has not started {} after it (grace {})",
                        human(late),
                        human(grace)
                    ),
                )
            } else {
                Finding::new(
                    key,
                    Observation::Hold,
                    format!("the {slot} slot is due, within its grace"),
                )
            }
        })
        .collect();
    with_open_cleared(findings, open, "no scheduled slot due any more")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn slot(workflow: &str, at: i64, started: bool) -> DueSlot {
        DueSlot {
            workflow: workflow.into(),
            environment: "prod".into(),
            slot: t(at),
            started,
        }
    }

    const GRACE: Duration = Duration::from_secs(10 * 60);

    fn seen(facts: Vec<DueSlot>, open: &[InstanceKey], now: i64) -> Vec<Observation> {
        judge(GRACE, &ScheduleFacts { latest: facts }, open, t(now))
            .into_iter()
            .map(|f| f.seen)
            .collect()
    }

    #[test]
    fn within_grace_holds_past_it_breaches_a_start_clears() {
        assert_eq!(
            seen(vec![slot("backup", 0, false)], &[], 5),
            [Observation::Hold]
        );
        assert_eq!(
            seen(vec![slot("backup", 0, false)], &[], 10),
            [Observation::Hold],
            "exactly the grace"
        );
        assert_eq!(
            seen(vec![slot("backup", 0, false)], &[], 11),
            [Observation::Breach]
        );
        assert_eq!(
            seen(vec![slot("backup", 0, true)], &[], 11),
            [Observation::Clear]
        );
    }

    #[test]
    fn the_summary_names_the_slot_and_how_late() {
        let found = judge(
            GRACE,
            &ScheduleFacts {
                latest: vec![slot("backup", 0, false)],
            },
            &[],
            t(12),
        );
        assert_eq!(
            found[0].summary,
            "the run for the 2026-12-01 02:00 UTC slot has not started 12m after it (grace 10m)"
        );
    }

    #[test]
    fn the_latest_slot_counts() {
        // Yesterday's slot was missed; today's has started: clear.
        assert_eq!(
            seen(
                vec![slot("backup", 1440, true), slot("backup", 0, false)],
                &[],
                1445
            ),
            [Observation::Clear]
        );
    }

    #[test]
    fn an_open_instance_without_a_schedule_any_more_is_clear() {
        let open = [InstanceKey::new("backup", "prod")];
        assert_eq!(seen(vec![], &open, 0), [Observation::Clear]);
    }
}
