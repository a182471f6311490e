//! Spans that outlive any one process: a run's and a step's. They open in
//! one process and may close in another (a re-claim after a worker died),
//! so no `tracing` span can hold them. Their ids are derived
//! (`context.rs`), and the process that records the end emits the span
//! whole, with the times the database kept.

use super::context;
use chrono::{DateTime, Utc};
use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

static QUEUE: OnceLock<Arc<super::queue::Queue>> = OnceLock::new();

pub(super) fn install(queue: Arc<super::queue::Queue>) {
    let _ = QUEUE.set(queue);
}

/// A run that reached its final status.
pub struct RunEnd<'a> {
    pub traceparent: Option<&'a str>,
    pub run_id: &'a str,
    pub workflow: &'a str,
    pub environment: &'a str,
    pub status: &'a str,
    pub created_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// A step that reached its final status (after its last attempt).
pub struct StepEnd<'a> {
    pub traceparent: Option<&'a str>,
    pub run_id: &'a str,
    pub step_id: &'a str,
    pub status: &'a str,
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// An attempt's wait in the queue: ready until claimed.
pub struct QueueWait<'a> {
    pub traceparent: Option<&'a str>,
    pub run_id: &'a str,
    pub step_id: &'a str,
    pub attempt: u32,
    pub ready_at: DateTime<Utc>,
    pub claimed_at: DateTime<Utc>,
}

fn creator(traceparent: Option<&str>) -> Option<SpanContext> {
    QUEUE.get()?;
    let cx = context::parse(traceparent?, None)?;
    cx.is_sampled().then_some(cx)
}

pub fn run_ended(end: RunEnd<'_>) {
    let Some(creator) = creator(end.traceparent) else {
        return;
    };
    let failed = end.status != "succeeded";
    emit(Finished {
        context: context::run_span(&creator, end.run_id),
        parent: creator.span_id(),
        name: format!("run {}", end.workflow),
        start: end.created_at,
        end: end.finished_at,
        attributes: vec![
            KeyValue::new("gantry.run_id", end.run_id.to_owned()),
            KeyValue::new("gantry.workflow", end.workflow.to_owned()),
            KeyValue::new("gantry.environment", end.environment.to_owned()),
            KeyValue::new("gantry.run.status", end.status.to_owned()),
        ],
        error: failed.then(|| format!("run {}", end.status)),
    });
}

pub fn step_ended(end: StepEnd<'_>) {
    let Some(creator) = creator(end.traceparent) else {
        return;
    };
    let failed = end.status != "succeeded" && end.status != "skipped";
    emit(Finished {
        context: context::step_span(&creator, end.run_id, end.step_id),
        parent: context::run_span(&creator, end.run_id).span_id(),
        name: format!("step {}", end.step_id),
        start: end.started_at,
        end: end.finished_at,
        attributes: vec![
            KeyValue::new("gantry.run_id", end.run_id.to_owned()),
            KeyValue::new("gantry.step", end.step_id.to_owned()),
            KeyValue::new("gantry.step.status", end.status.to_owned()),
            KeyValue::new("gantry.step.attempts", i64::from(end.attempts)),
        ],
        error: failed.then(|| format!("step {}", end.status)),
    });
}

pub fn queue_waited(wait: QueueWait<'_>) {
    let Some(creator) = creator(wait.traceparent) else {
        return;
    };
    let step = context::step_span(&creator, wait.run_id, wait.step_id);
    let mut id = [0u8; 8];
    rand::Rng::fill(&mut rand::rng(), &mut id);
    emit(Finished {
        context: SpanContext::new(
            step.trace_id(),
            SpanId::from_bytes(id),
            step.trace_flags(),
            false,
            Default::default(),
        ),
        parent: step.span_id(),
        name: format!("queued (attempt {})", wait.attempt),
        start: wait.ready_at,
        end: wait.claimed_at,
        attributes: vec![
            KeyValue::new("gantry.run_id", wait.run_id.to_owned()),
            KeyValue::new("gantry.step", wait.step_id.to_owned()),
            KeyValue::new("gantry.attempt", i64::from(wait.attempt)),
        ],
        error: None,
    });
}

struct Finished {
    context: SpanContext,
    parent: SpanId,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    attributes: Vec<KeyValue>,
    error: Option<String>,
}

fn emit(span: Finished) {
    let Some(queue) = QUEUE.get() else {
        return;
    };
    let start: SystemTime = span.start.into();
    let end: SystemTime = span.end.into();
    queue.submit(SpanData {
        span_context: span.context,
        parent_span_id: span.parent,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Owned(span.name),
        start_time: start,
        end_time: end.max(start),
        attributes: span.attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: span.error.map_or(Status::Unset, Status::error),
        instrumentation_scope: InstrumentationScope::builder("gantry").build(),
    });
}
