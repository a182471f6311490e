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
use std::time::Duration;

/// How long `/readyz` waits for the database. With PostgreSQL down, a
/// connection attempt waits out the pool's acquire timeout (5 s); probes
/// time out sooner (Kubernetes' default is 1 s, HAProxy's 2 s), so
/// readiness answers "not ready" by this bound instead of not at all.
const READY_CHECK_LIMIT: Duration = Duration::from_millis(1500);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(
    State(store): State<SharedStore>,
    State(step_isolation): State<Option<Arc<Isolation>>>,
) -> (StatusCode, Json<Value>) {
    let database = store.backend().to_string();
    let Ok(status) = tokio::time::timeout(READY_CHECK_LIMIT, store.migration_status()).await else {
        tracing::warn!(
            limit_ms = READY_CHECK_LIMIT.as_millis(),
            "readiness check: the database did not answer in time"
        );
        return not_ready(
            &database,
            format!(
                "database did not answer within {} ms",
                READY_CHECK_LIMIT.as_millis()
            ),
        );
    };
    match status {
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
