//! What the engine is given to run: generated workflow specs (independent
//! fan-outs, sequential chains) and the local HTTP endpoint the HTTP steps
//! call.

use anyhow::Result;
use serde_json::json;

/// `steps` independent copies of `step`.
pub fn fanout_spec(name: &str, steps: usize, step: &serde_json::Value) -> serde_json::Value {
    let steps: Vec<_> = (1..=steps)
        .map(|i| {
            let mut s = step.clone();
            s["id"] = json!(format!("s{i:03}"));
            s
        })
        .collect();
    json!({ "name": name, "steps": steps })
}

/// `steps` no-op shell steps, each needing the one before.
pub fn chain_spec(name: &str, steps: usize) -> serde_json::Value {
    let steps: Vec<_> = (1..=steps)
        .map(|i| {
            let mut s = json!({ "id": format!("s{i:03}"), "run": "true" });
            if i > 1 {
                s["needs"] = json!([format!("s{:03}", i - 1)]);
            }
            s
        })
        .collect();
    json!({ "name": name, "steps": steps })
}

/// A no-op shell step.
pub fn shell_step() -> serde_json::Value {
    json!({ "run": "true" })
}

/// A local HTTP endpoint answering 204 at once: the cheapest step there is.
pub async fn noop_http_server() -> Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "no-op HTTP server stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_specs_are_valid() {
        for spec in [
            fanout_spec("bench-shell-1", 10, &json!({ "run": "true" })),
            fanout_spec(
                "bench-http-1",
                3,
                &json!({ "http": { "method": "GET", "url": "http://127.0.0.1:9/" } }),
            ),
            chain_spec("bench-chain", 40),
        ] {
            gantry_core::spec::parse(&spec.to_string()).unwrap_or_else(|e| panic!("{spec}: {e}"));
        }
    }
}
