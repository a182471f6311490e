//! Gantry's heart: domain types shared by the server and the browser, pure
//! decision logic, and the control-plane port.
//!
//! Nothing here does I/O or reads the clock: callers pass `now` in. The crate
//! builds for `wasm32-unknown-unknown` so the dashboard uses the very same types.
//! The async port (`port`: one trait per capability, combined by
//! [`port::ControlPlane`]) is only compiled with the `ssr` feature, keeping
//! it out of the browser bundle.

pub mod alert;
pub mod approval;
pub mod audit;
pub mod break_glass;
pub mod bundle;
pub mod canary;
pub mod dag;
pub mod environment;
pub mod error;
pub mod execution;
pub mod freeze;
pub mod identity;
pub mod overview;
pub mod preferences;
pub mod privacy;
pub mod promotion;
pub mod ratelimit;
pub mod rbac;
pub mod redirect;
pub mod retention;
pub mod role_mapping;
pub mod run;
pub mod scim;
pub mod secret;
pub mod slo;
pub mod spec;
pub mod step_up;
pub mod text;
pub mod token;
pub mod user;
pub mod webhook;
pub mod workflow;

#[cfg(feature = "ssr")]
pub mod port;
#[cfg(feature = "ssr")]
pub mod schedule;

#[cfg(all(test, feature = "ssr"))]
mod properties;

pub use environment::{EnvScope, Environment, Environments};
pub use error::PortError;
pub use identity::{
    DevUser, Me, MeRole, Principal, PrincipalKind, Role, RoleGrant, UserId, VerifiedIdentity,
};
pub use preferences::{Preferences, Theme, TimeDisplay};
