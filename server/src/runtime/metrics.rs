//! The process's metrics registry (`metrics` facade, rendered by
//! `metrics-exporter-prometheus`): installed once, with explicit histogram
//! buckets per family (the exporter renders summaries otherwise), served at
//! `GET /metrics` on `--metrics-bind`'s own listener.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Request latencies: 5 ms … 10 s.
const HTTP_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Step and run durations: 10 ms … 6 h.
const WORK_BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 21600.0,
];
/// Secret fetches: 1 ms … 10 s.
const FETCH_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0];

/// The registry, installed as the global recorder the first time (several
/// servers in one test process share it).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = buckets(PrometheusBuilder::new()).build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is already global (a test's):
            // then this registry simply stays empty.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// Every metric's help text (`# HELP`), which Prometheus tooling expects.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "gantry_build_info",
        "The running version and database, always 1."
    );
    describe_histogram!(
        "gantry_http_server_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method, route template and status."
    );
    describe_gauge!(
        "gantry_http_server_active_requests",
        "HTTP requests being answered."
    );
    describe_counter!(
        "gantry_steps_finished_total",
        "Step attempts this process's worker finished, by kind and outcome."
    );
    describe_histogram!(
        "gantry_step_duration_seconds",
        metrics::Unit::Seconds,
        "A step attempt's duration (secret fetching included), by kind and outcome."
    );
    describe_counter!(
        "gantry_step_retries_total",
        "Step attempts after the first, by kind."
    );
    describe_counter!(
        "gantry_runs_started_total",
        "Runs created, by workflow, environment and trigger."
    );
    describe_counter!(
        "gantry_runs_finished_total",
        "Runs that reached a final status, by workflow, environment and outcome."
    );
    describe_histogram!(
        "gantry_run_duration_seconds",
        metrics::Unit::Seconds,
        "A run's start-to-finish time, by workflow, environment and outcome."
    );
    describe_histogram!(
        "gantry_run_schedule_delay_seconds",
        metrics::Unit::Seconds,
        "How late a cron slot's run was created, by workflow."
    );
    describe_gauge!(
        "gantry_queue_depth",
        "Steps in the queue by state (ready, waiting behind a backoff, running), from the database."
    );
    describe_gauge!(
        "gantry_queue_oldest_ready_age_seconds",
        metrics::Unit::Seconds,
        "How long the oldest claimable step has waited, from the database."
    );
    describe_gauge!(
        "gantry_runs_active",
        "Unfinished runs by environment and state, from the database."
    );
    describe_gauge!(
        "gantry_db_pool_connections",
        "This process's database connections by state (idle, used)."
    );
    describe_counter!(
        "gantry_schedule_missed_total",
        "Cron slots that never ran (collapsed into one catch-up run after downtime), by workflow."
    );
    describe_gauge!(
        "gantry_worker_slots",
        "This process's worker slots by state (busy, free)."
    );
    describe_counter!(
        "gantry_authz_denied_total",
        "Requests authorization refused, by action (a security signal)."
    );
    describe_counter!(
        "gantry_auth_failures_total",
        "Refused credentials and sign-ins, by method (token, oidc, dev)."
    );
    describe_counter!(
        "gantry_secret_fetch_total",
        "Secret fetches by provider and outcome (never a value)."
    );
    describe_histogram!(
        "gantry_secret_fetch_duration_seconds",
        metrics::Unit::Seconds,
        "Time per secret fetch, by provider."
    );
}

fn buckets(builder: PrometheusBuilder) -> PrometheusBuilder {
    let families: [(&str, &[f64]); 4] = [
        ("gantry_http_server_request_duration_seconds", &HTTP_BUCKETS),
        ("gantry_step_duration_seconds", &WORK_BUCKETS),
        ("gantry_run_duration_seconds", &WORK_BUCKETS),
        ("gantry_secret_fetch_duration_seconds", &FETCH_BUCKETS),
    ];
    families.into_iter().fold(builder, |b, (name, values)| {
        // The values are constants, sorted and non-empty: this can't fail.
        match b.set_buckets_for_metric(Matcher::Full(name.to_owned()), values) {
            Ok(b) => b,
            Err(_) => unreachable_builder(),
        }
    })
}

/// Never reached (see `buckets`); a fresh builder keeps the types simple.
fn unreachable_builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
}

/// `gantry_build_info{version,database} 1`.
pub fn record_build_info(database: &str) {
    metrics::gauge!(
        "gantry_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "database" => database.to_owned()
    )
    .set(1.0);
}

/// Drains histogram buffers now and then, so rendering stays cheap.
pub async fn upkeep(handle: PrometheusHandle, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => handle.run_upkeep(),
        }
    }
}

/// What the metrics listener needs: the registry, and the database for the
/// gauges that mirror it (read at each scrape, so they equal the SQL count
/// and every process reports the same).
#[derive(Clone)]
pub struct Scrape {
    handle: PrometheusHandle,
    /// The database, for the gauges that mirror it (`None` in a `gantry
    /// worker`, which has none).
    store: Option<crate::store::SharedStore>,
    clock: std::sync::Arc<dyn crate::runtime::clock::Clock>,
    /// Environment/state pairs reported before, so one that emptied reads 0.
    seen_runs: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<(String, String)>>>,
}

/// Longest the database gauges may hold a scrape up.
const GAUGE_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /metrics` in Prometheus's text format.
pub async fn serve_metrics(
    axum::extract::State(scrape): axum::extract::State<Scrape>,
) -> impl axum::response::IntoResponse {
    if let Some(store) = &scrape.store {
        database_gauges(&scrape, store).await;
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}

/// Reads the queue and unfinished runs into their gauges (bounded).
async fn database_gauges(scrape: &Scrape, store: &crate::store::SharedStore) {
    let (open, idle) = store.pool_connections();
    let idle = idle as f64;
    metrics::gauge!("gantry_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("gantry_db_pool_connections", "state" => "used")
        .set((f64::from(open) - idle).max(0.0));
    let now = scrape.clock.now();
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
            let mut seen = scrape
                .seen_runs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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

/// The router of the metrics listener.
pub fn router(scrape: Scrape) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(serve_metrics))
        .with_state(scrape)
}

/// The registry and, with `--metrics-bind`, the listener serving it.
pub struct Metrics {
    handle: PrometheusHandle,
    listener: Option<tokio::net::TcpListener>,
    store: Option<crate::store::SharedStore>,
    clock: std::sync::Arc<dyn crate::runtime::clock::Clock>,
}

impl Metrics {
    /// Installs the registry (once per process), records the build, and
    /// binds `addr` if given: a taken port fails the start, not later.
    pub async fn bind(
        addr: Option<std::net::SocketAddr>,
        store: crate::store::SharedStore,
        clock: std::sync::Arc<dyn crate::runtime::clock::Clock>,
    ) -> std::io::Result<Self> {
        let handle = handle();
        record_build_info(match store.backend() {
            crate::store::Backend::Sqlite => "sqlite",
            crate::store::Backend::Postgres => "postgres",
        });
        let listener = match addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            handle,
            listener,
            store: Some(store),
            clock,
        })
    }

    /// A `gantry worker`'s: its own steps' metrics, no database gauges.
    pub async fn bind_worker(addr: Option<std::net::SocketAddr>) -> std::io::Result<Self> {
        let handle = handle();
        let listener = match addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            handle,
            listener,
            store: None,
            clock: std::sync::Arc::new(crate::runtime::clock::SystemClock),
        })
    }

    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Starts the upkeep and, if bound, the listener; both end with `stop`.
    pub fn serve(
        self,
        stop: tokio_util::sync::CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(upkeep(self.handle.clone(), stop.clone()))];
        if let Some(listener) = self.listener {
            let app = router(Scrape {
                handle: self.handle,
                store: self.store,
                clock: self.clock,
                seen_runs: std::sync::Arc::default(),
            });
            tasks.push(tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            }));
        }
        tasks
    }
}

/// Most distinct `workflow` label values one process reports; the rest are
/// counted under `workflow="_other"`, so thousands of workflows can't
/// explode the series count.
pub const MAX_WORKFLOW_LABELS: usize = 500;

static WORKFLOWS: OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = OnceLock::new();

/// `workflow` as a label value, within the cap.
pub fn workflow_label(workflow: &str) -> String {
    let seen = WORKFLOWS.get_or_init(Default::default);
    let mut seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(workflow) {
        return workflow.to_owned();
    }
    if seen.len() < MAX_WORKFLOW_LABELS {
        seen.insert(workflow.to_owned());
        return workflow.to_owned();
    }
    "_other".to_owned()
}

/// A credential or sign-in was refused (`token`, `oidc`, `dev`).
pub fn auth_failure(method: &'static str) {
    metrics::counter!("gantry_auth_failures_total", "method" => method).increment(1);
}

/// A run was created (by a person, a token, the schedule or an approval).
pub fn run_started(workflow: &str, environment: &str, trigger: &str) {
    metrics::counter!(
        "gantry_runs_started_total",
        "workflow" => workflow_label(workflow),
        "environment" => environment.to_owned(),
        "trigger" => trigger.to_owned()
    )
    .increment(1);
}

/// A run reached a final status after `seconds` (from its start).
pub fn run_finished(workflow: &str, environment: &str, outcome: &str, seconds: Option<f64>) {
    let workflow = workflow_label(workflow);
    metrics::counter!(
        "gantry_runs_finished_total",
        "workflow" => workflow.clone(),
        "environment" => environment.to_owned(),
        "outcome" => outcome.to_owned()
    )
    .increment(1);
    if let Some(seconds) = seconds {
        metrics::histogram!(
            "gantry_run_duration_seconds",
            "workflow" => workflow,
            "environment" => environment.to_owned(),
            "outcome" => outcome.to_owned()
        )
        .record(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_thousand_workflows_stay_under_the_label_cap() {
        let labels: std::collections::HashSet<String> = (0..2000)
            .map(|i| workflow_label(&format!("wf-{i}")))
            .collect();
        assert_eq!(
            labels.len(),
            MAX_WORKFLOW_LABELS + 1,
            "500 names and _other"
        );
        assert!(labels.contains("_other"));
        // A name seen before the cap keeps its own series.
        assert_eq!(workflow_label("wf-7"), "wf-7");
        assert_eq!(workflow_label("wf-1999"), "_other");
    }
}
