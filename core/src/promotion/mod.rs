//! Promotion: moving the version active in environment N to N+1.
pub mod checklist;
pub mod delegation;
pub mod diff;
pub mod duration;
pub mod evaluation;
pub mod gate;
pub mod hosts;
pub mod order;
pub mod policy;
pub mod refusal;
pub mod request;
pub mod rules;
