//! The OpenTelemetry trace pipeline, configured only by the standard
//! `OTEL_*` variables (what every collector's docs tell people to set):
//!
//! - on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//!   is set, off otherwise and when `OTEL_SDK_DISABLED=true` or
//!   `OTEL_TRACES_EXPORTER=none`;
//! - `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`: `http/protobuf` (default) or `grpc`;
//! - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
//!   `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT` and `OTEL_BSP_*`
//!   as the SDK reads them.
//!
//! Export runs on the batch processor's own thread behind a bounded queue
//! (`queue.rs`): a slow or absent collector costs a run nothing but the
//! spans it drops, which `gantry_telemetry_dropped_total` counts.

use super::queue::{CountingExporter, Queue};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use std::sync::Arc;

/// What `init` installs when tracing is on.
pub struct Pipeline {
    pub provider: SdkTracerProvider,
    pub tracer: opentelemetry_sdk::trace::Tracer,
    pub queue: Arc<Queue>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the environment asks for traces.
pub fn enabled() -> bool {
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
    !disabled
        && (env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some())
}

/// The pipeline the environment describes, `Ok(None)` when tracing is off,
/// `Err` naming the variable to fix. Call inside the Tokio runtime: the
/// gRPC transport needs it.
pub fn from_env() -> Result<Option<Pipeline>, String> {
    if !enabled() {
        return Ok(None);
    }
    let (variable, protocol) = match env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
        Some(p) => ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", p),
        None => (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            env("OTEL_EXPORTER_OTLP_PROTOCOL").unwrap_or_else(|| "http/protobuf".into()),
        ),
    };
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match protocol.trim() {
        "http/protobuf" => builder.with_http().build(),
        "grpc" => builder.with_tonic().build(),
        other => {
            return Err(format!(
                "{variable}={other:?} is not supported: use \"http/protobuf\" or \"grpc\""
            ));
        }
    }
    .map_err(|e| format!("the OTLP trace exporter ({variable}={protocol}): {e}"))?;

    let resource = resource();
    let config = BatchConfigBuilder::default().build();
    let capacity = queue_capacity();
    let queue = Arc::new(Queue::new(capacity));
    let mut exporter = CountingExporter::new(exporter, queue.clone());
    // The resource goes to the exporter here, once: the processor wrapper
    // shares its batch processor, so the provider can't hand it over.
    opentelemetry_sdk::trace::SpanExporter::set_resource(&mut exporter, &resource);
    let batch = BatchSpanProcessor::new(exporter, config);
    queue.attach(batch);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(super::queue::Admission::new(queue.clone()))
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("gantry");
    Ok(Some(Pipeline {
        provider,
        tracer,
        queue,
    }))
}

/// `service.name` is `gantry` unless `OTEL_SERVICE_NAME` or
/// `OTEL_RESOURCE_ATTRIBUTES` says otherwise (the SDK reads both).
fn resource() -> Resource {
    let named = env("OTEL_SERVICE_NAME").is_some()
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| {
            a.split(',')
                .any(|kv| kv.trim_start().starts_with("service.name="))
        });
    let mut builder = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if !named {
        builder = builder.with_service_name("gantry");
    }
    builder.build()
}

/// `OTEL_BSP_MAX_QUEUE_SIZE` (default 2048), as the batch processor reads
/// it: the admission count must agree with its queue.
fn queue_capacity() -> usize {
    env("OTEL_BSP_MAX_QUEUE_SIZE")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2048)
}
