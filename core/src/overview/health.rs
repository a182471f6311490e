//! What the Overview says about each environment, for the on-call engineer
//! who opens it first: the workflows active there, how the last day's runs
//! went, which workflows are failing now, and how many run approvals wait.
//! The server reads the facts; [`environment_health`] shapes them.

use crate::approval::ApprovalRequest;
use crate::promotion::evaluation::counts_toward_ratio;
use crate::run::{RunStatus, RunSummary};
use crate::workflow::WorkflowSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How far back the Overview counts runs: a day covers a night shift and
/// every daily schedule.
pub const RUN_WINDOW_HOURS: u32 = 24;

/// Runs created in the window, of one status in one environment (the store
/// counts them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCount {
    pub environment: String,
    pub status: RunStatus,
    pub count: u32,
}

/// The window's runs in one environment, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTally {
    pub total: u32,
    pub succeeded: u32,
    /// Failed or timed out.
    pub failed: u32,
    pub cancelled: u32,
    /// Queued or running.
    pub in_progress: u32,
}

impl RunTally {
    fn add(&mut self, status: RunStatus, count: u32) {
        self.total = self.total.saturating_add(count);
        let bucket = match (status, counts_toward_ratio(status)) {
            (_, Some(true)) => &mut self.succeeded,
            (_, Some(false)) => &mut self.failed,
            (RunStatus::Cancelled, None) => &mut self.cancelled,
            (_, None) => &mut self.in_progress,
        };
        *bucket = bucket.saturating_add(count);
    }

    /// Runs that finished with a verdict on the version: succeeded, failed
    /// or timed out (a cancelled run says nothing about it, as in the
    /// rollout checklist).
    pub fn finished(&self) -> u32 {
        self.succeeded.saturating_add(self.failed)
    }

    /// Succeeded of finished, `None` with nothing finished.
    pub fn success_ratio(&self) -> Option<f64> {
        let finished = self.finished();
        (finished > 0).then(|| f64::from(self.succeeded) / f64::from(finished))
    }
}

/// A workflow and the version active in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveWorkflow {
    pub workflow: String,
    pub version: u32,
}

/// A workflow whose last finished run in an environment failed or timed
/// out: someone should look before changing anything there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingWorkflow {
    pub workflow: String,
    /// The version that run used.
    pub version: u32,
    pub run_id: String,
    pub status: RunStatus,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One environment as the Overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentHealth {
    pub environment: String,
    /// By workflow name.
    pub active: Vec<ActiveWorkflow>,
    /// Runs created in the last [`RUN_WINDOW_HOURS`].
    pub runs: RunTally,
    /// By workflow name.
    pub failing: Vec<FailingWorkflow>,
    /// Run approval requests waiting for a decision.
    pub pending_approvals: u32,
    /// Failed runs waiting on the Needs attention list (not yet re-run or
    /// dismissed), counted up to [`ATTENTION_COUNTED`] and one more.
    #[serde(default)]
    pub needs_attention: u32,
}

/// The Overview counts an environment's runs needing attention up to this
/// many and says "more than" beyond: failures nobody dismissed pile up,
/// and counting them all read one index entry each on every page view
/// (26 ms with 50,000 on PostgreSQL; issue 20, `gantry-bench --only large`).
pub const ATTENTION_COUNTED: u32 = 1_000;

/// What [`environment_health`] shapes, as the server read it.
#[derive(Debug, Clone, Copy)]
pub struct HealthFacts<'a> {
    /// The environments the reader may see, in promotion order.
    pub environments: &'a [String],
    pub workflows: &'a [WorkflowSummary],
    pub run_counts: &'a [RunCount],
    /// Each workflow's newest finished run per environment.
    pub last_finished: &'a [RunSummary],
    /// Pending run approval requests.
    pub pending_approvals: &'a [ApprovalRequest],
    /// Failed runs needing attention, by environment.
    pub needs_attention: &'a [(String, u32)],
}

/// One [`EnvironmentHealth`] per environment in `facts.environments`, in
/// that order; facts about other environments are left out.
pub fn environment_health(facts: HealthFacts<'_>) -> Vec<EnvironmentHealth> {
    facts
        .environments
        .iter()
        .map(|env| {
            let mut active: Vec<ActiveWorkflow> = facts
                .workflows
                .iter()
                .filter_map(|w| {
                    w.active
                        .iter()
                        .find(|a| &a.environment == env)
                        .map(|a| ActiveWorkflow {
                            workflow: w.name.clone(),
                            version: a.version,
                        })
                })
                .collect();
            active.sort_by(|a, b| a.workflow.cmp(&b.workflow));
            let mut runs = RunTally::default();
            for c in facts.run_counts.iter().filter(|c| &c.environment == env) {
                runs.add(c.status, c.count);
            }
            let mut failing: Vec<FailingWorkflow> = facts
                .last_finished
                .iter()
                .filter(|r| &r.environment == env && counts_toward_ratio(r.status) == Some(false))
                .map(|r| FailingWorkflow {
                    workflow: r.workflow.clone(),
                    version: r.version,
                    run_id: r.id.clone(),
                    status: r.status,
                    finished_at: r.finished_at,
                })
                .collect();
            failing.sort_by(|a, b| a.workflow.cmp(&b.workflow));
            let pending = facts
                .pending_approvals
                .iter()
                .filter(|a| &a.environment == env)
                .count();
            EnvironmentHealth {
                environment: env.clone(),
                active,
                runs,
                failing,
                pending_approvals: u32::try_from(pending).unwrap_or(u32::MAX),
                needs_attention: facts
                    .needs_attention
                    .iter()
                    .filter(|(e, _)| e == env)
                    .map(|(_, n)| *n)
                    .sum(),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
