//! Canary promotions, the pure part (issue 15): which runs a canary takes
//! (`assign`), how its runs are judged against the stable version's
//! (`analysis` for failures, `durations` for time), what a policy says
//! (`policy`), one look at a live canary and what follows (`progress`),
//! and what the port answers (`view`). Nothing here reads a clock or a
//! database; the server counts runs and passes them in.

pub mod analysis;
pub mod assign;
pub mod durations;
pub mod policy;
pub mod progress;
pub mod view;

pub use analysis::{
    Analysis, Decision, Estimate, Outcomes, Thresholds, analyse, decide, probability_worse,
};
pub use assign::{Weight, takes_canary};
pub use policy::{AnalysisSettings, CanaryPolicy, CanaryStep, RunningOnFailure};
pub use progress::{CriticalFailure, Next, StepFacts, look};
pub use view::{
    Arm, ArmCounts, Canary, CanaryAct, CanaryControl, CanaryDecision, CanaryDetail,
    CanaryEvaluation, CanaryState,
};
