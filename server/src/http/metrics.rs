//! Per-request metrics: `gantry_http_server_request_duration_seconds
//! {method,route,status}` (the OpenTelemetry HTTP server convention's
//! names) and `gantry_http_server_active_requests`. `route` is the matched
//! template (`/api/v1/runs/{id}`), never the raw path, so ids don't become
//! series; methods outside the standard set are `_OTHER`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn record(request: Request, next: Next) -> Response {
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "_OTHER".to_owned(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let active = metrics::gauge!("gantry_http_server_active_requests");
    active.increment(1.0);
    let started = Instant::now();
    let response = next.run(request).await;
    active.decrement(1.0);
    metrics::histogram!(
        "gantry_http_server_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}
