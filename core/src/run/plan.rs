//! The pure heart of the engine: given a run's step statuses (and whether the
//! run is being stopped), decide what happens next. The server applies the
//! returned effects inside one transaction; nothing here does I/O.

use super::status::{RunStatus, StepStatus};
use crate::dag::Dag;
use crate::spec::StepSpec;
use std::collections::BTreeMap;
use std::time::Duration;

/// Whether the run goes on or is winding down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Normal,
    /// Someone cancelled it: queue nothing new; what runs is being stopped.
    Cancelling,
    /// The whole-run timeout passed: like cancelling, but the run ends
    /// `timed_out`.
    TimingOut,
}

/// Effects of [`advance`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advance {
    /// Pending steps whose needs all succeeded: make them claimable.
    pub queue: Vec<String>,
    /// Pending steps that can never run because a need did not succeed.
    pub skip: Vec<String>,
    /// Pending or queued steps to cancel because the run is stopping.
    pub cancel: Vec<String>,
    /// Steps still running that their workers must stop.
    pub stop: Vec<String>,
    /// Set when every step has reached a final status.
    pub finish_run: Option<RunStatus>,
}

/// Decides the next moves of a run from its step statuses. Steps missing
/// from `statuses` count as pending. Idempotent: applying its effects and
/// calling it again yields no further queue/skip/cancel effects.
pub fn advance(dag: &Dag, statuses: &BTreeMap<String, StepStatus>, mode: RunMode) -> Advance {
    let mut now: BTreeMap<&str, StepStatus> = dag
        .ids()
        .map(|id| (id, statuses.get(id).copied().unwrap_or(StepStatus::Pending)))
        .collect();
    let mut out = Advance::default();

    // Topological order makes skips propagate down a chain in one pass.
    for id in dag.topological_order() {
        let status = now.get(id).copied().unwrap_or(StepStatus::Pending);
        match (mode, status) {
            (RunMode::Normal, StepStatus::Pending) => {
                let needs = dag.needs(id);
                let state_of = |n: &str| now.get(n).copied().unwrap_or(StepStatus::Pending);
                if needs.iter().any(|n| state_of(n).blocks_dependents()) {
                    out.skip.push(id.to_owned());
                    now.insert(id, StepStatus::Skipped);
                } else if needs.iter().all(|n| state_of(n).satisfies_needs()) {
                    out.queue.push(id.to_owned());
                    now.insert(id, StepStatus::Queued);
                }
            }
            (
                RunMode::Cancelling | RunMode::TimingOut,
                StepStatus::Pending | StepStatus::Queued,
            ) => {
                out.cancel.push(id.to_owned());
                now.insert(id, StepStatus::Cancelled);
            }
            (RunMode::Cancelling | RunMode::TimingOut, StepStatus::Running) => {
                out.stop.push(id.to_owned());
            }
            _ => {}
        }
    }

    if now.values().all(|s| s.is_terminal()) {
        out.finish_run = Some(match mode {
            RunMode::Cancelling => RunStatus::Cancelled,
            RunMode::TimingOut => RunStatus::TimedOut,
            RunMode::Normal => outcome_of(now.values().copied()),
        });
    }
    out
}

/// A finished run's status from its steps' final statuses.
fn outcome_of(statuses: impl Iterator<Item = StepStatus>) -> RunStatus {
    let mut cancelled = false;
    for s in statuses {
        match s {
            StepStatus::Failed | StepStatus::TimedOut => return RunStatus::Failed,
            StepStatus::Cancelled => cancelled = true,
            _ => {}
        }
    }
    if cancelled {
        RunStatus::Cancelled
    } else {
        RunStatus::Succeeded
    }
}

/// How an attempt ended, as the worker (or the lease reaper) saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptEnd {
    Succeeded,
    Failed,
    /// The step's own timeout elapsed.
    TimedOut,
    /// Stopped because the run was cancelled or timed out.
    Stopped,
    /// The worker stopped heartbeating.
    Lost,
}

/// What becomes of the step after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepNext {
    Finish(StepStatus),
    /// Queue a new attempt once `after` has passed.
    Retry {
        after: Duration,
    },
}

/// Applies the step's retry policy. `attempt` is the number (from 1) of the
/// attempt that just ended.
pub fn after_attempt(step: &StepSpec, attempt: u32, end: AttemptEnd, mode: RunMode) -> StepNext {
    let stopped = match mode {
        RunMode::Normal => None,
        RunMode::Cancelling => Some(StepStatus::Cancelled),
        RunMode::TimingOut => Some(StepStatus::TimedOut),
    };
    let max = step.max_attempts();
    let delay = |attempt: u32| {
        step.retries
            .as_ref()
            .map_or(Duration::ZERO, |r| r.delay_before_attempt(attempt + 1))
    };
    match (end, stopped) {
        (AttemptEnd::Succeeded, _) => StepNext::Finish(StepStatus::Succeeded),
        (_, Some(status)) => StepNext::Finish(status),
        (AttemptEnd::Stopped, None) => StepNext::Finish(StepStatus::Cancelled),
        (AttemptEnd::Failed, None) if attempt < max => StepNext::Retry {
            after: delay(attempt),
        },
        (AttemptEnd::Failed, None) => StepNext::Finish(StepStatus::Failed),
        (AttemptEnd::TimedOut, None) if attempt < max => StepNext::Retry {
            after: delay(attempt),
        },
        (AttemptEnd::TimedOut, None) => StepNext::Finish(StepStatus::TimedOut),
        // A lost worker says nothing about the step itself: it gets at least
        // one more attempt even without a retry policy, at once.
        (AttemptEnd::Lost, None) if attempt < max.max(2) => StepNext::Retry {
            after: Duration::ZERO,
        },
        (AttemptEnd::Lost, None) => StepNext::Finish(StepStatus::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Backoff, RetryPolicy, SpecDuration};
    use StepStatus::*;

    fn dag(edges: &[(&str, &[&str])]) -> Dag {
        let owned: Vec<(String, Vec<String>)> = edges
            .iter()
            .map(|(id, needs)| {
                (
                    (*id).to_owned(),
                    needs.iter().map(|n| (*n).to_owned()).collect(),
                )
            })
            .collect();
        Dag::new(owned.iter().map(|(id, n)| (id.as_str(), n.as_slice()))).unwrap()
    }

    fn states(pairs: &[(&str, StepStatus)]) -> BTreeMap<String, StepStatus> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn diamond() -> Dag {
        dag(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])])
    }

    #[test]
    fn a_fresh_run_queues_only_its_roots() {
        let d = dag(&[("a", &[]), ("b", &[]), ("c", &["a", "b"])]);
        let adv = advance(&d, &BTreeMap::new(), RunMode::Normal);
        assert_eq!(adv.queue, vec!["a", "b"]);
        assert!(adv.skip.is_empty() && adv.finish_run.is_none());
    }

    #[test]
    fn diamond_joins_only_when_both_branches_succeed() {
        let d = diamond();
        let adv = advance(&d, &states(&[("a", Succeeded)]), RunMode::Normal);
        assert_eq!(adv.queue, vec!["b", "c"]);
        let adv = advance(
            &d,
            &states(&[("a", Succeeded), ("b", Succeeded), ("c", Running)]),
            RunMode::Normal,
        );
        assert!(adv.queue.is_empty());
        let adv = advance(
            &d,
            &states(&[("a", Succeeded), ("b", Succeeded), ("c", Succeeded)]),
            RunMode::Normal,
        );
        assert_eq!(adv.queue, vec!["d"]);
        let adv = advance(
            &d,
            &states(&[
                ("a", Succeeded),
                ("b", Succeeded),
                ("c", Succeeded),
                ("d", Succeeded),
            ]),
            RunMode::Normal,
        );
        assert_eq!(adv.finish_run, Some(RunStatus::Succeeded));
    }

    #[test]
    fn a_failure_skips_all_dependents_but_independent_branches_go_on() {
        let d = dag(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("x", &[]),
            ("y", &["x"]),
        ]);
        let adv = advance(
            &d,
            &states(&[("a", Failed), ("x", Succeeded)]),
            RunMode::Normal,
        );
        assert_eq!(adv.skip, vec!["b", "c"]);
        assert_eq!(adv.queue, vec!["y"]);
        assert_eq!(adv.finish_run, None);
        let adv = advance(
            &d,
            &states(&[
                ("a", Failed),
                ("b", Skipped),
                ("c", Skipped),
                ("x", Succeeded),
                ("y", Succeeded),
            ]),
            RunMode::Normal,
        );
        assert_eq!(adv.finish_run, Some(RunStatus::Failed));
    }

    #[test]
    fn a_diamond_with_one_failed_branch_skips_the_join() {
        let adv = advance(
            &diamond(),
            &states(&[("a", Succeeded), ("b", TimedOut), ("c", Succeeded)]),
            RunMode::Normal,
        );
        assert_eq!(adv.skip, vec!["d"]);
        assert_eq!(adv.finish_run, Some(RunStatus::Failed));
    }

    #[test]
    fn cancelling_cancels_waiting_steps_and_stops_running_ones() {
        let adv = advance(
            &diamond(),
            &states(&[("a", Succeeded), ("b", Running), ("c", Queued)]),
            RunMode::Cancelling,
        );
        assert_eq!(adv.cancel, vec!["c", "d"]);
        assert_eq!(adv.stop, vec!["b"]);
        assert!(adv.queue.is_empty());
        assert_eq!(adv.finish_run, None);
        let adv = advance(
            &diamond(),
            &states(&[
                ("a", Succeeded),
                ("b", Cancelled),
                ("c", Cancelled),
                ("d", Cancelled),
            ]),
            RunMode::Cancelling,
        );
        assert_eq!(adv.finish_run, Some(RunStatus::Cancelled));
        let adv = advance(
            &diamond(),
            &states(&[
                ("a", Succeeded),
                ("b", TimedOut),
                ("c", Cancelled),
                ("d", Cancelled),
            ]),
            RunMode::TimingOut,
        );
        assert_eq!(adv.finish_run, Some(RunStatus::TimedOut));
    }

    #[test]
    fn advance_is_idempotent_once_applied() {
        let d = diamond();
        let mut s = states(&[("a", Failed)]);
        let adv = advance(&d, &s, RunMode::Normal);
        for id in &adv.skip {
            s.insert(id.clone(), Skipped);
        }
        let again = advance(&d, &s, RunMode::Normal);
        assert!(again.skip.is_empty() && again.queue.is_empty());
        assert_eq!(again.finish_run, Some(RunStatus::Failed));
    }

    fn step(retries: Option<RetryPolicy>) -> StepSpec {
        StepSpec {
            id: "s".into(),
            name: None,
            needs: vec![],
            run: Some("true".into()),
            http: None,
            timeout: None,
            retries,
            env: BTreeMap::new(),
            secrets: Default::default(),
            outputs: vec![],
            limits: None,
        }
    }

    fn three_exponential() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::Exponential,
            initial: Some(SpecDuration(Duration::from_secs(5))),
            max: None,
        }
    }

    #[test]
    fn failures_retry_with_backoff_until_attempts_run_out() {
        let s = step(Some(three_exponential()));
        assert_eq!(
            after_attempt(&s, 1, AttemptEnd::Failed, RunMode::Normal),
            StepNext::Retry {
                after: Duration::from_secs(5)
            }
        );
        assert_eq!(
            after_attempt(&s, 2, AttemptEnd::TimedOut, RunMode::Normal),
            StepNext::Retry {
                after: Duration::from_secs(10)
            }
        );
        assert_eq!(
            after_attempt(&s, 3, AttemptEnd::Failed, RunMode::Normal),
            StepNext::Finish(Failed)
        );
        assert_eq!(
            after_attempt(&s, 3, AttemptEnd::TimedOut, RunMode::Normal),
            StepNext::Finish(TimedOut)
        );
    }

    #[test]
    fn without_a_policy_a_failure_is_final_but_a_lost_worker_gets_one_retry() {
        let s = step(None);
        assert_eq!(
            after_attempt(&s, 1, AttemptEnd::Failed, RunMode::Normal),
            StepNext::Finish(Failed)
        );
        assert_eq!(
            after_attempt(&s, 1, AttemptEnd::Lost, RunMode::Normal),
            StepNext::Retry {
                after: Duration::ZERO
            }
        );
        assert_eq!(
            after_attempt(&s, 2, AttemptEnd::Lost, RunMode::Normal),
            StepNext::Finish(Failed)
        );
    }

    #[test]
    fn a_stopping_run_never_retries() {
        let s = step(Some(three_exponential()));
        for end in [AttemptEnd::Failed, AttemptEnd::Lost, AttemptEnd::Stopped] {
            assert_eq!(
                after_attempt(&s, 1, end, RunMode::Cancelling),
                StepNext::Finish(Cancelled)
            );
            assert_eq!(
                after_attempt(&s, 1, end, RunMode::TimingOut),
                StepNext::Finish(TimedOut)
            );
        }
        assert_eq!(
            after_attempt(&s, 1, AttemptEnd::Succeeded, RunMode::Cancelling),
            StepNext::Finish(Succeeded)
        );
    }
}
