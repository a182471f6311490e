//! Logs and traces, set up in one place.
//!
//! - Logs: JSON lines for collectors (`timestamp`, `level`, `target`,
//!   `message`, `trace_id`, `span_id`, and the fields of the spans the
//!   event is in: `request_id`, `user`, `workflow`, `run_id`, `step`,
//!   `attempt`, `environment`), or text for people; every line redacted
//!   (`redact.rs`).
//! - Traces: OpenTelemetry over OTLP when the `OTEL_*` variables ask for
//!   it (`otlp.rs`); `tracing` spans become OpenTelemetry spans, and spans
//!   that outlive a process are emitted from the database (`finished.rs`).

pub mod context;
mod filter;
pub mod finished;
mod otlp;
mod queue;
pub mod redact;

use filter::{SpansAlwaysOn, env_filter};
use opentelemetry::trace::TraceContextExt;
use redact::RedactingStdout;
use std::time::Duration;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

/// Keeps the trace pipeline alive; dropping it flushes what is queued
/// (bounded by the export timeout) so the last spans of a process that
/// stops cleanly are not lost.
#[must_use = "dropping the guard shuts tracing down"]
pub struct Telemetry {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn tracing(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
        }
    }
}

/// Installs logging (and tracing, when configured) for this process.
/// `Err` names the `OTEL_*` variable to fix. A second call (tests building
/// several apps in one process) keeps the first set-up.
pub fn init(format: LogFormat, filter: &str) -> Result<Telemetry, String> {
    let pipeline = otlp::from_env()?;
    let (otel_layer, provider) = match pipeline {
        Some(p) => {
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            finished::install(p.queue.clone());
            (
                Some(
                    tracing_opentelemetry::layer()
                        // Per poll of every span's future, these would time
                        // each entry and exit (busy/idle), attach an
                        // OpenTelemetry context nothing reads (we ask a span
                        // for its context directly), and tag every span
                        // with the Tokio worker thread that happened to
                        // create it: work on the run's path that tells an
                        // operator nothing.
                        .with_tracked_inactivity(false)
                        .with_context_activation(false)
                        .with_threads(false)
                        .with_tracer(p.tracer)
                        .with_filter(SpansAlwaysOn(env_filter(filter))),
                ),
                Some(p.provider),
            )
        }
        None => (None, None),
    };
    let fmt_layer = match format {
        LogFormat::Json => json_layer().boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_writer(RedactingStdout::default())
            .boxed(),
    }
    .with_filter(SpansAlwaysOn(env_filter(filter)));
    // The session layer opens an info span ("call") around every request:
    // it says nothing a reader needs, and would stand between the request
    // span and what handlers log.
    let quiet = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("tower_sessions", LevelFilter::WARN);
    let installed = tracing_subscriber::registry()
        .with(quiet)
        .with(otel_layer)
        .with(fmt_layer)
        .try_init()
        .is_ok();
    Ok(Telemetry {
        provider: if installed { provider } else { None },
    })
}

fn json_layer<S>() -> json_subscriber::JsonLayer<S, RedactingStdout>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let mut layer = json_subscriber::JsonLayer::new(RedactingStdout::default());
    layer.with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime);
    layer.with_level("level");
    layer.with_target("target");
    layer.with_flattened_event();
    // The fields of the spans the event is in (request_id, run_id, …).
    layer.with_top_level_flattened_span_list();
    layer.add_multiple_dynamic_fields(|_event, _ctx, writer| {
        let cx = tracing::Span::current().context();
        let span = cx.span();
        let span = span.span_context();
        if span.is_valid() {
            let _ = writer.write_field("trace_id", span.trace_id().to_string());
            let _ = writer.write_field("span_id", span.span_id().to_string());
        }
    });
    layer
}
