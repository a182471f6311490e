//! The layers every server has and no setting turns off, measured in
//! process: a handler that does nothing, alone and inside the security
//! headers (with HSTS, as on https), the CSRF check, a CORS allow-list,
//! and all three, each called through `oneshot` with a same-site POST
//! that carries the session cookie (the CSRF check's longest path) and an
//! allowed `Origin` (the CORS layer's). Rounds take the stacks in turn,
//! the order rotating; a stack's figure is the median over rounds of the
//! mean time per request, and its difference from the bare handler comes
//! with a 90 % interval from a paired bootstrap over the rounds.

use crate::stats::{Difference, paired_difference};
use anyhow::Result;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use gantry_server::http::{cors, csrf, security_headers};
use std::time::Instant;
use tower::ServiceExt;

const ORIGIN: &str = "https://gantry.example";
const SESSION_COOKIE: &str = "id";

/// One stack's figure, in ns per request.
#[derive(Debug, Clone)]
pub struct LayerRow {
    pub label: &'static str,
    pub nanos: f64,
    /// `None` for the bare handler.
    pub added: Option<Difference>,
}

#[derive(Debug, Clone)]
pub struct LayerFigures {
    pub rows: Vec<LayerRow>,
    pub requests: usize,
    pub rounds: usize,
}

fn bare() -> Router {
    Router::new().route("/api/v1/thing", post(|| async { "ok" }))
}

fn with_headers(router: Router) -> Router {
    router.layer(security_headers::layer(true))
}

fn with_csrf(router: Router) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        csrf::CsrfSettings::new(Some(ORIGIN), SESSION_COOKIE),
        csrf::same_site_writes,
    ))
}

fn with_cors(router: Router) -> Router {
    match cors::layer(&[ORIGIN.to_owned()]) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

fn stacks() -> Vec<(&'static str, Router)> {
    vec![
        ("bare handler (raw)", bare()),
        ("+ security headers and HSTS", with_headers(bare())),
        ("+ CSRF check", with_csrf(bare())),
        ("+ CORS allow-list", with_cors(bare())),
        ("+ all three", with_headers(with_csrf(with_cors(bare())))),
    ]
}

fn request() -> Request<Body> {
    Request::post("/api/v1/thing")
        .header("host", "gantry.example")
        .header("cookie", format!("{SESSION_COOKIE}=abc"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", ORIGIN)
        .body(Body::empty())
        .unwrap_or_default()
}

/// Mean ns per request of `n` requests through `router`, each answered 200.
async fn time(router: &Router, n: usize) -> Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        let resp = router.clone().oneshot(request()).await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "the layer answered {}",
            resp.status()
        );
        axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e9 / n as f64)
}

/// `requests` calls per stack in `rounds` rounds.
pub async fn measure(requests: usize, rounds: usize) -> Result<LayerFigures> {
    let stacks = stacks();
    let per_round = requests.div_ceil(rounds);
    for (_, router) in &stacks {
        time(router, per_round.min(1000)).await?;
    }
    // means[stack][round] = [ns per request], as one-value blocks.
    let mut means = vec![Vec::with_capacity(rounds); stacks.len()];
    for round in 0..rounds {
        for k in 0..stacks.len() {
            let which = (round + k) % stacks.len();
            // Kept in ms, the unit the paired bootstrap reports in.
            let ns = time(&stacks[which].1, per_round).await?;
            means[which].push(vec![ns / 1e6]);
        }
    }
    let median = |s: &[f64]| {
        let mut s = s.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let raw = &means[0];
    let rows = stacks
        .iter()
        .zip(&means)
        .enumerate()
        .map(|(i, ((label, _), side))| {
            let values: Vec<f64> = side.iter().flatten().copied().collect();
            LayerRow {
                label,
                nanos: median(&values) * 1e6,
                added: (i > 0).then(|| paired_difference(raw, side, median)),
            }
        })
        .collect();
    Ok(LayerFigures {
        rows,
        requests: per_round * rounds,
        rounds,
    })
}
