//! Probes for orchestrators and load balancers. `/healthz`: the process
//! answers. `/readyz`: the database answers and its schema is the one this
//! binary expects.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = state.store.backend().to_string();
    match state.store.migration_status().await {
        Ok(m) if m.is_current() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": database, "migrations": m.applied })),
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
