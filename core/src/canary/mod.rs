//! Canary promotions, the pure part (issue 15, first increment): which
//! runs a canary takes (`assign`) and how its runs are judged against the
//! stable version's (`analysis`). Nothing here reads a clock or a
//! database; the server counts runs and passes them in.

pub mod analysis;
pub mod assign;

pub use analysis::{
    Analysis, Decision, Estimate, Outcomes, Thresholds, analyse, decide, probability_worse,
};
pub use assign::{Weight, takes_canary};
