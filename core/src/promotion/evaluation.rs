//! Evaluating a checklist: the policy's items against the live facts (runs,
//! activation times, the target's last run, the diff) and the ticks people
//! made, giving each item a status and a sentence with the live value, e.g.
//! "2 of 3 successful runs in stage in the last 7 d". The server evaluates
//! when a request is made, on every approval and tick, and once more at the
//! moment of promotion; the result is stored with the deployment as its
//! [`ChecklistSnapshot`].

use super::checklist::{ChecklistItemTemplate, ItemCheck, percent, plural};
use super::duration::PolicyDuration;
use crate::approval::Person;
use crate::identity::Role;
use crate::run::RunStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Runs of the version being promoted that finished in the previous
/// environment within `window` before now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunWindow {
    pub window: PolicyDuration,
    /// Finished runs that count (see [`counts_toward_ratio`]).
    pub finished: u32,
    pub succeeded: u32,
}

/// Whether a finished run counts, and as what: `Some(true)` a success,
/// `Some(false)` a failure (failed, timed out), `None` not at all (still
/// going, or cancelled: someone stopped it, which says nothing about the
/// version).
pub fn counts_toward_ratio(status: RunStatus) -> Option<bool> {
    match status {
        RunStatus::Succeeded => Some(true),
        RunStatus::Failed | RunStatus::TimedOut => Some(false),
        RunStatus::Queued | RunStatus::Running | RunStatus::Cancelled => None,
    }
}

/// The workflow's last finished run in the target environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub id: String,
    pub status: RunStatus,
}

/// What the automatic items are evaluated against; the server gathers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistFacts {
    pub now: DateTime<Utc>,
    /// Where the version comes from (N) and goes to (N+1), for the sentences.
    pub previous_environment: String,
    pub target_environment: String,
    pub version: u32,
    /// One per distinct window the checklist asks about
    /// ([`run_windows_needed`]).
    pub run_windows: Vec<RunWindow>,
    /// When the version became active in the previous environment; `None`
    /// when it is not active there (any more).
    pub active_in_previous_since: Option<DateTime<Utc>>,
    /// `None` when the workflow has no finished run in the target.
    pub target_last_run: Option<LastRun>,
    /// From the diff against the version active in the target
    /// (`SpecDiff::new_host_labels`, `SpecDiff::new_secret_references`).
    pub new_http_hosts: Vec<String>,
    pub new_secret_references: Vec<String>,
    /// Alerts firing on the workflow in the previous or target
    /// environment: `rule (environment)` each.
    #[serde(default)]
    pub firing_alerts: Vec<String>,
    /// The last verification in the previous environment, when the
    /// checklist asks about it.
    #[serde(default)]
    pub previous_verification: Option<super::verification::Verification>,
}

/// Someone ticking a manual item, or acknowledging what a "no new …" item
/// found. Unticking removes the tick (the server audits both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistTick {
    pub item: String,
    pub by: Person,
    pub at: DateTime<Utc>,
    /// A link or a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// For an acknowledgement: exactly the hosts or references it
    /// acknowledged, so that something else new needs a new one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<String>,
}

/// Where an item stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemStatus {
    Pass,
    Fail,
    /// The diff adds these; an approver must acknowledge them by name.
    NeedsAcknowledgement {
        new: Vec<String>,
    },
    /// What was new, acknowledged (green).
    Acknowledged {
        new: Vec<String>,
        by: Person,
        at: DateTime<Utc>,
    },
    /// A manual item nobody ticked yet.
    Unchecked,
    /// A ticked manual item (green).
    Manual {
        checked_by: Person,
        evidence: Option<String>,
        at: DateTime<Utc>,
    },
}

impl ItemStatus {
    pub fn is_green(&self) -> bool {
        matches!(
            self,
            ItemStatus::Pass | ItemStatus::Acknowledged { .. } | ItemStatus::Manual { .. }
        )
    }
}

/// One evaluated item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemEvaluation {
    pub id: String,
    pub title: String,
    pub automatic: bool,
    pub status: ItemStatus,
    /// The live value, and why it passes or not.
    pub explanation: String,
}

/// A checklist as evaluated at one moment: shown on the request page and
/// stored with the deployment it let through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistSnapshot {
    pub evaluated_at: DateTime<Utc>,
    pub items: Vec<ItemEvaluation>,
}

impl ChecklistSnapshot {
    /// Every item green (an empty checklist is).
    pub fn all_green(&self) -> bool {
        self.items.iter().all(|i| i.status.is_green())
    }

    /// (green items, all items), for "4/6" on the Promotions page.
    pub fn progress(&self) -> (usize, usize) {
        let green = self.items.iter().filter(|i| i.status.is_green()).count();
        (green, self.items.len())
    }

    /// The items holding a promotion back.
    pub fn blocking(&self) -> impl Iterator<Item = &ItemEvaluation> {
        self.items.iter().filter(|i| !i.status.is_green())
    }
}

/// Every item green.
pub fn all_green(snapshot: &ChecklistSnapshot) -> bool {
    snapshot.all_green()
}

/// The distinct windows the run-count items ask about, for the server to
/// count runs in.
pub fn run_windows_needed(checklist: &[ChecklistItemTemplate]) -> Vec<PolicyDuration> {
    let mut windows: Vec<PolicyDuration> = checklist
        .iter()
        .filter_map(|i| match i.check {
            ItemCheck::SuccessfulRunsInPrevious { window, .. } => Some(window),
            _ => None,
        })
        .collect();
    windows.sort();
    windows.dedup();
    windows
}

/// Evaluates `checklist` against `facts` and the current `ticks` (the last
/// tick of an item counts).
pub fn evaluate(
    checklist: &[ChecklistItemTemplate],
    facts: &ChecklistFacts,
    ticks: &[ChecklistTick],
) -> ChecklistSnapshot {
    let items = checklist
        .iter()
        .map(|item| {
            let tick = ticks.iter().rev().find(|t| t.item == item.id);
            let (status, explanation) = evaluate_item(&item.check, facts, tick);
            let explanation = capitalize(&explanation);
            ItemEvaluation {
                id: item.id.clone(),
                title: item
                    .check
                    .title(&facts.previous_environment, &facts.target_environment),
                automatic: item.check.is_automatic(),
                status,
                explanation,
            }
        })
        .collect();
    ChecklistSnapshot {
        evaluated_at: facts.now,
        items,
    }
}

/// The [`ItemCheck::LastVerificationPassed`] item: the previous
/// environment's last verification checked this version and passed.
fn last_verification(facts: &ChecklistFacts) -> (ItemStatus, String) {
    use super::verification::VerificationState;
    let previous = &facts.previous_environment;
    let version = facts.version;
    let Some(v) = &facts.previous_verification else {
        return (
            ItemStatus::Fail,
            format!(
                "no verification has run in {previous} yet; promote version {version} there first"
            ),
        );
    };
    let run = v.run_id.as_deref().unwrap_or("(not started)");
    if v.version != version {
        return (
            ItemStatus::Fail,
            format!(
                "the last verification in {previous} checked version {}, not {version}",
                v.version
            ),
        );
    }
    match v.state {
        VerificationState::Passed => (
            ItemStatus::Pass,
            format!(
                "the verification workflow {} passed in {previous} (run {run})",
                v.verifier
            ),
        ),
        VerificationState::Failed => (
            ItemStatus::Fail,
            format!(
                "the verification workflow {} failed in {previous}: {}",
                v.verifier,
                v.why.as_deref().unwrap_or("no reason recorded")
            ),
        ),
        VerificationState::Pending | VerificationState::Running => (
            ItemStatus::Fail,
            format!(
                "the verification workflow {} is still running in {previous} (run {run})",
                v.verifier
            ),
        ),
    }
}

fn evaluate_item(
    check: &ItemCheck,
    facts: &ChecklistFacts,
    tick: Option<&ChecklistTick>,
) -> (ItemStatus, String) {
    let target = &facts.target_environment;
    match check {
        ItemCheck::SuccessfulRunsInPrevious {
            min_runs,
            window,
            min_success_ratio,
        } => runs(facts, *min_runs, *window, *min_success_ratio),
        ItemCheck::SoakTime { min } => soak(facts, *min),
        ItemCheck::TargetNotFailing => match &facts.target_last_run {
            None => (
                ItemStatus::Pass,
                format!("no finished runs in {target} yet"),
            ),
            Some(run) => {
                let (failing, word) = match run.status {
                    RunStatus::Failed => (true, "failed"),
                    RunStatus::TimedOut => (true, "timed out"),
                    RunStatus::Succeeded => (false, "succeeded"),
                    RunStatus::Cancelled => (false, "was cancelled"),
                    // The server passes finished runs; a live one isn't failing.
                    RunStatus::Queued | RunStatus::Running => (false, "is still going"),
                };
                let sentence = format!("the last run in {target} ({}) {word}", run.id);
                if failing {
                    (
                        ItemStatus::Fail,
                        format!("{sentence}; fix it or roll back before promoting"),
                    )
                } else {
                    (ItemStatus::Pass, sentence)
                }
            }
        },
        ItemCheck::NoFiringAlerts => {
            if facts.firing_alerts.is_empty() {
                (
                    ItemStatus::Pass,
                    format!(
                        "no alert fires on it in {} or {target}",
                        facts.previous_environment
                    ),
                )
            } else {
                (
                    ItemStatus::Fail,
                    format!(
                        "firing: {}; resolve or silence them first (the Alerts page)",
                        facts.firing_alerts.join(", ")
                    ),
                )
            }
        }
        ItemCheck::LastVerificationPassed => last_verification(facts),
        ItemCheck::NoNewHttpHosts => {
            acknowledgement(&facts.new_http_hosts, tick, ("HTTP host", "HTTP hosts"))
        }
        ItemCheck::NoNewSecretReferences => acknowledgement(
            &facts.new_secret_references,
            tick,
            ("secret reference", "secret references"),
        ),
        ItemCheck::Manual {
            role,
            evidence_required,
            ..
        } => match tick {
            Some(t) if *evidence_required && t.evidence.is_none() => (
                ItemStatus::Unchecked,
                format!(
                    "ticked by {} without evidence; this item needs a link or note",
                    t.by.name
                ),
            ),
            Some(t) => (
                ItemStatus::Manual {
                    checked_by: t.by.clone(),
                    evidence: t.evidence.clone(),
                    at: t.at,
                },
                match &t.evidence {
                    Some(_) => format!("ticked by {}, with evidence", t.by.name),
                    None => format!("ticked by {}", t.by.name),
                },
            ),
            None => (
                ItemStatus::Unchecked,
                if *role == Role::Admin {
                    format!("not ticked yet; an admin in {target} ticks it")
                } else {
                    format!(
                        "not ticked yet; {} {role} or an admin in {target} ticks it",
                        article(*role)
                    )
                },
            ),
        },
    }
}

fn runs(
    facts: &ChecklistFacts,
    min_runs: u32,
    window: PolicyDuration,
    min_ratio: f64,
) -> (ItemStatus, String) {
    let previous = &facts.previous_environment;
    let Some(counts) = facts.run_windows.iter().find(|w| w.window == window) else {
        // A server bug, not the user's: fail safe, and say so.
        return (
            ItemStatus::Fail,
            format!("no run counts for the last {window} in {previous} were gathered"),
        );
    };
    let succeeded = counts.succeeded.min(counts.finished);
    let finished = counts.finished;
    if succeeded < min_runs {
        return (
            ItemStatus::Fail,
            format!(
                "{succeeded} of {min_runs} successful {} in {previous} in the last {window}",
                plural(min_runs, "run", "runs")
            ),
        );
    }
    let head = format!(
        "{succeeded} successful {} in {previous} in the last {window} (needs {min_runs})",
        plural(succeeded, "run", "runs")
    );
    let ratio = f64::from(succeeded) / f64::from(finished.max(1));
    // Floor, so a ratio just under the bar never shows as reaching it.
    let shown = u64::from(succeeded) * 100 / u64::from(finished.max(1));
    let tail = format!(
        "{succeeded} of {finished} finished {} succeeded ({shown}%; needs {})",
        plural(finished, "run", "runs"),
        percent(min_ratio)
    );
    if ratio < min_ratio {
        (ItemStatus::Fail, format!("{head}, but only {tail}"))
    } else {
        (ItemStatus::Pass, format!("{head}; {tail}"))
    }
}

fn soak(facts: &ChecklistFacts, min: PolicyDuration) -> (ItemStatus, String) {
    let previous = &facts.previous_environment;
    let Some(since) = facts.active_in_previous_since else {
        return (
            ItemStatus::Fail,
            format!(
                "version {} is not active in {previous} now, so it is not soaking there",
                facts.version
            ),
        );
    };
    // A clock a little behind the database's reads as no time at all.
    let secs = u64::try_from((facts.now - since).num_seconds()).unwrap_or(0);
    let active = PolicyDuration::from_secs(secs);
    if active >= min {
        (
            ItemStatus::Pass,
            format!("active in {previous} for {active} (needs {min})"),
        )
    } else {
        let left = PolicyDuration::from_secs(min.as_secs() - secs);
        (
            ItemStatus::Fail,
            format!("active in {previous} for {active}; needs {min}, {left} to go"),
        )
    }
}

fn acknowledgement(
    new: &[String],
    tick: Option<&ChecklistTick>,
    (one, many): (&str, &str),
) -> (ItemStatus, String) {
    if new.is_empty() {
        return (ItemStatus::Pass, format!("no new {many}"));
    }
    let noun = if new.len() == 1 { one } else { many };
    let list = new.join(", ");
    match tick {
        Some(t) if new.iter().all(|n| t.acknowledged.contains(n)) => (
            ItemStatus::Acknowledged {
                new: new.to_vec(),
                by: t.by.clone(),
                at: t.at,
            },
            format!("new {noun} {list}: acknowledged by {}", t.by.name),
        ),
        Some(t) => {
            let missing: Vec<&str> = new
                .iter()
                .filter(|n| !t.acknowledged.contains(n))
                .map(String::as_str)
                .collect();
            (
                ItemStatus::NeedsAcknowledgement { new: new.to_vec() },
                format!(
                    "new {noun} {list}; {} acknowledged an earlier list, not {}: an \
                     approver must acknowledge again",
                    t.by.name,
                    missing.join(", ")
                ),
            )
        }
        None => (
            ItemStatus::NeedsAcknowledgement { new: new.to_vec() },
            format!(
                "new {noun} {list}: an approver must acknowledge {}",
                if new.len() == 1 { "it" } else { "them" }
            ),
        ),
    }
}

/// "a viewer", "an operator".
fn article(role: Role) -> &'static str {
    if role.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "evaluation_tests.rs"]
mod tests;
