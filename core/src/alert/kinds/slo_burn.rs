//! `slo_burn`: a workflow's SLO in an environment spends error budget
//! faster than the SRE workbook's pairs allow (`crate::slo::burn`): the
//! `page` pairs (14.4× over 1h and 5m, 6× over 6h and 30m) or the `ticket`
//! pairs (3× over 1d and 2h, 1× over 3d and 6h).
//!
//! The server counts good and bad runs per burn window from its records
//! (exact counts, one query per workflow × environment with an SLO). An
//! instance breaches while a pair of the rule's severity holds for any of
//! the SLO's objectives, and is clear only once every such pair's long
//! window burns at or under its factor again (`AlertPair::resolved`): the
//! short window quietening is not enough, since runs are sparse and a 5
//! minute window is often empty. In between it holds.

use super::{Finding, InstanceKey, with_open_cleared};
use crate::alert::state::Observation;
use crate::slo::{AlertPair, ObjectiveKind, Severity, Target, WindowCounts, burn_rate};
use std::fmt::Write;

/// One objective's target and its counts in every burn window ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectiveCounts {
    pub objective: ObjectiveKind,
    pub target: Target,
    pub counts: WindowCounts,
}

/// One workflow's SLO in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloInstance {
    pub workflow: String,
    pub environment: String,
    pub objectives: Vec<ObjectiveCounts>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SloFacts {
    pub instances: Vec<SloInstance>,
}

fn objective_name(o: ObjectiveKind) -> &'static str {
    match o {
        ObjectiveKind::Success => "success",
        ObjectiveKind::Duration => "duration",
    }
}

/// `1h 20.5× and 5m 16×`: a pair's two burn rates, for the summary.
fn rates(pair: AlertPair, o: &ObjectiveCounts) -> String {
    let rate = |w: crate::slo::BurnWindow| {
        burn_rate(o.target, o.counts.get(w)).map_or("no runs".to_owned(), |r| {
            format!("{}×", (r * 10.0).round() / 10.0)
        })
    };
    format!(
        "{} {} and {} {}",
        pair.long().label(),
        rate(pair.long()),
        pair.short().label(),
        rate(pair.short())
    )
}

/// What each instance's burn rates say for the `pairs` severity's pairs.
/// Open instances whose workflow no longer has an SLO there are clear.
pub fn judge(pairs: Severity, facts: &SloFacts, open: &[InstanceKey]) -> Vec<Finding> {
    let chosen: Vec<AlertPair> = AlertPair::ALL
        .into_iter()
        .filter(|p| p.severity() == pairs)
        .collect();
    let findings = facts
        .instances
        .iter()
        .map(|slo| {
            let key = InstanceKey::new(&slo.workflow, &slo.environment);
            let holding = slo.objectives.iter().find_map(|o| {
                chosen
                    .iter()
                    .find(|p| p.holds(o.target, &o.counts))
                    .map(|p| (o, *p))
            });
            if let Some((o, pair)) = holding {
                let mut summary = format!(
                    "{} objective ({}) burning budget over {}× on both windows: ",
                    objective_name(o.objective),
                    o.target,
                    pair.factor()
                );
                let _ = write!(summary, "{}", rates(pair, o));
                return Finding::new(key, Observation::Breach, summary);
            }
            let calm = slo
                .objectives
                .iter()
                .all(|o| chosen.iter().all(|p| p.resolved(o.target, &o.counts)));
            if calm {
                Finding::new(
                    key,
                    Observation::Clear,
                    "burn rates under the pairs' factors",
                )
            } else {
                Finding::new(
                    key,
                    Observation::Hold,
                    "the short window calmed; waiting for the long window to burn under its factor",
                )
            }
        })
        .collect();
    with_open_cleared(findings, open, "no SLO to judge any more")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{BurnWindow, Counts};

    fn target() -> Target {
        Target::from_ppm(990_000).unwrap()
    }

    /// `bad` of 100 runs in each of `windows`, none bad elsewhere.
    fn counts(bad_in: &[(BurnWindow, u64)]) -> WindowCounts {
        let mut w = WindowCounts::default();
        for window in BurnWindow::ALL {
            w.set(window, Counts::new(100, 0));
        }
        for (window, bad) in bad_in {
            w.set(*window, Counts::new(100 - bad, *bad));
        }
        w
    }

    fn facts(windows: WindowCounts) -> SloFacts {
        SloFacts {
            instances: vec![SloInstance {
                workflow: "etl".into(),
                environment: "prod".into(),
                objectives: vec![ObjectiveCounts {
                    objective: ObjectiveKind::Success,
                    target: target(),
                    counts: windows,
                }],
            }],
        }
    }

    fn seen(pairs: Severity, windows: WindowCounts) -> Observation {
        judge(pairs, &facts(windows), &[])[0].seen
    }

    use BurnWindow::{D1, D3, H1, H2, H6, M5, M30};

    #[test]
    fn a_page_pair_fires_when_both_its_windows_burn_fast() {
        // At 99%, 14.4× is 14.4 bad in 100: 15 is over, 14 is not.
        let fast = counts(&[(H1, 15), (M5, 15)]);
        assert_eq!(seen(Severity::Page, fast), Observation::Breach);
        let found = judge(Severity::Page, &facts(fast), &[]);
        assert_eq!(
            found[0].summary,
            "success objective (99%) burning budget over 14.4× on both windows: 1h 15× and 5m 15×"
        );
        assert_eq!(
            seen(Severity::Page, counts(&[(H1, 14), (M5, 15)])),
            Observation::Clear
        );
        // The long window alone is not enough, and not calm either: hold.
        assert_eq!(
            seen(Severity::Page, counts(&[(H1, 15), (M5, 0)])),
            Observation::Hold
        );
    }

    #[test]
    fn a_ticket_rule_watches_the_ticket_pairs_only() {
        // 3× over 1d and 2h: 4 bad in 100.
        let slow = counts(&[(D1, 4), (H2, 4)]);
        assert_eq!(seen(Severity::Ticket, slow), Observation::Breach);
        assert_eq!(seen(Severity::Page, slow), Observation::Clear);
        // 1× over 3d and 6h: 2 bad in 100.
        assert_eq!(
            seen(Severity::Ticket, counts(&[(D3, 2), (H6, 2)])),
            Observation::Breach
        );
        // A 6h/30m page burn is no ticket unless the ticket windows burn too.
        let sudden = counts(&[(H6, 7), (M30, 7)]);
        assert_eq!(seen(Severity::Page, sudden), Observation::Breach);
        assert_eq!(
            seen(Severity::Ticket, sudden),
            Observation::Clear,
            "1d and 3d are calm"
        );
    }

    #[test]
    fn any_objective_breaches_every_objective_must_calm() {
        let mut f = facts(counts(&[]));
        f.instances[0].objectives.push(ObjectiveCounts {
            objective: ObjectiveKind::Duration,
            target: target(),
            counts: counts(&[(H1, 20), (M5, 20)]),
        });
        let found = judge(Severity::Page, &f, &[]);
        assert_eq!(found[0].seen, Observation::Breach);
        assert!(
            found[0].summary.starts_with("duration objective"),
            "{}",
            found[0].summary
        );
        f.instances[0].objectives[1].counts = counts(&[(H1, 20)]);
        assert_eq!(judge(Severity::Page, &f, &[])[0].seen, Observation::Hold);
    }

    #[test]
    fn empty_windows_never_burn_and_a_gone_slo_clears() {
        assert_eq!(
            seen(Severity::Page, WindowCounts::default()),
            Observation::Clear
        );
        let open = [InstanceKey::new("etl", "prod")];
        let found = judge(Severity::Page, &SloFacts::default(), &open);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].seen, Observation::Clear);
    }
}
