//! Probes for orchestrators and load balancers. `/healthz`: the process
//! answers. `/readyz`: the database answers and its schema is the one this
//! binary expects; it also says how steps are isolated (`step_isolation`,
//! with `degraded: true` where the kernel lacks Landlock, the sandbox is
//! off, or steps run as root), without failing for it.

use crate::engine::sandbox::Isolation;
use crate::store::SharedStore;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(
    State(store): State<SharedStore>,
    State(step_isolation): State<Option<Arc<Isolation>>>,
) -> (StatusCode, Json<Value>) {
    let database = store.backend().to_string();
    match store.migration_status().await {
        // Degraded step isolation is reported, not a reason to be taken
        // out of rotation: restarting wouldn't give the kernel Landlock.
        Ok(m) if m.is_current() => (
            StatusCode::OK,
            Json(json!({
                "status": "ready",
                "database": database,
                "migrations": m.applied,
                "step_isolation": step_isolation.as_deref(),
            })),
        ),
        Ok(m) => {
            let reason = if m.pending.is_empty() {
                format!(
                    "database has migrations {:?} that this binary does not know: run a newer gantry",
                    m.unknown
                )
            } else {
                format!(
                    "migrations {:?} are not applied: restart gantry serve to apply them",
                    m.pending
                )
            };
            not_ready(&database, reason)
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            not_ready(&database, "database unreachable".to_owned())
        }
    }
}

fn not_ready(database: &str, reason: String) -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "not_ready", "database": database, "reason": reason })),
    )
}
