//! A worker's link to the execution API (`gantry worker --server URL
//! --token-file FILE`): leases, heartbeats, logs and reports travel over
//! HTTP with a worker token. The process holds no database credential, so
//! neither do the steps it runs.

use super::source::{Finished, Outcome, WorkSource};
use anyhow::{Context, bail};
use async_trait::async_trait;
use gantry_core::execution::{
    AttemptRef, AttemptReport, Beat, ClaimRequest, HeartbeatRequest, Lease, LogBatch, LogLine,
    SecretAccessBatch, SecretsDelivery, SecretsRequest, Settlement,
};
use gantry_core::secret::SecretAccess;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

pub struct RemoteSource {
    http: reqwest::Client,
    /// `{server}/exec/v1/`.
    base: reqwest::Url,
    token: String,
    instance: String,
}

#[derive(serde::Deserialize)]
struct BeatAnswer {
    beat: Beat,
}

impl RemoteSource {
    /// `server` is the URL `gantry serve` answers at; `instance` tells this
    /// process apart from others sharing the token (`host:pid`).
    pub fn new(server: &str, token: String, instance: String) -> anyhow::Result<Self> {
        let mut base = reqwest::Url::parse(server)
            .with_context(|| format!("--server {server:?} is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("--server must be an http:// or https:// URL");
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let base = base.join("exec/v1/").context("--server")?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("gantry-worker/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            base,
            token,
            instance,
        })
    }

    fn attempt(&self, lease: &Lease) -> AttemptRef {
        AttemptRef {
            instance: self.instance.clone(),
            run_id: lease.run_id.clone(),
            step_id: lease.step_id.clone(),
            attempt: lease.attempt,
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &B,
        timeout: Duration,
    ) -> anyhow::Result<Option<T>> {
        let url = self.base.join(endpoint)?;
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.token)
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .with_context(|| format!("execution API {endpoint}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or(text);
            bail!("execution API {endpoint}: HTTP {status}: {message}");
        }
        Ok(Some(response.json().await.with_context(|| {
            format!("execution API {endpoint}: unreadable answer")
        })?))
    }
}

/// Every call but a claim answers at once; this bounds a stuck connection.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Delivering secrets waits for the server's own fetches (each bounded by
/// its --secrets-fetch-timeout; they run concurrently).
const SECRETS_TIMEOUT: Duration = Duration::from_secs(60);

#[async_trait]
impl WorkSource for RemoteSource {
    fn owner(&self) -> &str {
        &self.instance
    }

    async fn claim(
        &self,
        limit: u32,
        wait: Duration,
        lease: Duration,
    ) -> anyhow::Result<Vec<Lease>> {
        let request = ClaimRequest {
            instance: self.instance.clone(),
            limit: limit.min(gantry_core::execution::MAX_CLAIM),
            wait_ms: u32::try_from(wait.as_millis())
                .unwrap_or(u32::MAX)
                .min(gantry_core::execution::MAX_CLAIM_WAIT_MS),
            lease_ms: u32::try_from(lease.as_millis()).unwrap_or(u32::MAX),
        };
        Ok(self
            .post("claim", &request, wait + CALL_TIMEOUT)
            .await?
            .unwrap_or_default())
    }

    async fn heartbeat(&self, lease: &Lease, duration: Duration) -> anyhow::Result<Beat> {
        let request = HeartbeatRequest {
            attempt: self.attempt(lease),
            lease_ms: u32::try_from(duration.as_millis()).unwrap_or(u32::MAX),
        };
        let answer: Option<BeatAnswer> = self.post("heartbeat", &request, CALL_TIMEOUT).await?;
        answer
            .map(|a| a.beat)
            .context("execution API heartbeat: empty answer")
    }

    async fn append_logs(&self, lease: &Lease, lines: Vec<LogLine>) -> anyhow::Result<()> {
        let batch = LogBatch {
            attempt: self.attempt(lease),
            lines,
        };
        let _: Option<serde_json::Value> = self.post("logs", &batch, CALL_TIMEOUT).await?;
        Ok(())
    }

    async fn record_secret_accesses(
        &self,
        lease: &Lease,
        accesses: Vec<SecretAccess>,
    ) -> anyhow::Result<()> {
        let batch = SecretAccessBatch {
            attempt: self.attempt(lease),
            accesses,
        };
        let _: Option<serde_json::Value> =
            self.post("secret-accesses", &batch, CALL_TIMEOUT).await?;
        Ok(())
    }

    async fn delivered_secrets(&self, lease: &Lease) -> anyhow::Result<SecretsDelivery> {
        // Values cross the network here: only over TLS or on this machine.
        let loopback = crate::runtime::net::is_loopback_host(&self.base);
        if self.base.scheme() != "https" && !loopback {
            bail!(
                "the server resolves this attempt's secrets, but --server is plain http to another \
                 machine: use https, or give this worker provider credentials of its own"
            );
        }
        let request = SecretsRequest {
            attempt: self.attempt(lease),
        };
        // Fetching may take the server up to its fetch timeout per secret.
        let delivery: Option<SecretsDelivery> =
            self.post("secrets", &request, SECRETS_TIMEOUT).await?;
        delivery.context("execution API secrets: empty answer")
    }

    async fn finish(
        &self,
        lease: &Lease,
        outcome: Outcome,
        last_lines: Vec<LogLine>,
        _next: Option<Duration>,
    ) -> anyhow::Result<Finished> {
        // Retried reports send the lines again; the store keeps each once.
        // Logs are best effort: the end is reported regardless.
        if !last_lines.is_empty()
            && let Err(e) = self.append_logs(lease, last_lines).await
        {
            tracing::warn!(error = %e, "could not store the attempt's last log lines");
        }
        let report = AttemptReport {
            attempt: self.attempt(lease),
            end: outcome.end,
            exit_code: outcome.exit_code,
            error: outcome.error,
            outputs: outcome.outputs,
        };
        let settled: Option<Settlement> = self.post("report", &report, CALL_TIMEOUT).await?;
        Ok(Finished {
            accepted: settled.is_some_and(|s| s.accepted),
            next: None,
        })
    }
}
