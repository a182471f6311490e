//! Runs: the state machines, the pure planner the engine follows, and the
//! views every edge shows.

pub mod attention;
pub mod plan;
pub mod status;
pub mod view;

pub use plan::{Advance, AttemptEnd, RunMode, StepNext, advance, after_attempt};
pub use status::{AttemptStatus, IllegalTransition, RunStatus, StepStatus};
pub use view::{
    AttemptView, LogLine, LogPage, LogQuery, LogStream, RunDetail, RunFailure, RunFilter, RunPage,
    RunSummary, StepRun, Trigger, TriggerOutcome, TriggerRequest,
};
