//! Streams the audit log to a SIEM or any HTTP collector: batches of records
//! as JSON lines, in sequence order, at least once. The cursor lives in the
//! database, so a restart resumes after the last acknowledged batch; a
//! lease on it means that of several processes only one sends at a time.

use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use crate::store::audit::SinkHolder;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct SinkSettings {
    pub url: reqwest::Url,
    /// Read at every request: a SIGHUP may have replaced it.
    pub token: Option<crate::secrets::own::Rotating>,
    /// Where the token is read from at start, when a reference.
    pub token_ref: Option<gantry_core::spec::SecretRef>,
    pub batch: u32,
}

/// Never prints the token, nor credentials or a query string in the URL.
impl std::fmt::Debug for SinkSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkSettings")
            .field("url", &sink_name(&self.url))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("batch", &self.batch)
            .finish()
    }
}

/// The cursor's key: scheme, host, port and path (no credentials or query,
/// which may hold secrets).
pub fn sink_name(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default(),
        url.path()
    )
}

pub const MAX_BATCH: u32 = 1000;

/// How long a sender owns the cursor without renewing it.
const LEASE: Duration = Duration::from_secs(30);
const IDLE_POLL: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Records appended but not yet acknowledged by the collector: what an
/// outage of the collector piles up (docs/observability.md).
const BACKLOG: &str = "gantry_audit_sink_backlog_records";

/// Sets [`BACKLOG`] from the chain's head and the last record delivered;
/// left as it was when the head can't be read (the next pass tries again).
async fn report_backlog(store: &SharedStore, delivered: u64) {
    if let Ok(ends) = store.audit_chain_ends().await {
        metrics::gauge!(BACKLOG).set(ends.head.seq.saturating_sub(delivered) as f64);
    }
}

/// What one pass did, for the loop's pacing.
enum Pass {
    Sent,
    Idle,
    Failed(String),
}

/// Runs until `stop`, then gives up its lease (finishing a batch in flight
/// first, so nothing acknowledged is sent twice).
pub async fn run(
    store: SharedStore,
    clock: Arc<dyn Clock>,
    settings: SinkSettings,
    owner: String,
    stop: CancellationToken,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION"), " audit-sink"))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the audit sink's HTTP client; the sink is off");
            return;
        }
    };
    let name = sink_name(&settings.url);
    let holder = SinkHolder {
        sink: &name,
        owner: &owner,
    };
    // Present from the start at 0, so `increase()` sees the first failure.
    metrics::counter!("gantry_audit_sink_failures_total").absolute(0);
    let mut backoff = Duration::from_secs(1);
    while !stop.is_cancelled() {
        let pause = match pass(&store, clock.as_ref(), &settings, &client, holder).await {
            Pass::Sent => {
                backoff = Duration::from_secs(1);
                Duration::ZERO
            }
            Pass::Idle => {
                backoff = Duration::from_secs(1);
                IDLE_POLL
            }
            Pass::Failed(why) => {
                metrics::counter!("gantry_audit_sink_failures_total").increment(1);
                tracing::warn!(sink = %name, error = %why, retry_in = ?backoff, "audit sink delivery failed");
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pause
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    if let Err(e) = store.release_audit_sink(holder).await {
        tracing::warn!(sink = %name, error = %e, "could not release the audit sink's lease; it expires by itself");
    }
}

async fn pass(
    store: &SharedStore,
    clock: &dyn Clock,
    settings: &SinkSettings,
    client: &reqwest::Client,
    holder: SinkHolder<'_>,
) -> Pass {
    let name = holder.sink;
    let now = clock.now();
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let delivered = match store.lease_audit_sink(holder, now, lease_until).await {
        Ok(Some(d)) => d,
        // Another process is sending, and reports the backlog: with ours at
        // 0, `max()` across processes is the sink's.
        Ok(None) => {
            metrics::gauge!(BACKLOG).set(0.0);
            return Pass::Idle;
        }
        Err(e) => return Pass::Failed(e.to_string()),
    };
    report_backlog(store, delivered).await;
    let records = match store.audit_records_after(delivered, settings.batch).await {
        Ok(r) if r.is_empty() => return Pass::Idle,
        Ok(r) => r,
        Err(e) => return Pass::Failed(e.to_string()),
    };
    let (first, last) = (records[0].seq, records[records.len() - 1].seq);
    if first != delivered + 1 {
        tracing::warn!(sink = %name, from = delivered + 1, to = first - 1,
            "audit records were archived before the sink delivered them; they are in the archive file");
    }
    let mut body = Vec::new();
    for r in &records {
        if serde_json::to_writer(&mut body, r).is_err() {
            return Pass::Failed("could not encode a record".into());
        }
        body.push(b'\n');
    }
    let mut request = client
        .post(settings.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
        .header("Gantry-Audit-First-Seq", first.to_string())
        .header("Gantry-Audit-Last-Seq", last.to_string())
        .body(body);
    if let Some(token) = &settings.token {
        request = request.bearer_auth(token.current().expose_secret());
    }
    match request.send().await {
        Ok(resp) if resp.status().is_success() => {}
        // The status only: a collector's error body may echo what we sent.
        Ok(resp) => return Pass::Failed(format!("the collector answered {}", resp.status())),
        Err(e) => return Pass::Failed(e.without_url().to_string()),
    }
    match store.set_audit_sink_cursor(holder, last, clock.now()).await {
        Ok(true) => {
            report_backlog(store, last).await;
            tracing::debug!(sink = %name, first, last, "audit records delivered");
            Pass::Sent
        }
        Ok(false) => {
            Pass::Failed("lost the sink's lease mid-batch; another process resends".into())
        }
        Err(e) => Pass::Failed(e.to_string()),
    }
}
