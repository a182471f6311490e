//! The process's metrics (`metrics` facade, rendered by
//! `metrics-exporter-prometheus`): installed once, with explicit histogram
//! buckets per family (the exporter renders summaries otherwise), served at
//! `GET /metrics` on `--metrics-bind`'s own listener and, behind a metrics
//! token, on the main port.

mod labels;
mod recorder;
mod scrape;
pub mod slo_rules;

pub use scrape::{Scrape, router};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// What `serve` (or `gantry worker`) configures about its metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `--metrics-bind`: a listener of its own, if any.
    pub bind: Option<std::net::SocketAddr>,
    /// `--metrics-workflow-cap`: distinct `workflow` label values.
    pub workflow_cap: usize,
    /// `--metrics-series-idle`: series of a workflow unused this long
    /// leave the output and free its slot (`None`: never).
    pub series_idle: Option<Duration>,
}

/// Most distinct `workflow` label values one process reports by default.
pub const DEFAULT_WORKFLOW_CAP: usize = 500;
/// How long a workflow's series stay without use by default: longer than
/// a weekly job's gap, so its counters don't restart between runs.
pub const DEFAULT_SERIES_IDLE: Duration = Duration::from_secs(14 * 24 * 3600);

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            bind: None,
            workflow_cap: DEFAULT_WORKFLOW_CAP,
            series_idle: Some(DEFAULT_SERIES_IDLE),
        }
    }
}

/// The two registries (see `recorder.rs`), rendered as one.
#[derive(Clone)]
pub struct Registry {
    lasting: PrometheusHandle,
    by_workflow: PrometheusHandle,
}

impl Registry {
    pub fn render(&self) -> String {
        let mut text = self.lasting.render();
        text.push_str(&self.by_workflow.render());
        text
    }

    fn run_upkeep(&self) {
        self.lasting.run_upkeep();
        self.by_workflow.run_upkeep();
    }
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();
static WORKFLOWS: OnceLock<Mutex<labels::WorkflowLabels>> = OnceLock::new();

/// Request latencies: 5 ms … 10 s.
const HTTP_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Step and run durations, schedule delays: 10 ms … 6 h.
const WORK_BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 21600.0,
];
/// `gantry_run_duration_seconds`'s bucket bounds, in seconds: the only
/// durations Prometheus can count runs finished within, so `gantry slo
/// export` accepts only these as an SLO's `duration.within`.
pub const RUN_DURATION_BUCKETS: [f64; 14] = WORK_BUCKETS;
/// Time in the queue: 10 ms … 1 h.
const QUEUE_BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
];
/// Secret fetches: 1 ms … 10 s.
const FETCH_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0];

/// The registry, installed as the global recorder the first time with
/// `settings` (several servers in one test process share it, with the
/// first one's settings).
pub fn install(settings: &MetricsSettings) -> Registry {
    REGISTRY
        .get_or_init(|| {
            let lasting = buckets(PrometheusBuilder::new()).build_recorder();
            // Only the workflow families' counters and histograms expire:
            // they have no gauges.
            let by_workflow = buckets(PrometheusBuilder::new())
                .idle_timeout(
                    MetricKindMask::COUNTER | MetricKindMask::HISTOGRAM,
                    settings.series_idle,
                )
                .build_recorder();
            let registry = Registry {
                lasting: lasting.handle(),
                by_workflow: by_workflow.handle(),
            };
            let _ = WORKFLOWS.set(Mutex::new(labels::WorkflowLabels::new(
                settings.workflow_cap,
                settings.series_idle,
            )));
            // Fails only if another recorder is already global (a test's):
            // then this registry simply stays empty.
            let _ = metrics::set_global_recorder(recorder::SplitRecorder {
                lasting,
                by_workflow,
            });
            describe();
            registry
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
    describe_histogram!(
        "gantry_step_queue_wait_seconds",
        metrics::Unit::Seconds,
        "Time from a step becoming claimable (after any retry backoff) to a worker claiming it, by kind."
    );
    describe_counter!(
        "gantry_csp_violations_total",
        "Content-Security-Policy violations browsers reported, by directive."
    );
    describe_counter!(
        "gantry_csrf_refusals_total",
        "State-changing requests carrying a session cookie refused because they came from another site."
    );
    describe_counter!(
        "gantry_backpressure_refusals_total",
        "Triggers refused and schedule slots skipped because too many runs were unfinished, by limit (workflow, environment, server)."
    );
    describe_counter!(
        "gantry_rate_limit_checks_total",
        "Requests checked against a rate limit, by class (read, trigger, write, sign_in, scim, webhook)."
    );
    describe_counter!(
        "gantry_rate_limit_rejections_total",
        "Requests refused with 429 for a spent rate limit, by class."
    );
    describe_counter!(
        "gantry_rate_limit_store_errors_total",
        "Rate-limit checks the bucket store (the database) could not answer, by class; --rate-limit-fail-open decides what they got."
    );
    describe_counter!(
        "gantry_audit_events_total",
        "Audit records written, by outcome (succeeded, denied, failed)."
    );
    describe_counter!(
        "gantry_audit_chain_gap_total",
        "Verifications of the audit chain that found it broken (edited, deleted, inserted or reordered records)."
    );
    describe_gauge!(
        "gantry_audit_sink_backlog_records",
        "Audit records appended but not yet acknowledged by the --audit-sink-url collector (the process sending reports it; others 0)."
    );
    describe_counter!(
        "gantry_audit_sink_failures_total",
        "Audit sink deliveries that failed (collector unreachable or answering other than 2xx); each is retried."
    );
    describe_counter!(
        "gantry_telemetry_dropped_total",
        "Telemetry dropped, by signal (traces): the export queue was full, or the collector refused or could not be reached."
    );
    // Present from the start at 0, so `increase()` sees the first one: an
    // alert on a counter that only appears when something goes wrong would
    // miss it.
    metrics::counter!("gantry_audit_chain_gap_total").absolute(0);
    metrics::counter!("gantry_telemetry_dropped_total", "signal" => "traces").absolute(0);
    describe_counter!(
        "gantry_tls_reload_failures_total",
        "Checks of --tls-cert/--tls-key that found the files changed but unusable (or unreadable); the previous certificate stays in service."
    );
    metrics::counter!("gantry_tls_reload_failures_total").absolute(0);
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
    let families: [(&str, &[f64]); 6] = [
        ("gantry_http_server_request_duration_seconds", &HTTP_BUCKETS),
        ("gantry_step_duration_seconds", &WORK_BUCKETS),
        ("gantry_run_duration_seconds", &RUN_DURATION_BUCKETS),
        ("gantry_run_schedule_delay_seconds", &WORK_BUCKETS),
        ("gantry_step_queue_wait_seconds", &QUEUE_BUCKETS),
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
async fn upkeep(registry: Registry, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => registry.run_upkeep(),
        }
    }
}

/// The registry and, with `--metrics-bind`, the listener serving it.
pub struct Metrics {
    scrape: Scrape,
    listener: Option<tokio::net::TcpListener>,
}

impl Metrics {
    /// Installs the registry (once per process), records the build, and
    /// binds `settings.bind` if given: a taken port fails the start, not
    /// later.
    pub async fn bind(
        settings: &MetricsSettings,
        store: crate::store::SharedStore,
        clock: std::sync::Arc<dyn crate::runtime::clock::Clock>,
    ) -> std::io::Result<Self> {
        let registry = install(settings);
        record_build_info(match store.backend() {
            crate::store::Backend::Sqlite => "sqlite",
            crate::store::Backend::Postgres => "postgres",
        });
        Self::listen(settings.bind, registry, Some(store), clock).await
    }

    /// A `gantry worker`'s: its own steps' metrics, no database gauges.
    pub async fn bind_worker(addr: Option<std::net::SocketAddr>) -> std::io::Result<Self> {
        let registry = install(&MetricsSettings::default());
        let clock = std::sync::Arc::new(crate::runtime::clock::SystemClock);
        Self::listen(addr, registry, None, clock).await
    }

    async fn listen(
        addr: Option<std::net::SocketAddr>,
        registry: Registry,
        store: Option<crate::store::SharedStore>,
        clock: std::sync::Arc<dyn crate::runtime::clock::Clock>,
    ) -> std::io::Result<Self> {
        let listener = match addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            scrape: Scrape {
                registry,
                store,
                clock,
                seen_runs: std::sync::Arc::default(),
            },
            listener,
        })
    }

    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// What answers a scrape (the main port's `GET /metrics` uses it too).
    pub fn scrape(&self) -> Scrape {
        self.scrape.clone()
    }

    /// Starts the upkeep and, if bound, the listener; both end with `stop`.
    pub fn serve(
        self,
        stop: tokio_util::sync::CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(upkeep(
            self.scrape.registry.clone(),
            stop.clone(),
        ))];
        if let Some(listener) = self.listener {
            let app = router(self.scrape);
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

/// `workflow` as a label value, within `--metrics-workflow-cap` (the rest
/// are `workflow="_other"`).
pub fn workflow_label(workflow: &str) -> String {
    let labels = WORKFLOWS.get_or_init(|| {
        Mutex::new(labels::WorkflowLabels::new(
            DEFAULT_WORKFLOW_CAP,
            Some(DEFAULT_SERIES_IDLE),
        ))
    });
    labels
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .label(workflow, Instant::now())
}

/// A credential or sign-in was refused (`token`, `oidc`, `dev`).
pub fn auth_failure(method: &'static str) {
    metrics::counter!("gantry_auth_failures_total", "method" => method).increment(1);
}

/// A run refused (a trigger) or a slot skipped (a schedule) for
/// backpressure, by the limit it would have broken.
pub fn backpressure(scope: crate::store::runs::BacklogScope) {
    metrics::counter!("gantry_backpressure_refusals_total", "limit" => scope.as_str()).increment(1);
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

/// A finished run, as its summary says: from its start to its end, or
/// from its creation for one that never started (cancelled while it
/// waited for a concurrency slot), so every finished run has a duration.
pub fn run_summary_finished(run: &gantry_core::run::RunSummary) {
    let start = run.started_at.unwrap_or(run.created_at);
    let seconds = run
        .finished_at
        .and_then(|f| (f - start).to_std().ok())
        .map(|d| d.as_secs_f64());
    run_finished(
        &run.workflow,
        &run.environment,
        run.status.as_str(),
        seconds,
    );
}

/// A step of `kind` waited `seconds` from claimable to claimed.
pub fn step_queue_wait(kind: &'static str, seconds: f64) {
    metrics::histogram!("gantry_step_queue_wait_seconds", "kind" => kind).record(seconds);
}

/// A verification found the audit chain broken.
pub fn audit_chain_gap() {
    metrics::counter!("gantry_audit_chain_gap_total").increment(1);
}
