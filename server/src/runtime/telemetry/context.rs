//! Trace context that outlives a process. A run's trace is continued by
//! whichever process touches the run next (the scheduler, a worker in
//! `serve`, a remote worker after a re-claim), so nothing here may depend
//! on a span still being open in memory:
//!
//! - the run stores the W3C `traceparent` of the span that created it (the
//!   API request, the schedule tick);
//! - the run's own span and each step's span get ids derived from the run
//!   id (and step id), so every process computes the same parent for the
//!   attempts it runs, and the process that ends a run or step can emit its
//!   span afterwards with the right ids and times (`finished.rs`).

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C `traceparent` of a span context (`00-TRACE-SPAN-FLAGS`).
pub fn traceparent(cx: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        cx.trace_id(),
        cx.span_id(),
        cx.trace_flags().to_u8()
    )
}

/// A remote span context from a `traceparent` (and `tracestate`), `None`
/// when malformed or all-zero (the W3C rules, through OpenTelemetry's own
/// propagator).
pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut carrier = HashMap::with_capacity(2);
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    if let Some(state) = tracestate {
        carrier.insert("tracestate".to_owned(), state.to_owned());
    }
    let cx = TraceContextPropagator::new().extract(&carrier);
    let span = cx.span().span_context().clone();
    span.is_valid().then_some(span)
}

/// The `traceparent` of the span the caller is in, when tracing is on and
/// that span is recorded into a valid trace.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let span = cx.span().span_context().clone();
    span.is_valid().then(|| traceparent(&span))
}

/// The context of the span the caller is in, for a child span's parent.
pub fn current_span_context() -> Option<SpanContext> {
    let cx = tracing::Span::current().context();
    let span = cx.span().span_context().clone();
    span.is_valid().then_some(span)
}

/// A remote parent for `tracing` spans (`set_parent`).
pub fn as_parent(span: &SpanContext) -> Context {
    Context::new().with_remote_span_context(span.clone())
}

/// The run span's context: the creating span's trace and sampling, an id of
/// its own derived from the run id.
pub fn run_span(creator: &SpanContext, run_id: &str) -> SpanContext {
    derived(creator, &["run", run_id])
}

/// A step's span context (child of the run span), derived the same way.
pub fn step_span(creator: &SpanContext, run_id: &str, step_id: &str) -> SpanContext {
    derived(creator, &["step", run_id, step_id])
}

fn derived(creator: &SpanContext, parts: &[&str]) -> SpanContext {
    let mut hash = Sha256::new();
    hash.update(creator.trace_id().to_bytes());
    for part in parts {
        // Length-prefixed: ("ab","c") and ("a","bc") stay apart.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    // An all-zero id is invalid in W3C; one bit set keeps it valid.
    if id == [0; 8] {
        id[7] = 1;
    }
    SpanContext::new(
        creator.trace_id(),
        SpanId::from_bytes(id),
        creator.trace_flags() & TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    )
}

/// A trace id as the dashboard and logs print it (32 hex digits).
pub fn trace_id_of(traceparent: &str) -> Option<TraceId> {
    parse(traceparent, None).map(|cx| cx.trace_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_round_trips() {
        let cx = parse(PARENT, None).unwrap();
        assert_eq!(traceparent(&cx), PARENT);
        assert!(cx.is_sampled());
    }

    #[test]
    fn malformed_or_zero_contexts_are_refused() {
        assert!(parse("garbage", None).is_none());
        assert!(
            parse(
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                None
            )
            .is_none()
        );
        assert!(
            parse(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                None
            )
            .is_none()
        );
    }

    #[test]
    fn derived_spans_are_stable_distinct_and_in_the_creators_trace() {
        let creator = parse(PARENT, None).unwrap();
        let run = run_span(&creator, "r1");
        assert_eq!(
            run,
            run_span(&creator, "r1"),
            "any process computes the same id"
        );
        assert_eq!(run.trace_id(), creator.trace_id());
        assert!(run.is_sampled());
        let a = step_span(&creator, "r1", "build");
        let b = step_span(&creator, "r1", "test");
        assert_ne!(a.span_id(), b.span_id());
        assert_ne!(a.span_id(), run.span_id());
        assert_ne!(
            step_span(&creator, "r1b", "uild").span_id(),
            step_span(&creator, "r1", "build").span_id()
        );
    }

    #[test]
    fn an_unsampled_creator_gives_unsampled_children() {
        let creator = parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            None,
        )
        .unwrap();
        assert!(!step_span(&creator, "r", "s").is_sampled());
    }
}
