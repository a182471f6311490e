//! Read models the dashboard shows: the shell around every page, the
//! sign-in choices and the Overview page ([`health`]: each environment as
//! the on-call engineer needs it).

pub mod health;

pub use health::ATTENTION_COUNTED;

use crate::environment::Environment;
use crate::identity::{DevUser, Principal};
use crate::preferences::Preferences;
use serde::{Deserialize, Serialize};

/// What every page's frame needs: who is signed in, and whether this is a
/// dev-mode server (shown as a banner on every page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub dev_mode: bool,
    pub principal: Option<Principal>,
    pub preferences: Preferences,
    pub version: String,
    /// The configured environments in promotion order, for pages that list
    /// them in filters and forms (empty when signed out). Asking the
    /// Overview for them cost every such page the environments' health.
    #[serde(default)]
    pub environments: Vec<Environment>,
}

/// The ways to sign in that this server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// Seeded demo accounts; empty unless the server runs with `--dev`.
    pub dev_users: Vec<DevUser>,
    /// True once an OIDC issuer is configured.
    pub sso: bool,
    /// Single sign-on is configured but its provider could not be reached
    /// at the last attempt (Gantry keeps retrying).
    #[serde(default)]
    pub sso_unavailable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub version: String,
    /// `SQLite` or `PostgreSQL`.
    pub database: String,
    pub migrations_applied: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Every configured environment, in promotion order.
    pub environments: Vec<Environment>,
    /// The environments the reader may see, in the same order.
    #[serde(default)]
    pub health: Vec<health::EnvironmentHealth>,
    /// The window `health` counts runs in.
    #[serde(default)]
    pub run_window_hours: u32,
    pub system: SystemInfo,
}
