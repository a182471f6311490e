//! The bounded hand-off between spans ending and spans being exported. The
//! SDK's batch processor already drops spans when its queue is full, but it
//! only says so in its own log; an operator needs a counter. So spans enter
//! through [`Admission`], which counts what is queued and drops (counted)
//! at the same bound, and [`CountingExporter`] counts out what left the
//! queue and what the collector refused. `gantry_telemetry_dropped_total
//! {signal="traces"}` is the sum.
//!
//! The queue is also where `finished.rs` hands over spans it rebuilds from
//! the database (a run's and a step's), so they share the bound and the
//! count.

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::{fmt, sync::Arc};

pub struct Queue {
    capacity: usize,
    queued: AtomicUsize,
    batch: OnceLock<BatchSpanProcessor>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &self.capacity)
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish()
    }
}

fn dropped(n: usize) {
    metrics::counter!("gantry_telemetry_dropped_total", "signal" => "traces").increment(n as u64);
}

impl Queue {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            queued: AtomicUsize::new(0),
            batch: OnceLock::new(),
        }
    }

    pub fn attach(&self, batch: BatchSpanProcessor) {
        // Attached once by `otlp::from_env`; a second would be a bug there.
        let _ = self.batch.set(batch);
    }

    /// Queues a finished span for export, or drops it (counted) when the
    /// queue is full. Never blocks.
    pub fn submit(&self, span: SpanData) {
        let Some(batch) = self.batch.get() else {
            return;
        };
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            dropped(1);
            return;
        }
        batch.on_end(span);
    }

    fn left(&self, n: usize) {
        // Saturating: spans the batch processor dropped on its own (never
        // more than we admitted) can't take the count below zero.
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                Some(q.saturating_sub(n))
            });
    }

    pub fn force_flush(&self) -> OTelSdkResult {
        self.batch.get().map_or(Ok(()), |b| b.force_flush())
    }

    pub fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.batch
            .get()
            .map_or(Ok(()), |b| b.shutdown_with_timeout(timeout))
    }
}

/// The provider's span processor: admits ended spans into the queue.
#[derive(Debug)]
pub struct Admission(Arc<Queue>);

impl Admission {
    pub fn new(queue: Arc<Queue>) -> Self {
        Self(queue)
    }
}

impl SpanProcessor for Admission {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.0.submit(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown(timeout)
    }

    // The exporter got the resource when it was built (`otlp.rs`).
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// The OTLP exporter, counting what leaves the queue and what is lost.
#[derive(Debug)]
pub struct CountingExporter<E> {
    inner: E,
    queue: Arc<Queue>,
}

impl<E> CountingExporter<E> {
    pub fn new(inner: E, queue: Arc<Queue>) -> Self {
        Self { inner, queue }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        self.queue.left(n);
        let result = self.inner.export(batch).await;
        if result.is_err() {
            dropped(n);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
