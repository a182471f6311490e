//! The rules the evaluator judges, made through the port as an admin: one
//! of each kind an installation would have, most of them over every
//! workflow, all sending to one webhook channel on a loopback receiver
//! that answers 200 (notifications are written to the outbox by the
//! pass; delivering them is not part of it and is not measured).

use super::seed::CHANNEL;
use crate::harness::Engine;
use anyhow::{Context, Result};
use gantry_core::alert::{ChannelSpec, RuleSpec};
use gantry_core::port::AlertPort;
use serde_json::{Value, json};

/// A receiver on loopback that accepts every notification (200).
pub async fn receiver() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app =
        axum::Router::new().route("/", axum::routing::post(|| async { http::StatusCode::OK }));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "alert receiver stopped");
        }
    });
    Ok(format!("http://{addr}/"))
}

/// The webhook channel, to `url`.
pub async fn channel(engine: &Engine, url: &str) -> Result<()> {
    let (plane, ctx) = engine.port();
    let spec: ChannelSpec =
        serde_json::from_value(json!({ "name": CHANNEL, "kind": "webhook", "url": url }))?;
    plane
        .create_alert_channel(ctx, spec)
        .await
        .context("creating the webhook channel")?;
    Ok(())
}

/// The installation-wide rules (the workflows' own come with their specs).
pub fn specs() -> Vec<Value> {
    vec![
        json!({ "name": "three-failures", "kind": "consecutive_failures", "threshold": 3,
                "workflow": "*", "resolve_after": 2 }),
        json!({ "name": "data-two-failures", "kind": "consecutive_failures", "threshold": 2,
                "labels": { "team": "data" } }),
        json!({ "name": "failure-ratio-1h", "kind": "failure_ratio", "ratio": 0.5,
                "min_runs": 3, "window": "1h", "resolve_ratio": 0.2 }),
        json!({ "name": "run-too-long", "kind": "run_too_long", "max_duration": "2h" }),
        json!({ "name": "missed-schedule", "kind": "missed_schedule", "grace": "10m" }),
        json!({ "name": "queue-backlog", "kind": "queue_backlog", "max_depth": 1000,
                "max_oldest_age": "10m", "for_duration": "5m" }),
        json!({ "name": "sign-in-failures", "kind": "auth_failures", "max_failures": 5,
                "window": "15m", "per_source": true }),
        json!({ "name": "privilege-escalation", "kind": "privilege_escalation" }),
    ]
    .into_iter()
    .map(|mut r| {
        r["channels"] = json!([CHANNEL]);
        r
    })
    .collect()
}

pub fn parse(spec: Value) -> Result<RuleSpec> {
    serde_json::from_value(spec).context("a benchmark rule does not parse")
}

/// Creates [`specs`] through the port; how many.
pub async fn create(engine: &Engine) -> Result<usize> {
    let (plane, ctx) = engine.port();
    let specs = specs();
    for spec in &specs {
        plane
            .create_alert_rule(ctx, parse(spec.clone())?)
            .await
            .with_context(|| format!("creating rule {}", spec["name"]))?;
    }
    Ok(specs.len())
}

/// The backtested rule: three failures in a row, every workflow.
pub fn backtested() -> Result<RuleSpec> {
    parse(
        json!({ "name": "backtest-three-failures", "kind": "consecutive_failures",
                  "threshold": 3, "workflow": "*", "resolve_after": 2 }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_are_valid_and_cover_every_kind_but_slo_burn() {
        let rules: Vec<RuleSpec> = specs()
            .into_iter()
            .chain([serde_json::to_value(backtested().unwrap()).unwrap()])
            .map(|s| parse(s).unwrap())
            .collect();
        for r in &rules {
            assert!(r.validate().is_empty(), "{}: {:?}", r.name, r.validate());
        }
        let mut kinds: Vec<&str> = rules.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), 7, "{kinds:?}");
    }
}
