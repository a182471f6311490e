//! The one state every handler shares.

use crate::store::SharedStore;
use axum::extract::FromRef;
use gantry_core::port::SharedControlPlane;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub plane: SharedControlPlane,
    /// The execution API's port (`/exec/v1`), implemented by the same plane.
    pub execution: gantry_core::port::SharedExecutionPort,
    pub store: SharedStore,
    pub auth: Arc<AuthSettings>,
    /// Single sign-on, when configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// How this process's worker confines steps (None: it runs none).
    pub step_isolation: Option<Arc<crate::engine::sandbox::Isolation>>,
}

pub struct AuthSettings {
    pub dev_mode: bool,
    /// Sessions end this long after sign-in, however active.
    pub max_lifetime: Duration,
    /// Sources that keep failing to authenticate wait.
    pub lockout: crate::auth::lockout::Lockout,
    /// Proxies whose X-Forwarded-For names the client (`--trusted-proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}
