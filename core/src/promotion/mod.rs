//! Promotion: moving the version active in environment N to N+1 (never
//! skipping one), gated by the target environment's policy, and rolling
//! back. The pure half: the server stores requests, ticks, delegations and
//! the ledger, gathers the facts, and asks these functions.
//!
//! - [`policy`]: what a promotion into an environment needs
//!   ([`policy::EnvironmentPolicy`]), defaults per position, validation;
//! - [`checklist`]: the rollout checklist's item templates and the default
//!   checklist; [`evaluation`]: evaluating it live into a
//!   [`evaluation::ChecklistSnapshot`];
//! - [`diff`]: the semantic diff approvers review ([`hosts`]: the hosts HTTP
//!   steps call);
//! - [`order`]: which move a request asks for, and the 409 for skipping;
//! - [`request`]: request states and transitions, approvals bound to what
//!   was reviewed; [`gate`]: whether a request may be promoted now;
//! - [`rules`]: who may do what ([`delegation`]: approval rights by person,
//!   own or delegated, for run approvals too; [`refusal`]: why not);
//! - [`ledger`]: deployments, the version active at a time, rollback
//!   targets, rolled-back versions;
//! - [`verification`]: the workflow run after every promotion and
//!   rollback, and what its outcome does;
//! - [`duration`]: durations in policies (`"7d"`);
//! - [`view`]: what the port takes and answers ([`delegation_view`]: for
//!   delegations).

pub mod checklist;
pub mod delegation;
pub mod delegation_view;
pub mod diff;
pub mod duration;
pub mod evaluation;
pub mod gate;
pub mod hosts;
pub mod ledger;
pub mod order;
pub mod policy;
pub mod refusal;
pub mod request;
pub mod rules;
pub mod verification;
pub mod view;

pub use checklist::{ChecklistItemTemplate, ItemCheck};
pub use delegation::{Actor, ApprovalRight, Delegation, FourEyes};
pub use diff::{SpecDiff, diff};
pub use duration::PolicyDuration;
pub use evaluation::{ChecklistFacts, ChecklistSnapshot, ChecklistTick, ItemStatus, evaluate};
pub use gate::{GateDecision, WaitReason, gate};
pub use ledger::{Deployment, DeploymentKind};
pub use policy::{EnvironmentPolicy, EnvironmentPosition};
pub use refusal::{PromotionAct, Refusal};
pub use request::{PromotionApproval, PromotionRequest, PromotionState, ReviewBasis};

#[cfg(test)]
mod properties;
