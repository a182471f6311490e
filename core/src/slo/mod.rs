//! Service level objectives for workflows: what a spec's `slo:` section
//! says, and the pure maths the server runs over its exact run counts.
//!
//! - [`spec`]: the `slo:` types and [`validate`]: its rules.
//! - [`counts`]: which finished runs are good or bad for an objective.
//! - [`budget`]: the SLI and the error budget over the SLO window.
//! - [`burn`]: burn rates over 5m…3d and the workbook's multiwindow alerts.
//! - [`volume`]: whether a window holds enough runs for its target to mean
//!   anything.
//! - [`view`]: the summaries and the status the port returns, shaped from
//!   the server's tallies.
//!
//! Nothing here reads the clock or a database: callers count runs in the
//! windows ending at their `now` and pass the counts in. Targets are exact
//! parts per million ([`Target`]); fractions appear only in figures shown
//! to people.

pub mod budget;
pub mod burn;
pub mod counts;
pub mod spec;
mod target;
pub mod validate;
pub mod view;
pub mod volume;

pub use budget::{Budget, BudgetFigures, budget};
pub use burn::{AlertPair, BurnWindow, Decision, Severity, WindowCounts, burn_rate, decide};
pub use counts::{Counts, FinishedRun, RunTally, Verdict, verdict};
pub use spec::{DurationObjective, MAX_WINDOW, MIN_WINDOW, ObjectiveKind, SloSection, SloSpec};
pub use target::{PPM, Target};
pub use validate::{unknown_environments, validate};
pub use volume::{Volume, volume};
