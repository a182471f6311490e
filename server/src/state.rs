//! The one state every handler shares.

use crate::auth::AuthState;
use crate::store::SharedStore;
use axum::extract::FromRef;
use gantry_core::port::SharedControlPlane;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub plane: SharedControlPlane,
    /// The execution API's port (`/exec/v1`), implemented by the same plane.
    pub execution: gantry_core::port::SharedExecutionPort,
    pub store: SharedStore,
    /// What authentication (sessions, tokens, single sign-on) works with.
    pub auth: AuthState,
    /// How this process's worker confines steps (None: it runs none).
    pub step_isolation: Option<Arc<crate::engine::sandbox::Isolation>>,
}
