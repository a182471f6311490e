//! The live OTLP/gRPC receiver the "on" process exports to
//! (`fake-opentelemetry-collector`, the receiver the integration tests
//! use), drained all the time so an export never waits on it, counting
//! what arrived.

use anyhow::{Result, anyhow};
use fake_opentelemetry_collector::FakeCollectorServer;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Spans received so far.
#[derive(Debug, Default)]
pub struct Received {
    all: AtomicUsize,
    /// Run spans (`run <workflow>`): one per traced run that ended.
    runs: AtomicUsize,
}

impl Received {
    pub fn all(&self) -> usize {
        self.all.load(Ordering::Acquire)
    }

    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Acquire)
    }
}

pub struct Receiver {
    pub endpoint: String,
    pub received: Arc<Received>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on 127.0.0.1 and drains whatever arrives.
    pub async fn start() -> Result<Self> {
        let mut collector = FakeCollectorServer::start()
            .await
            .map_err(|e| anyhow!("cannot start the OTLP receiver: {e}"))?;
        let endpoint = collector.endpoint();
        let received = Arc::new(Received::default());
        let counts = received.clone();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                // Its channel holds 64 spans and an export waits while it is
                // full: taking whatever is there every few ms keeps it empty.
                let spans = tokio::select! {
                    () = stopped.cancelled() => break,
                    spans = collector.exported_spans(1, Duration::from_secs(1)) => spans,
                };
                let runs = spans.iter().filter(|s| s.name.starts_with("run ")).count();
                counts.runs.fetch_add(runs, Ordering::AcqRel);
                counts.all.fetch_add(spans.len(), Ordering::AcqRel);
            }
            collector.abort();
        });
        Ok(Self {
            endpoint,
            received,
            stop,
            task,
        })
    }

    /// Waits until `runs` run spans have arrived (or `timeout`): the
    /// exporter flushes on exit, and the receiver takes a moment.
    pub async fn wait_for_runs(&self, runs: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.received.runs() < runs && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}
