//! One look at a live canary: the evaluation (stored when it changes) and
//! what to do about it. Pure: the server counts the runs, reads the clock
//! and the freezes, and carries out the [`Next`] in one transaction.
//!
//! A step advances only when it has its minimum runs, its minimum time
//! and a *pass*; a *fail* (failure rate, durations, or a critical step)
//! rolls back whatever the state, because a pause stops advancing, not
//! protecting; a step that reaches its time limit undecided pauses the
//! canary (*inconclusive*): it never passes by default.

use super::analysis::{Outcomes, analyse};
use super::durations;
use super::view::{ArmCounts, Canary, CanaryDecision, CanaryEvaluation, evaluation_of};
use chrono::{DateTime, Utc};

/// A critical step that failed in a canary run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalFailure {
    pub step: String,
    pub run_id: String,
}

/// What the canary's runs in the current step's window did.
#[derive(Debug, Clone, Default)]
pub struct StepFacts {
    pub canary: ArmCounts,
    pub stable: ArmCounts,
    /// Successful runs' durations in milliseconds.
    pub canary_durations: Vec<u64>,
    pub stable_durations: Vec<u64>,
    pub critical_failure: Option<CriticalFailure>,
    /// The environment is frozen until then: steps don't advance.
    pub frozen_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Stay,
    /// To this plan step (its weight).
    Advance {
        step: u32,
    },
    /// The last step passed: the canary becomes the active version.
    Promote,
    RollBack,
    /// Inconclusive: stop advancing until a person resumes.
    Pause,
}

/// Looks at `canary` (live) at `now`.
pub fn look(canary: &Canary, facts: &StepFacts, now: DateTime<Utc>) -> (CanaryEvaluation, Next) {
    let steps = &canary.policy.steps;
    let index = (canary.step as usize).min(steps.len().saturating_sub(1));
    let Some(step) = steps.get(index) else {
        // A plan without steps is refused when saved; judged as nothing
        // to advance through.
        let analysis = analyse(
            Outcomes::default(),
            Outcomes::default(),
            &Default::default(),
        );
        let mut e = evaluation_of(
            now,
            canary.step,
            canary.weight,
            (facts.canary, facts.stable),
            &analysis,
        );
        e.why = "the canary's plan has no steps".into();
        return (e, Next::Pause);
    };
    let settings = &canary.policy.analysis;
    let analysis = analyse(
        Outcomes::new(facts.canary.runs, facts.canary.failures),
        Outcomes::new(facts.stable.runs, facts.stable.failures),
        &settings.thresholds(step.min_runs),
    );
    let mut e = evaluation_of(
        now,
        canary.step,
        canary.weight,
        (facts.canary, facts.stable),
        &analysis,
    );
    e.durations = settings.max_slowdown.and_then(|allowed| {
        durations::compare(
            &facts.canary_durations,
            &facts.stable_durations,
            allowed,
            settings.confidence,
        )
    });
    if let Some(critical) = &facts.critical_failure {
        e.decision = CanaryDecision::Fail;
        e.why = format!(
            "critical step {:?} failed in canary run {}",
            critical.step, critical.run_id
        );
        return (e, Next::RollBack);
    }
    if let Some(d) = e.durations.as_ref().filter(|d| d.fails) {
        e.decision = CanaryDecision::Fail;
        e.why = d.why.clone();
        return (e, Next::RollBack);
    }
    if e.decision == CanaryDecision::Fail {
        return (e, Next::RollBack);
    }
    if canary.state != super::view::CanaryState::Running {
        return (e, Next::Stay);
    }
    let at_step = now - canary.step_started_at;
    let on_clock = now - canary.step_clock_at;
    if e.decision == CanaryDecision::Pass {
        if at_step < step.min_time.as_chrono() {
            e.why = format!(
                "{}; it advances once it has been at {}% for {}",
                e.why, canary.weight, step.min_time
            );
            return (e, Next::Stay);
        }
        if let Some(until) = facts.frozen_until {
            e.why = format!(
                "{}; it advances once the freeze of {} ends ({})",
                e.why,
                canary.environment,
                until.format("%Y-%m-%d %H:%M UTC")
            );
            return (e, Next::Stay);
        }
        let next = index + 1;
        return if next < steps.len() {
            (e, Next::Advance { step: next as u32 })
        } else {
            (e, Next::Promote)
        };
    }
    if on_clock >= step.time_limit.as_chrono() && facts.frozen_until.is_none() {
        e.decision = CanaryDecision::Inconclusive;
        e.why = format!(
            "no decision within the step's {} time limit ({}); paused until a person resumes, \
             promotes or aborts it",
            step.time_limit, e.why
        );
        return (e, Next::Pause);
    }
    (e, Next::Stay)
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod tests;
