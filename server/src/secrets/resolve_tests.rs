//! Resolution's own rules, with in-memory providers standing in where the
//! point is timing or routing (the real providers have integration tests).

use super::*;
use async_trait::async_trait;
use gantry_core::secret::{Fetched, ProviderHealth, SecretProvider};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::sync::Arc;

/// Answers every path with `"{label}:{path}"`, or never answers.
struct Fixed {
    label: &'static str,
    hang: bool,
}

#[async_trait]
impl SecretProvider for Fixed {
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        Ok(Fetched {
            value: SecretValue::new(format!("{}:{}", self.label, request.path)).unwrap(),
            version: Some(7),
            lease: None,
            also: Vec::new(),
        })
    }

    async fn health(&self) -> ProviderHealth {
        ProviderHealth {
            reachable: true,
            authenticated: true,
            error: None,
        }
    }
}

fn step(secrets: &str) -> StepSpec {
    let yaml = format!("name: w\nsteps:\n  - id: s\n    run: \"true\"\n    secrets: {secrets}\n");
    gantry_core::spec::parse(&yaml).unwrap().steps.remove(0)
}

fn providers() -> SecretProviders {
    let mut p = SecretProviders::default().with_fetch_timeout(Duration::from_millis(300));
    p.insert(
        "kv",
        Arc::new(Fixed {
            label: "shared",
            hang: false,
        }),
    );
    p.insert_for(
        "prod",
        "kv",
        Arc::new(Fixed {
            label: "prod",
            hang: false,
        }),
    );
    p.insert(
        "slow",
        Arc::new(Fixed {
            label: "slow",
            hang: true,
        }),
    );
    p
}

#[tokio::test]
async fn an_environment_with_its_own_provider_uses_it_and_placeholders_fill_in() {
    let s = step(r#"{ A: "kv:app/{env}/{workflow}" }"#);
    let dev = resolve(&providers(), &s, "dev", "w", None).await;
    let prod = resolve(&providers(), &s, "prod", "w", None).await;
    assert!(dev.failure.is_none() && prod.failure.is_none());
    assert_eq!(dev.secrets[0].value.expose(), "shared:app/dev/w");
    assert_eq!(prod.secrets[0].value.expose(), "prod:app/prod/w");
    assert_eq!(dev.accesses[0].reference, "kv:app/dev/w");
    assert_eq!(dev.accesses[0].version, Some(7));
    assert_eq!(dev.accesses[0].outcome, "ok");
}

#[tokio::test]
async fn a_provider_that_never_answers_fails_within_the_timeout_with_a_clear_message() {
    let s = step(r#"{ A: "kv:a", B: "slow:b/{env}" }"#);
    let started = std::time::Instant::now();
    let out = resolve(&providers(), &s, "dev", "w", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        out.failure.as_deref(),
        Some("secret B (slow:b/dev): provider unreachable: no answer after 300 ms")
    );
    let outcomes: Vec<&str> = out.accesses.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["ok", "timeout"], "in the step's order");
    // What is left of the step's own timeout cuts it shorter still.
    let started = std::time::Instant::now();
    let out = resolve(
        &providers(),
        &s,
        "dev",
        "w",
        Some(Duration::from_millis(50)),
    )
    .await;
    assert!(started.elapsed() < Duration::from_millis(280));
    assert!(out.failure.unwrap().ends_with("no answer after 50 ms"));
}

#[tokio::test]
async fn an_unconfigured_provider_fails_naming_the_environment() {
    let s = step(r#"{ A: "vault:kv/data/x#k" }"#);
    let out = resolve(&providers(), &s, "stage", "w", None).await;
    assert_eq!(
        out.failure.as_deref(),
        Some(
            "secret A (vault:kv/data/x#k): no secret provider \"vault\" is configured for environment stage"
        )
    );
    assert_eq!(out.accesses[0].outcome, "not_configured");
    assert!(out.secrets.is_empty());
}

#[test]
fn every_fetch_is_counted_by_provider_and_outcome() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let s = step(r#"{ A: "kv:a", B: "kv:b", C: "slow:c" }"#);
            resolve(&providers(), &s, "dev", "w", None).await
        });
    });
    let mut counts = std::collections::BTreeMap::new();
    let mut timed = 0;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        match value {
            DebugValue::Counter(n) => {
                counts.insert(format!("{} {}", key.key().name(), labels.join(",")), n);
            }
            DebugValue::Histogram(samples) => timed += samples.len(),
            DebugValue::Gauge(_) => {}
        }
    }
    assert_eq!(counts[&format!("{FETCHES} provider=kv,outcome=ok")], 2);
    assert_eq!(
        counts[&format!("{FETCHES} provider=slow,outcome=timeout")],
        1
    );
    assert_eq!(timed, 3, "one duration per fetch");
}
