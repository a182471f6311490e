//! Alerts, the pure part: what a rule says (`rule`, its bounds in
//! `rule_validate`, which workflows and environments it is about in
//! `scope`), how one alert instance (rule × workflow × environment) moves
//! between ok, pending, firing and resolved and which notifications that
//! sends (`state`), how a run-based rule judges a run history
//! (`evaluate`), how the other kinds judge the facts of an evaluation pass
//! (`kinds`), and the replay of a history that the rule form shows before
//! saving (`backtest`).
//!
//! Gantry judges alerts from its own exact records, one observation per
//! finished run (or per evaluation pass for time-based kinds), so "three
//! failures in a row" means exactly that, not a rate that approximates it.

pub mod backtest;
pub mod channel;
pub mod evaluate;
pub mod kinds;
pub mod notification;
pub mod rule;
mod rule_validate;
pub mod scope;
pub mod spec_rules;
pub mod state;
pub mod view;

#[cfg(test)]
mod backtest_tests;
#[cfg(test)]
mod state_tests;

pub use backtest::{Backtest, Moment, backtest};
pub use channel::{ChannelError, ChannelKind, ChannelSpec, ChannelView, SigningKey};
pub use evaluate::{RunOutcome, observe};
pub use kinds::{Finding, InstanceKey, LongTarget};
pub use notification::{NoticeKind, Notification, Severity};
pub use rule::{Judged, Reach, RuleError, RuleKind, RuleSpec};
pub use state::{Instance, Notice, Observation, Phase, Policy, fingerprint, fingerprint_of};
