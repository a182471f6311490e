//! Each request's span and its access-log line.
//!
//! The span (`make_span`, outermost) continues the caller's trace when the
//! request carries a W3C `traceparent`, and carries `request_id` (and
//! `user`, once known) into every log line written while answering. Its
//! OpenTelemetry name and `http.route` are filled in once the router has
//! matched a template (`observe`, a route layer), following the HTTP
//! server semantic conventions.
//!
//! The access log: errors (status ≥ 400) are always written; successful
//! requests are sampled per route at `--log-request-sample` (1 writes every
//! one, 0.1 one in ten per route, 0 none), since pollers and dashboards
//! would otherwise drown the lines that matter.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// One in `SAMPLE_EVERY` successful requests per route is logged.
static SAMPLE_EVERY: AtomicU32 = AtomicU32::new(1);
static SEEN: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Mutex::default);

/// Sets the share of successful requests logged (0 to 1).
pub fn set_sample_rate(rate: f64) {
    let every = if rate <= 0.0 {
        0
    } else {
        (1.0 / rate.min(1.0))
            .round()
            .clamp(1.0, f64::from(u32::MAX)) as u32
    };
    SAMPLE_EVERY.store(every, Ordering::Relaxed);
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The request's span, a child of the caller's `traceparent` if it sent one.
pub fn make_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        otel.name = %req.method(),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %req.method(),
        url.path = %req.uri().path(),
        http.route = Empty,
        http.response.status_code = Empty,
        request_id,
        user = Empty,
    );
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(req.headers())));
    let _ = span.set_parent(parent);
    span
}

/// The request's own span, kept with the request: by the time the router
/// has matched a route, middleware (the session layer) may have entered
/// spans of its own.
#[derive(Clone)]
struct RequestSpan(tracing::Span);

/// Keeps the request span (runs inside it, right after `make_span`).
pub async fn remember(mut request: Request, next: Next) -> Response {
    request
        .extensions_mut()
        .insert(RequestSpan(tracing::Span::current()));
    next.run(request).await
}

/// Names the span after the matched route, records the status, and writes
/// the (sampled) access-log line.
pub async fn observe(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = request
        .extensions()
        .get::<RequestSpan>()
        .map_or_else(tracing::Span::current, |s| s.0.clone());
    // Recorded for the log lines; and once something has asked for the
    // span's context (the audit's trace id, a run's traceparent) the
    // OpenTelemetry span has started and takes a new name only through its
    // own API.
    let name = format!("{method} {route}");
    span.record("otel.name", name.as_str());
    span.context().span().update_name(name);
    span.record("http.route", route.as_str());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        span.record("otel.status_code", "error");
        tracing::warn!(%method, %route, status, ms, "request failed");
    } else if status >= 400 {
        tracing::info!(%method, %route, status, ms, "request refused");
    } else if sampled(&route) {
        tracing::info!(%method, %route, status, ms, "request");
    }
    response
}

fn sampled(route: &str) -> bool {
    let every = SAMPLE_EVERY.load(Ordering::Relaxed);
    if every == 0 {
        return false;
    }
    if every == 1 {
        return true;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let n = seen.entry(route.to_owned()).or_insert(0);
    *n += 1;
    (*n - 1).is_multiple_of(u64::from(every))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_one_in_n_per_route_and_the_first_of_each() {
        set_sample_rate(0.25);
        let kept_a = (0..8).filter(|_| sampled("/sample-test/a")).count();
        let kept_b = (0..3).filter(|_| sampled("/sample-test/b")).count();
        assert_eq!(kept_a, 2);
        assert_eq!(kept_b, 1, "a rare route still shows up");
        set_sample_rate(0.0);
        assert!(!sampled("/sample-test/c"));
        set_sample_rate(1.0);
        assert!(sampled("/sample-test/c"));
    }
}
