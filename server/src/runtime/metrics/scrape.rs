//! Answering a scrape: the gauges that mirror the database are read at
//! each one (so they equal the SQL count, and every process reports the
//! same), then both registries are rendered in Prometheus's text format.
//! The same answer serves `--metrics-bind`'s listener and, behind a
//! metrics token, the main port (`api/metrics.rs`).

use super::Registry;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What a scrape needs: the registry, and the database for the gauges that
/// mirror it.
#[derive(Clone)]
pub struct Scrape {
    pub(super) registry: Registry,
    /// `None` in a `gantry worker`, which has no database.
    pub(super) store: Option<crate::store::SharedStore>,
    pub(super) clock: Arc<dyn crate::runtime::clock::Clock>,
    /// Environment/state pairs reported before, so one that emptied reads 0.
    pub(super) seen_runs: Arc<Mutex<BTreeSet<(String, String)>>>,
}

/// Longest the database gauges may hold a scrape up.
const GAUGE_TIMEOUT: Duration = Duration::from_secs(2);

impl Scrape {
    /// The text a scraper reads.
    pub async fn answer(&self) -> Response {
        if let Some(store) = &self.store {
            self.database_gauges(store).await;
        }
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            self.registry.render(),
        )
            .into_response()
    }

    /// Reads the queue and unfinished runs into their gauges (bounded).
    async fn database_gauges(&self, store: &crate::store::SharedStore) {
        let (open, idle) = store.pool_connections();
        let idle = idle as f64;
        metrics::gauge!("gantry_db_pool_connections", "state" => "idle").set(idle);
        metrics::gauge!("gantry_db_pool_connections", "state" => "used")
            .set((f64::from(open) - idle).max(0.0));
        let now = self.clock.now();
        match tokio::time::timeout(GAUGE_TIMEOUT, store.queue_gauges(now)).await {
            Ok(Ok(g)) => {
                for (state, n) in [
                    ("ready", g.ready),
                    ("waiting", g.waiting),
                    ("running", g.running),
                ] {
                    metrics::gauge!("gantry_queue_depth", "state" => state).set(n as f64);
                }
                metrics::gauge!("gantry_queue_oldest_ready_age_seconds")
                    .set(g.oldest_ready_ms.map_or(0.0, |ms| ms as f64 / 1000.0));
                let mut seen = self
                    .seen_runs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                for key in seen.iter() {
                    if !g.runs.iter().any(|(e, s, _)| (e, s) == (&key.0, &key.1)) {
                        metrics::gauge!("gantry_runs_active", "environment" => key.0.clone(), "state" => key.1.clone())
                            .set(0.0);
                    }
                }
                for (environment, state, n) in g.runs {
                    metrics::gauge!("gantry_runs_active", "environment" => environment.clone(), "state" => state.clone())
                        .set(n as f64);
                    seen.insert((environment, state));
                }
            }
            // The rest still renders; the gauges keep their last values.
            Ok(Err(e)) => tracing::warn!(error = %e, "metrics: could not read the queue gauges"),
            Err(_) => tracing::warn!("metrics: the queue gauges took over 2 s"),
        }
    }
}

/// `GET /metrics` on `--metrics-bind`'s own listener.
async fn serve_metrics(axum::extract::State(scrape): axum::extract::State<Scrape>) -> Response {
    scrape.answer().await
}

/// The router of the metrics listener.
pub fn router(scrape: Scrape) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(serve_metrics))
        .with_state(scrape)
}
