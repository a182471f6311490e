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
            handle
        })
        .clone()
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

/// `GET /metrics` in Prometheus's text format.
pub async fn serve_metrics(
    axum::extract::State(handle): axum::extract::State<PrometheusHandle>,
) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}

/// The router of the metrics listener.
pub fn router(handle: PrometheusHandle) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(serve_metrics))
        .with_state(handle)
}

/// The registry and, with `--metrics-bind`, the listener serving it.
pub struct Metrics {
    handle: PrometheusHandle,
    listener: Option<tokio::net::TcpListener>,
}

impl Metrics {
    /// Installs the registry (once per process), records the build, and
    /// binds `addr` if given: a taken port fails the start, not later.
    pub async fn bind(
        addr: Option<std::net::SocketAddr>,
        backend: crate::store::Backend,
    ) -> std::io::Result<Self> {
        let handle = handle();
        record_build_info(match backend {
            crate::store::Backend::Sqlite => "sqlite",
            crate::store::Backend::Postgres => "postgres",
        });
        let listener = match addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self { handle, listener })
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
            let app = router(self.handle);
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
