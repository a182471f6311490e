//! What secrets add to a step's start: fetching a step's references from a
//! real OpenBao (the `make bench` harness starts one) through Gantry's
//! resolution (timeout, concurrency, access records' data), beside a raw
//! baseline: one plain HTTP GET of the same KV entry with the same client
//! library. Printed as p50/p99 per fetch of a whole step's secrets.

use crate::stats::Percentiles;
use anyhow::{Context, Result};
use gantry_server::secrets::SecretProviders;
use gantry_server::secrets::vault::{VaultAuth, VaultSettings};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SAMPLES: usize = 300;

pub async fn measure(dir: &std::path::Path) -> Result<()> {
    let (Ok(addr), Ok(root)) = (
        std::env::var("GANTRY_TEST_VAULT_ADDR"),
        std::env::var("GANTRY_TEST_VAULT_TOKEN"),
    ) else {
        println!(
            "secrets: no OpenBao (run under scripts/with-openbao.sh, as `make bench` does); not measured"
        );
        return Ok(());
    };
    let http = reqwest::Client::new();
    let mount = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let call = |method: reqwest::Method, path: String, body: serde_json::Value| {
        http.request(method, format!("{addr}/v1/{path}"))
            .header("X-Vault-Token", &root)
            .json(&body)
            .send()
    };
    call(
        reqwest::Method::POST,
        format!("sys/mounts/{mount}"),
        serde_json::json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await?
    .error_for_status()?;
    for name in ["a", "b", "c"] {
        call(
            reqwest::Method::POST,
            format!("{mount}/data/bench/{name}"),
            serde_json::json!({"data": {"value": format!("bench-secret-{name}")}}),
        )
        .await?
        .error_for_status()?;
    }
    let token_file = dir.join("bench-vault-token");
    std::fs::write(&token_file, &root)?;
    let settings = VaultSettings {
        addr: addr.clone(),
        auth: VaultAuth::TokenFile(token_file),
        namespace: None,
        ca_cert: None,
        timeout: Duration::from_secs(5),
        mount: None,
    };
    let mut providers = SecretProviders::default();
    providers.insert(
        "vault",
        gantry_server::secrets::vault::provider(settings)
            .await
            .map_err(anyhow::Error::msg)?,
    );
    let providers = Arc::new(providers);
    let step_with = |n: usize| -> Result<gantry_core::spec::StepSpec> {
        let refs: Vec<String> = ["a", "b", "c"][..n]
            .iter()
            .map(|k| {
                format!(
                    "S_{}: \"vault:{mount}/data/bench/{k}#value\"",
                    k.to_uppercase()
                )
            })
            .collect();
        let yaml = format!(
            "name: w\nsteps:\n  - id: s\n    run: \"true\"\n    secrets: {{ {} }}\n",
            refs.join(", ")
        );
        let mut spec = gantry_core::spec::parse(&yaml).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(spec.steps.remove(0))
    };
    // Raw: the same entry, one request, no Gantry.
    let mut raw = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let answer: serde_json::Value = http
            .get(format!("{addr}/v1/{mount}/data/bench/a"))
            .header("X-Vault-Token", &root)
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["data"]["data"]["value"].is_string());
        raw.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let raw = Percentiles::of(&raw);
    println!(
        "secrets: raw KV v2 read (one HTTP GET)            p50 {:.2} ms  p99 {:.2} ms",
        raw.p50, raw.p99
    );
    for n in [1, 3] {
        let step = step_with(n)?;
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let started = Instant::now();
            let fetched =
                gantry_server::secrets::resolve(&providers, &step, "dev", "w", None).await;
            anyhow::ensure!(fetched.failure.is_none(), "{:?}", fetched.failure);
            fetched.masker().context("masker")?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let p = Percentiles::of(&samples);
        println!(
            "secrets: a step's {n} vault reference(s), fetched + masker built  p50 {:.2} ms  p99 {:.2} ms ({:.1}x raw p50)",
            p.p50,
            p.p99,
            p.p50 / raw.p50
        );
    }
    Ok(())
}
