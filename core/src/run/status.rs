//! The run and step state machines: every status a run, a step or an attempt
//! can be in, and the only transitions allowed between them. The engine asks
//! [`RunStatus::transition`] / [`StepStatus::transition`] before every write,
//! so an illegal move (a late completion for a cancelled run, say) is refused
//! instead of silently corrupting history.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Refused move between two statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal {kind} transition {from} → {to}")]
pub struct IllegalTransition {
    pub kind: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// Where a run is.
///
/// ```text
/// queued ──▶ running ──▶ succeeded | failed | cancelled | timed_out
///   └──────▶ cancelled | failed (nothing to run)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a concurrency slot.
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// The whole-run timeout elapsed.
    TimedOut,
}

/// Where a step of a run is.
///
/// ```text
/// pending ──▶ queued ──▶ running ──▶ succeeded | failed | timed_out | cancelled
///    │          │  ▲        │
///    │          │  └────────┘ (retry: a new attempt after backoff)
///    ├──▶ skipped (a need did not succeed)
///    └──▶ cancelled          queued ──▶ cancelled
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for its needs.
    Pending,
    /// Ready: waiting for a worker (or for its retry backoff to elapse).
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
    /// Never ran because a need failed, timed out, was cancelled or skipped.
    Skipped,
}

/// How one attempt of a step ended (or that it is still going).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    /// The worker stopped heartbeating (crashed, killed, partitioned).
    Lost,
}

macro_rules! status_strings {
    ($ty:ident, { $($variant:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($ty::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_strings!(RunStatus, {
    Queued => "queued", Running => "running", Succeeded => "succeeded",
    Failed => "failed", Cancelled => "cancelled", TimedOut => "timed_out",
});
status_strings!(StepStatus, {
    Pending => "pending", Queued => "queued", Running => "running", Succeeded => "succeeded",
    Failed => "failed", Cancelled => "cancelled", TimedOut => "timed_out", Skipped => "skipped",
});
status_strings!(AttemptStatus, {
    Running => "running", Succeeded => "succeeded", Failed => "failed",
    TimedOut => "timed_out", Cancelled => "cancelled", Lost => "lost",
});

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    pub fn can_become(self, to: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, to),
            (Queued, Running | Cancelled | Failed)
                | (Running, Succeeded | Failed | Cancelled | TimedOut)
        )
    }

    pub fn transition(self, to: RunStatus) -> Result<RunStatus, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                kind: "run",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl StepStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            StepStatus::Pending | StepStatus::Queued | StepStatus::Running
        )
    }

    /// A need in this status lets its dependents start.
    pub fn satisfies_needs(self) -> bool {
        self == StepStatus::Succeeded
    }

    /// A need in this status means its dependents can never start.
    pub fn blocks_dependents(self) -> bool {
        matches!(
            self,
            StepStatus::Failed | StepStatus::Cancelled | StepStatus::TimedOut | StepStatus::Skipped
        )
    }

    pub fn can_become(self, to: StepStatus) -> bool {
        use StepStatus::*;
        matches!(
            (self, to),
            (Pending, Queued | Skipped | Cancelled)
                | (Queued, Running | Cancelled)
                | (Running, Succeeded | Failed | TimedOut | Cancelled | Queued)
        )
    }

    pub fn transition(self, to: StepStatus) -> Result<StepStatus, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                kind: "step",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl AttemptStatus {
    pub fn is_terminal(self) -> bool {
        self != AttemptStatus::Running
    }

    pub fn can_become(self, to: AttemptStatus) -> bool {
        self == AttemptStatus::Running && to != AttemptStatus::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of run statuses, against the diagram.
    #[test]
    fn run_transitions_exhaustive() {
        use RunStatus::*;
        let allowed = [
            (Queued, Running),
            (Queued, Cancelled),
            (Queued, Failed),
            (Running, Succeeded),
            (Running, Failed),
            (Running, Cancelled),
            (Running, TimedOut),
        ];
        for &from in RunStatus::ALL {
            for &to in RunStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} → {to}");
                assert_eq!(from.transition(to).is_ok(), expected, "{from} → {to}");
            }
        }
    }

    /// Every pair of step statuses, against the diagram.
    #[test]
    fn step_transitions_exhaustive() {
        use StepStatus::*;
        let allowed = [
            (Pending, Queued),
            (Pending, Skipped),
            (Pending, Cancelled),
            (Queued, Running),
            (Queued, Cancelled),
            (Running, Succeeded),
            (Running, Failed),
            (Running, TimedOut),
            (Running, Cancelled),
            (Running, Queued),
        ];
        for &from in StepStatus::ALL {
            for &to in StepStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} → {to}");
                assert_eq!(from.transition(to).is_ok(), expected, "{from} → {to}");
            }
        }
    }

    #[test]
    fn attempt_transitions_exhaustive() {
        for &from in AttemptStatus::ALL {
            for &to in AttemptStatus::ALL {
                let expected = from == AttemptStatus::Running && to != AttemptStatus::Running;
                assert_eq!(from.can_become(to), expected, "{from} → {to}");
            }
        }
    }

    #[test]
    fn terminal_statuses_have_no_way_out() {
        for &s in RunStatus::ALL.iter().filter(|s| s.is_terminal()) {
            assert!(RunStatus::ALL.iter().all(|&t| !s.can_become(t)), "{s}");
        }
        for &s in StepStatus::ALL.iter().filter(|s| s.is_terminal()) {
            assert!(StepStatus::ALL.iter().all(|&t| !s.can_become(t)), "{s}");
        }
    }

    #[test]
    fn strings_round_trip_and_match_serde() {
        for &s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for &s in StepStatus::ALL {
            assert_eq!(StepStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for &s in AttemptStatus::ALL {
            assert_eq!(AttemptStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RunStatus::parse("done"), None);
        let err = RunStatus::Succeeded
            .transition(RunStatus::Running)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal run transition succeeded → running"
        );
    }
}
